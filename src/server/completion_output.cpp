#include "completion_output.h"

namespace sambay::server {

using nlohmann::json;

namespace {

ReasoningOptions reasoning_options(const OutputOptions& o) {
  ReasoningOptions r;
  r.starts_in_reasoning = o.starts_in_reasoning;
  return r;
}

}  // namespace

CompletionOutput::CompletionOutput(ResponseHeader header, const Tokenizer& tokenizer, OutputOptions options)
    : header_(std::move(header)), tokenizer_(tokenizer), options_(options), splitter_(reasoning_options(options)) {}

json CompletionOutput::logprobs_of(const LogprobEntry& entry, size_t offset) const {
  if (options_.endpoint == Endpoint::kChat) return chat_logprobs(std::span(&entry, 1));
  return completion_logprobs(std::span(&entry, 1), std::span(&offset, 1));
}

std::string CompletionOutput::content_chunk(const std::string& reasoning, const std::string& content, json logprobs) {
  if (options_.endpoint == Endpoint::kCompletions)
    return sse_event(completion_chunk(header_, content, std::move(logprobs), "", options_.include_usage));
  json delta = json::object();
  if (!reasoning.empty()) delta["reasoning_content"] = reasoning;
  if (!content.empty() || reasoning.empty()) delta["content"] = content;
  return sse_event(chat_chunk(header_, std::move(delta), std::move(logprobs), "", options_.include_usage));
}

std::string CompletionOutput::stream_start() {
  if (options_.endpoint != Endpoint::kChat) return {};
  return sse_event(chat_chunk(header_, {{"role", "assistant"}, {"content", ""}}, nullptr, "", options_.include_usage));
}

std::string CompletionOutput::stream_token(const TokenEvent& token) {
  const size_t offset = text_.size();
  text_ += token.text;
  json logprobs;
  if (options_.logprobs >= 0) logprobs = logprobs_of(logprob_entry(tokenizer_, token), offset);
  std::string reasoning, content;
  if (options_.endpoint == Endpoint::kChat) {
    auto parts = splitter_.push(token.text);
    reasoning = std::move(parts.reasoning);
    content = std::move(parts.content);
  } else {
    content = token.text;
  }
  // A token whose text is held back (part of a character, tag or stop string) sends nothing,
  // unless its logprob must be reported.
  if (reasoning.empty() && content.empty() && logprobs.is_null()) return {};
  return content_chunk(reasoning, content, std::move(logprobs));
}

std::string CompletionOutput::stream_finish(const FinishEvent& finish) {
  std::string out;
  if (finish.finish_reason == "error") {
    const ApiError e(500, finish.error.empty() ? "generation failed" : finish.error, "server_error");
    out += sse_event(error_body(e));
    out += kSseDone;
    return out;
  }
  if (options_.endpoint == Endpoint::kChat) {
    const auto rest = splitter_.finish();
    if (!rest.reasoning.empty() || !rest.content.empty()) out += content_chunk(rest.reasoning, rest.content, nullptr);
    out += sse_event(chat_chunk(header_, json::object(), nullptr, api_finish_reason(finish.finish_reason),
                                options_.include_usage));
  } else {
    out += sse_event(
        completion_chunk(header_, "", nullptr, api_finish_reason(finish.finish_reason), options_.include_usage));
  }
  if (options_.include_usage) {
    const char* object = options_.endpoint == Endpoint::kChat ? "chat.completion.chunk" : "text_completion";
    out += sse_event(usage_chunk(header_, object, usage_json(finish.prompt_tokens, finish.completion_tokens)));
  }
  out += kSseDone;
  return out;
}

void CompletionOutput::add(const TokenEvent& token) {
  if (options_.logprobs >= 0) {
    logprobs_.push_back(logprob_entry(tokenizer_, token));
    offsets_.push_back(text_.size());
  }
  text_ += token.text;
}

json CompletionOutput::response(const FinishEvent& finish) {
  const std::string reason = api_finish_reason(finish.finish_reason);
  json usage = usage_json(finish.prompt_tokens, finish.completion_tokens);
  if (options_.endpoint == Endpoint::kCompletions) {
    json logprobs = options_.logprobs >= 0 ? completion_logprobs(logprobs_, offsets_) : json(nullptr);
    return text_completion(header_, text_, reason, std::move(logprobs), std::move(usage));
  }
  const auto parts = split_reasoning(text_, reasoning_options(options_));
  // Without a <think> block there is no reasoning: null, as vLLM reports it.
  std::optional<std::string> reasoning;
  if (!parts.reasoning.empty()) reasoning = parts.reasoning;
  json logprobs = options_.logprobs >= 0 ? chat_logprobs(logprobs_) : json(nullptr);
  return chat_completion(header_, reasoning, parts.content, reason, std::move(logprobs), std::move(usage));
}

}  // namespace sambay::server
