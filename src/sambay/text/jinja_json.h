#pragma once
// Between nlohmann::json and template values: the caller's data going in (with provenance), and
// Python's json.dumps coming out (for the tojson filter, in jinja2's and in transformers' variant).
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sambay/text/jinja_value.h"

namespace sambay::jinja {

// Every string and object key becomes content (content = true) or template text.
Value value_from_json(const nlohmann::json& j, bool content);
Value value_from_json(const nlohmann::ordered_json& j, bool content);

// A chat's messages: content, except the string value of each message's "role", which is markup
// the template decorates (see chat_template.h).
Value messages_from_json(const nlohmann::json& messages);
Value messages_from_json(const nlohmann::ordered_json& messages);

struct JsonDumpStyle {
  bool ensure_ascii = true;  // non-ASCII as \uXXXX
  bool sort_keys = true;
  bool html_safe = true;     // jinja2's htmlsafe_json_dumps: < > & ' as \u003c \u003e \u0026 \u0027
  std::optional<std::string> indent;  // Python's indent=, already turned into its string
  std::string item_separator = ", ";  // Python's defaults: ", " without indent, "," with it
  std::string key_separator = ": ";
  size_t max_bytes = SIZE_MAX;  // fail (EvalError) rather than build a longer dump
};

// Python json.dumps(v, ...). Throws EvalError for values JSON cannot hold (Undefined, functions).
std::string dump_json(const Value& v, const JsonDumpStyle& style);

}  // namespace sambay::jinja
