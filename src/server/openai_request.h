#pragma once
// The body of POST /v1/chat/completions and /v1/completions, checked field by field. Parsing needs
// no model: what depends on the tokenizer and the context length (prompt length, max_tokens
// against the context) is checked when the request is built for the engine (request_builder.h).
// Every error is an ApiError naming the field at fault (e.g. "messages[1].role", "temperature").
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sambay::server {

enum class Endpoint { kChat, kCompletions };

struct OpenAIRequest {
  Endpoint endpoint = Endpoint::kChat;
  std::string model;  // empty when the client named none

  // The prompt: chat messages, or (completions) text or token ids.
  nlohmann::json messages;  // chat: [{role, content: string}] with content parts already joined
  std::string prompt_text;
  std::vector<int32_t> prompt_ids;
  bool prompt_is_ids = false;

  std::optional<int> max_tokens;  // chat: max_completion_tokens, else max_tokens
  std::vector<std::string> stop;
  // Sampling fields the client set; the rest come from the model folder's defaults.
  std::optional<float> temperature, top_p, min_p, presence_penalty, frequency_penalty, repetition_penalty;
  std::optional<int> top_k;  // 0: off (-1 is accepted as off too, as vLLM does)
  std::optional<uint64_t> seed;

  // -1: no logprobs; n >= 0: each token's logprob and n alternatives. Chat: logprobs=true with
  // top_logprobs (default 0); completions: the integer logprobs.
  int logprobs = -1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with usage
  bool ignore_eos = false;     // extension (vLLM): generate past end-of-sequence tokens
  int min_tokens = 0;          // extension (vLLM): end-of-sequence ids are masked before this many tokens
};

inline constexpr int kMaxLogprobs = 20;
inline constexpr int kMaxStopStrings = 16;

// Parses and checks a request body (JSON text; invalid UTF-8 and malformed JSON are errors).
OpenAIRequest parse_request(Endpoint endpoint, std::string_view body);
// The same from parsed JSON.
OpenAIRequest parse_request_json(Endpoint endpoint, const nlohmann::json& body);

}  // namespace sambay::server
