#include "openai_request.h"

#include <cmath>
#include <limits>

#include "api_error.h"

namespace sambay::server {
namespace {

using nlohmann::json;

// The value of `name`, or null when it is absent or JSON null (OpenAI treats both as "not set").
const json* find(const json& body, const char* name) {
  const auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

bool get_bool(const json& v, const std::string& param) {
  if (!v.is_boolean()) invalid_field(param, "'{}' must be a boolean", param);
  return v.get<bool>();
}

int64_t get_int(const json& v, const std::string& param, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) invalid_field(param, "'{}' must be an integer", param);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi))
    invalid_field(param, "'{}' must be at most {}, got {}", param, hi, v.get<uint64_t>());
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) invalid_field(param, "'{}' must be between {} and {}, got {}", param, lo, hi, x);
  return x;
}

float get_number(const json& v, const std::string& param, double lo, double hi) {
  if (!v.is_number()) invalid_field(param, "'{}' must be a number", param);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    invalid_field(param, "'{}' must be between {} and {}, got {}", param, lo, hi, x);
  return static_cast<float>(x);
}

const std::string& get_string(const json& v, const std::string& param) {
  if (!v.is_string()) invalid_field(param, "'{}' must be a string", param);
  return v.get_ref<const std::string&>();
}

// Message content: a string, or an array of {"type": "text", "text": ...} parts (joined with
// newlines, as vLLM does). Other part types (images, audio) are not supported by this model.
std::string message_content(const json& v, const std::string& param) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) invalid_field(param, "'{}' must be a string or an array of text parts", param);
  std::string text;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string p = fmt::format("{}[{}]", param, i);
    const json& part = v[i];
    if (!part.is_object()) invalid_field(p, "'{}' must be an object", p);
    const json* type = find(part, "type");
    if (!type || get_string(*type, p + ".type") != "text")
      invalid_field(p + ".type", "'{}.type' must be \"text\" (this model reads text only)", p);
    const json* t = find(part, "text");
    if (!t) invalid_field(p + ".text", "'{}.text' is required", p);
    if (i > 0) text += '\n';
    text += get_string(*t, p + ".text");
  }
  return text;
}

json parse_messages(const json& body) {
  const json* v = find(body, "messages");
  if (!v) invalid_field("messages", "'messages' is required");
  if (!v->is_array() || v->empty()) invalid_field("messages", "'messages' must be a non-empty array");
  json out = json::array();
  for (size_t i = 0; i < v->size(); ++i) {
    const std::string p = fmt::format("messages[{}]", i);
    const json& m = (*v)[i];
    if (!m.is_object()) invalid_field(p, "'{}' must be an object", p);
    const json* role = find(m, "role");
    if (!role) invalid_field(p + ".role", "'{}.role' is required", p);
    // The role is written into the prompt as template text (a role marker), so only known roles pass.
    const std::string& r = get_string(*role, p + ".role");
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      invalid_field(p + ".role", "'{}.role' must be one of system, user, assistant, tool; got '{}'", p, r);
    const json* content = find(m, "content");
    if (!content && r != "assistant") invalid_field(p + ".content", "'{}.content' is required", p);
    out.push_back({{"role", r}, {"content", content ? message_content(*content, p + ".content") : std::string()}});
  }
  return out;
}

void parse_prompt(const json& body, OpenAIRequest& r) {
  const json* v = find(body, "prompt");
  if (!v) invalid_field("prompt", "'prompt' is required");
  auto ids = [&](const json& a, const std::string& param) {
    if (a.empty()) invalid_field(param, "'{}' must not be empty", param);
    for (size_t i = 0; i < a.size(); ++i)
      r.prompt_ids.push_back(static_cast<int32_t>(
          get_int(a[i], fmt::format("{}[{}]", param, i), 0, std::numeric_limits<int32_t>::max())));
    r.prompt_is_ids = true;
  };
  if (v->is_string()) {
    r.prompt_text = v->get<std::string>();
  } else if (v->is_array() && !v->empty() && (*v)[0].is_number()) {
    ids(*v, "prompt");
  } else if (v->is_array() && v->size() == 1 && (*v)[0].is_string()) {
    r.prompt_text = (*v)[0].get<std::string>();
  } else if (v->is_array() && v->size() == 1 && (*v)[0].is_array()) {
    ids((*v)[0], "prompt[0]");
  } else if (v->is_array() && v->size() > 1 && ((*v)[0].is_string() || (*v)[0].is_array())) {
    invalid_field("prompt", "'prompt' with several prompts is not supported: send one request per prompt");
  } else {
    invalid_field("prompt", "'prompt' must be a string, an array of token ids, or a one-element array of either");
  }
}

// Fields that would change the response in ways this server does not implement: refused rather
// than silently ignored.
void refuse_unsupported(const json& body, Endpoint endpoint) {
  if (const json* n = find(body, "n"); n && get_int(*n, "n", 1, 128) != 1)
    invalid_field("n", "'n' must be 1: one choice per request is supported");
  if (const json* b = find(body, "best_of"); b && get_int(*b, "best_of", 1, 128) != 1)
    invalid_field("best_of", "'best_of' must be 1");
  if (const json* e = find(body, "echo"); e && get_bool(*e, "echo")) invalid_field("echo", "'echo' is not supported");
  if (const json* s = find(body, "suffix"); s && !get_string(*s, "suffix").empty())
    invalid_field("suffix", "'suffix' is not supported");
  if (const json* l = find(body, "logit_bias"); l && !(l->is_object() && l->empty()))
    invalid_field("logit_bias", "'logit_bias' is not supported");
  if (const json* t = find(body, "tools"); t && !(t->is_array() && t->empty()))
    invalid_field("tools", "'tools' (function calling) is not supported");
  if (const json* f = find(body, "response_format")) {
    const json* type = f->is_object() ? find(*f, "type") : nullptr;
    if (!type || !type->is_string() || type->get<std::string>() != "text")
      invalid_field("response_format", "'response_format' other than {{\"type\": \"text\"}} is not supported");
  }
  (void)endpoint;
}

void parse_stop(const json& v, OpenAIRequest& r) {
  auto add = [&](const json& s, const std::string& param) {
    const std::string& text = get_string(s, param);
    if (text.empty()) invalid_field(param, "'{}' must not be empty", param);
    r.stop.push_back(text);
  };
  if (v.is_string()) {
    add(v, "stop");
  } else if (v.is_array()) {
    if (v.size() > static_cast<size_t>(kMaxStopStrings))
      invalid_field("stop", "'stop' may hold at most {} strings", kMaxStopStrings);
    for (size_t i = 0; i < v.size(); ++i) add(v[i], fmt::format("stop[{}]", i));
  } else {
    invalid_field("stop", "'stop' must be a string or an array of strings");
  }
}

void parse_logprobs(const json& body, OpenAIRequest& r) {
  if (r.endpoint == Endpoint::kChat) {
    const json* lp = find(body, "logprobs");
    const bool on = lp && get_bool(*lp, "logprobs");
    const json* top = find(body, "top_logprobs");
    if (top && !on) invalid_field("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    if (on) r.logprobs = top ? static_cast<int>(get_int(*top, "top_logprobs", 0, kMaxLogprobs)) : 0;
  } else if (const json* lp = find(body, "logprobs")) {
    r.logprobs = static_cast<int>(get_int(*lp, "logprobs", 0, kMaxLogprobs));
  }
}

}  // namespace

OpenAIRequest parse_request_json(Endpoint endpoint, const json& body) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object", "invalid_request_error");
  OpenAIRequest r;
  r.endpoint = endpoint;
  if (const json* v = find(body, "model")) r.model = get_string(*v, "model");
  if (endpoint == Endpoint::kChat) {
    r.messages = parse_messages(body);
  } else {
    parse_prompt(body, r);
  }
  refuse_unsupported(body, endpoint);

  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  const char* max_name = endpoint == Endpoint::kChat && find(body, "max_completion_tokens") ? "max_completion_tokens"
                                                                                           : "max_tokens";
  if (const json* v = find(body, max_name)) r.max_tokens = static_cast<int>(get_int(*v, max_name, 1, kIntMax));
  if (const json* v = find(body, "stop")) parse_stop(*v, r);
  if (const json* v = find(body, "temperature")) r.temperature = get_number(*v, "temperature", 0, 2);
  if (const json* v = find(body, "top_p")) {
    r.top_p = get_number(*v, "top_p", 0, 1);
    if (*r.top_p <= 0) invalid_field("top_p", "'top_p' must be greater than 0");
  }
  if (const json* v = find(body, "top_k"))
    r.top_k = std::max<int>(0, static_cast<int>(get_int(*v, "top_k", -1, kIntMax)));
  if (const json* v = find(body, "min_p")) r.min_p = get_number(*v, "min_p", 0, 1);
  if (const json* v = find(body, "presence_penalty")) r.presence_penalty = get_number(*v, "presence_penalty", -2, 2);
  if (const json* v = find(body, "frequency_penalty")) r.frequency_penalty = get_number(*v, "frequency_penalty", -2, 2);
  if (const json* v = find(body, "repetition_penalty")) {
    r.repetition_penalty = get_number(*v, "repetition_penalty", 0, 1e6);
    if (*r.repetition_penalty <= 0) invalid_field("repetition_penalty", "'repetition_penalty' must be greater than 0");
  }
  if (const json* v = find(body, "seed")) {
    r.seed = static_cast<uint64_t>(
        get_int(*v, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
  }
  parse_logprobs(body, r);
  if (const json* v = find(body, "stream")) r.stream = get_bool(*v, "stream");
  if (const json* v = find(body, "stream_options")) {
    if (!r.stream) invalid_field("stream_options", "'stream_options' is only allowed with 'stream': true");
    if (!v->is_object()) invalid_field("stream_options", "'stream_options' must be an object");
    if (const json* u = find(*v, "include_usage")) r.include_usage = get_bool(*u, "stream_options.include_usage");
  }
  if (const json* v = find(body, "ignore_eos")) r.ignore_eos = get_bool(*v, "ignore_eos");
  if (const json* v = find(body, "min_tokens")) r.min_tokens = static_cast<int>(get_int(*v, "min_tokens", 0, kIntMax));
  if (r.max_tokens && r.min_tokens > *r.max_tokens)
    invalid_field("min_tokens", "'min_tokens' ({}) must not exceed '{}' ({})", r.min_tokens, max_name, *r.max_tokens);
  return r;
}

OpenAIRequest parse_request(Endpoint endpoint, std::string_view body) {
  json parsed;
  try {
    parsed = json::parse(body);
  } catch (const json::parse_error& e) {
    // nlohmann's message names the byte offset; it also covers ill-formed UTF-8 in strings.
    throw ApiError(400, fmt::format("the request body is not valid JSON: {}", e.what()), "invalid_request_error");
  }
  return parse_request_json(endpoint, parsed);
}

}  // namespace sambay::server
