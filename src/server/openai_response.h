#pragma once
// The JSON the API answers with, in OpenAI's shapes: whole responses, streamed chunks (server-sent
// events), logprobs, usage, the model list and error bodies. Only formatting: no I/O, no engine.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api_error.h"
#include "sambay/engine/request.h"
#include "sambay/text/tokenizer.h"

namespace sambay::server {

// What every response object of one request repeats.
struct ResponseHeader {
  std::string id;  // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
};

// One generated token's logprob with the token as text. `token` is the token's bytes with broken
// UTF-8 repaired (a token may hold part of a character); `bytes` are the exact bytes.
struct TokenLogprobText {
  std::string token;
  std::string bytes;
  float logprob = 0;
};
struct LogprobEntry {
  TokenLogprobText chosen;
  std::vector<TokenLogprobText> top;
};
LogprobEntry logprob_entry(const Tokenizer& tokenizer, const TokenEvent& event);

// Chat: {"content": [{token, logprob, bytes, top_logprobs: [...]}, ...]}.
nlohmann::json chat_logprobs(std::span<const LogprobEntry> entries);
// Completions: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}; the offsets
// (bytes into the generated text where each token's text starts) are given by the caller.
nlohmann::json completion_logprobs(std::span<const LogprobEntry> entries, std::span<const size_t> text_offsets);

nlohmann::json usage_json(int prompt_tokens, int completion_tokens);
// The engine's finish reason as the API names it ("cancelled" becomes vLLM's "abort").
std::string api_finish_reason(const std::string& engine_reason);

// Non-streamed responses. `reasoning` is null when the output had no reasoning block.
nlohmann::json chat_completion(const ResponseHeader& h, const std::optional<std::string>& reasoning,
                               const std::string& content, const std::string& finish_reason,
                               nlohmann::json logprobs, nlohmann::json usage);
nlohmann::json text_completion(const ResponseHeader& h, const std::string& text, const std::string& finish_reason,
                               nlohmann::json logprobs, nlohmann::json usage);

// Streamed chunks. `finish_reason` empty: null (more to come). With include_usage every chunk
// carries "usage": null and a last chunk (no choices) carries the counts.
nlohmann::json chat_chunk(const ResponseHeader& h, nlohmann::json delta, nlohmann::json logprobs,
                          const std::string& finish_reason, bool include_usage);
nlohmann::json completion_chunk(const ResponseHeader& h, const std::string& text, nlohmann::json logprobs,
                                const std::string& finish_reason, bool include_usage);
nlohmann::json usage_chunk(const ResponseHeader& h, const char* object, nlohmann::json usage);

// JSON text, with any invalid UTF-8 replaced rather than thrown on.
std::string dump(const nlohmann::json& j);
// One server-sent event: "data: <json>\n\n".
std::string sse_event(const nlohmann::json& j);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

nlohmann::json error_body(const ApiError& e);
nlohmann::json model_list(const std::string& name, int64_t created);

}  // namespace sambay::server
