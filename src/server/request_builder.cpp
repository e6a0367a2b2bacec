#include "request_builder.h"

#include <random>

#include "api_error.h"
#include "sambay/base/error.h"
#include "sambay/text/reasoning.h"

namespace sambay::server {

BuiltRequest build_request(const OpenAIRequest& r, const TextModel& text, const BuildOptions& o) {
  BuiltRequest out;
  GenerationRequest& g = out.generation;
  const bool chat = r.endpoint == Endpoint::kChat;
  const std::string prompt_field = chat ? "messages" : "prompt";

  if (chat) {
    try {
      g.prompt = text.encode_chat(r.messages, true, o.match_special_in_content);
    } catch (const Error& e) {  // the template refused the conversation (raise_exception, bounds)
      invalid_field("messages", "the chat template cannot render these messages: {}", e.what());
    }
    // Reasoning models whose template ends the prompt with "<think>" start inside the block.
    const size_t tail = std::min<size_t>(g.prompt.size(), 4);
    out.starts_in_reasoning = prompt_opens_reasoning(
        text.tokenizer.decode(std::span(g.prompt).subspan(g.prompt.size() - tail)));
  } else if (r.prompt_is_ids) {
    for (size_t i = 0; i < r.prompt_ids.size(); ++i)
      if (r.prompt_ids[i] >= o.vocab_size)
        invalid_field("prompt", "token id {} at prompt[{}] is outside the vocabulary (size {})", r.prompt_ids[i], i,
                      o.vocab_size);
    g.prompt = r.prompt_ids;
  } else {
    g.prompt = text.tokenizer.encode(r.prompt_text);
  }
  if (g.prompt.empty()) invalid_field(prompt_field, "the prompt is empty");

  const int64_t prompt_tokens = static_cast<int64_t>(g.prompt.size());
  const int64_t room = o.context_length - prompt_tokens;  // positions left for generated tokens
  if (room < 1) {
    throw ApiError(400,
                   fmt::format("This model's maximum context length is {} tokens. However, your {} resulted in {} "
                               "tokens. Please reduce the length of the {}.",
                               o.context_length, prompt_field, prompt_tokens, prompt_field),
                   "invalid_request_error", prompt_field, "context_length_exceeded");
  }
  const std::string max_field = chat ? "max_completion_tokens" : "max_tokens";
  if (r.max_tokens && *r.max_tokens > room) {
    throw ApiError(400,
                   fmt::format("This model's maximum context length is {} tokens. However, you requested {} tokens "
                               "({} in the {}, {} for the completion). Please reduce the length of the {} or the "
                               "completion.",
                               o.context_length, prompt_tokens + *r.max_tokens, prompt_tokens, prompt_field,
                               *r.max_tokens, prompt_field),
                   "invalid_request_error", "max_tokens", "context_length_exceeded");
  }
  g.stop.max_tokens = r.max_tokens ? *r.max_tokens : static_cast<int>(std::min<int64_t>(room, INT32_MAX));
  if (r.min_tokens > g.stop.max_tokens)
    invalid_field("min_tokens", "'min_tokens' ({}) exceeds the tokens the context leaves ({})", r.min_tokens,
                  g.stop.max_tokens);
  g.stop.eos_ids = text.defaults.eos_ids;
  g.stop.stop_strings = r.stop;
  g.stop.ignore_eos = r.ignore_eos;
  g.min_tokens = r.min_tokens;
  g.logprobs = r.logprobs;

  SamplingParams& p = g.sampling;
  p = text.defaults.sampling;
  if (r.temperature) p.temperature = *r.temperature;
  if (r.top_p) p.top_p = *r.top_p;
  if (r.top_k) p.top_k = *r.top_k;
  if (r.min_p) p.min_p = *r.min_p;
  if (r.presence_penalty) p.presence_penalty = *r.presence_penalty;
  if (r.frequency_penalty) p.frequency_penalty = *r.frequency_penalty;
  if (r.repetition_penalty) p.repetition_penalty = *r.repetition_penalty;
  if (r.seed) {
    p.seed = *r.seed;
  } else {  // without a seed every request samples differently, as OpenAI's do
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    p.seed = rng();
  }
  try {
    p.validate();
  } catch (const Error& e) {
    throw ApiError(400, e.what(), "invalid_request_error");
  }
  return out;
}

}  // namespace sambay::server
