#include "openai_response.h"

#include "sambay/text/utf8.h"

namespace sambay::server {

using nlohmann::json;

namespace {

TokenLogprobText token_text(const Tokenizer& tokenizer, int32_t id, float logprob) {
  const std::string_view bytes = tokenizer.token_bytes(id);
  return {utf8::to_lossy(bytes), std::string(bytes), logprob};
}

json byte_array(const std::string& bytes) {
  json a = json::array();
  for (unsigned char c : bytes) a.push_back(static_cast<int>(c));
  return a;
}

json header_object(const ResponseHeader& h, const char* object) {
  return {{"id", h.id}, {"object", object}, {"created", h.created}, {"model", h.model}};
}

json null_or(json j) { return j.is_null() ? json(nullptr) : std::move(j); }

}  // namespace

LogprobEntry logprob_entry(const Tokenizer& tokenizer, const TokenEvent& event) {
  LogprobEntry e{token_text(tokenizer, event.token, event.logprob), {}};
  for (const TokenLogprob& t : event.top) e.top.push_back(token_text(tokenizer, t.token, t.logprob));
  return e;
}

json chat_logprobs(std::span<const LogprobEntry> entries) {
  json content = json::array();
  for (const LogprobEntry& e : entries) {
    json top = json::array();
    for (const auto& t : e.top)
      top.push_back({{"token", t.token}, {"logprob", t.logprob}, {"bytes", byte_array(t.bytes)}});
    content.push_back({{"token", e.chosen.token},
                       {"logprob", e.chosen.logprob},
                       {"bytes", byte_array(e.chosen.bytes)},
                       {"top_logprobs", std::move(top)}});
  }
  return {{"content", std::move(content)}};
}

json completion_logprobs(std::span<const LogprobEntry> entries, std::span<const size_t> text_offsets) {
  json tokens = json::array(), token_logprobs = json::array(), top = json::array(), offsets = json::array();
  for (size_t i = 0; i < entries.size(); ++i) {
    const LogprobEntry& e = entries[i];
    tokens.push_back(e.chosen.token);
    token_logprobs.push_back(e.chosen.logprob);
    json alternatives = json::object();
    for (const auto& t : e.top) {
      // Two alternatives may repair to the same text; the more likely (listed first) is kept.
      if (!alternatives.contains(t.token)) alternatives[t.token] = t.logprob;
    }
    top.push_back(std::move(alternatives));
    offsets.push_back(i < text_offsets.size() ? text_offsets[i] : 0);
  }
  return {{"tokens", std::move(tokens)},
          {"token_logprobs", std::move(token_logprobs)},
          {"top_logprobs", std::move(top)},
          {"text_offset", std::move(offsets)}};
}

json usage_json(int prompt_tokens, int completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

std::string api_finish_reason(const std::string& engine_reason) {
  return engine_reason == "cancelled" ? "abort" : engine_reason;
}

json chat_completion(const ResponseHeader& h, const std::optional<std::string>& reasoning, const std::string& content,
                     const std::string& finish_reason, json logprobs, json usage) {
  json message = {{"role", "assistant"},
                  {"content", content},
                  {"reasoning_content", reasoning ? json(*reasoning) : json(nullptr)}};
  json r = header_object(h, "chat.completion");
  r["choices"] = json::array({{{"index", 0},
                               {"message", std::move(message)},
                               {"logprobs", null_or(std::move(logprobs))},
                               {"finish_reason", finish_reason}}});
  r["usage"] = std::move(usage);
  return r;
}

json text_completion(const ResponseHeader& h, const std::string& text, const std::string& finish_reason, json logprobs,
                     json usage) {
  json r = header_object(h, "text_completion");
  r["choices"] = json::array(
      {{{"index", 0}, {"text", text}, {"logprobs", null_or(std::move(logprobs))}, {"finish_reason", finish_reason}}});
  r["usage"] = std::move(usage);
  return r;
}

json chat_chunk(const ResponseHeader& h, json delta, json logprobs, const std::string& finish_reason,
                bool include_usage) {
  json r = header_object(h, "chat.completion.chunk");
  r["choices"] = json::array({{{"index", 0},
                               {"delta", std::move(delta)},
                               {"logprobs", null_or(std::move(logprobs))},
                               {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}}});
  if (include_usage) r["usage"] = nullptr;
  return r;
}

json completion_chunk(const ResponseHeader& h, const std::string& text, json logprobs, const std::string& finish_reason,
                      bool include_usage) {
  json r = header_object(h, "text_completion");
  r["choices"] = json::array({{{"index", 0},
                               {"text", text},
                               {"logprobs", null_or(std::move(logprobs))},
                               {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}}});
  if (include_usage) r["usage"] = nullptr;
  return r;
}

json usage_chunk(const ResponseHeader& h, const char* object, json usage) {
  json r = header_object(h, object);
  r["choices"] = json::array();
  r["usage"] = std::move(usage);
  return r;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse_event(const json& j) { return "data: " + dump(j) + "\n\n"; }

json error_body(const ApiError& e) {
  return {{"error",
           {{"message", e.what()},
            {"type", e.type()},
            {"param", e.param().empty() ? json(nullptr) : json(e.param())},
            {"code", e.code().empty() ? json(nullptr) : json(e.code())}}}};
}

json model_list(const std::string& name, int64_t created) {
  return {{"object", "list"},
          {"data", json::array({{{"id", name}, {"object", "model"}, {"created", created}, {"owned_by", "sambay"}}})}};
}

}  // namespace sambay::server
