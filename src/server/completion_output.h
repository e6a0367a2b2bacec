#pragma once
// Turns one request's engine events into what the client receives: server-sent events as tokens
// arrive (streaming), or one response object at the end. Chat output is split into
// reasoning_content (the <think> block) and content; logprobs carry token strings.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "openai_request.h"
#include "openai_response.h"
#include "sambay/engine/request.h"
#include "sambay/text/reasoning.h"
#include "sambay/text/tokenizer.h"

namespace sambay::server {

struct OutputOptions {
  Endpoint endpoint = Endpoint::kChat;
  bool starts_in_reasoning = false;  // chat: the prompt opened the <think> block
  int logprobs = -1;                 // -1: none
  bool include_usage = false;        // streaming: a last chunk with usage
};

class CompletionOutput {
 public:
  CompletionOutput(ResponseHeader header, const Tokenizer& tokenizer, OutputOptions options);

  // Streaming: the events to send (possibly none), then after the finish event the last chunks and
  // "data: [DONE]". An engine error is sent as an {"error": ...} event.
  std::string stream_start();
  std::string stream_token(const TokenEvent& token);
  std::string stream_finish(const FinishEvent& finish);

  // Non-streaming: collects tokens; the response object at the end.
  void add(const TokenEvent& token);
  nlohmann::json response(const FinishEvent& finish);

 private:
  nlohmann::json logprobs_of(const LogprobEntry& entry, size_t offset) const;
  std::string content_chunk(const std::string& reasoning, const std::string& content, nlohmann::json logprobs);

  ResponseHeader header_;
  const Tokenizer& tokenizer_;
  OutputOptions options_;
  ReasoningSplitter splitter_;
  std::string text_;  // all generated text so far
  std::vector<LogprobEntry> logprobs_;
  std::vector<size_t> offsets_;  // completions: where each token's text starts in text_
};

}  // namespace sambay::server
