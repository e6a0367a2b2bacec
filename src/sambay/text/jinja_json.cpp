#include "sambay/text/jinja_json.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

namespace {

Str make_str(const std::string& text, bool content) {
  Str s;
  s.text = text;
  if (content && !text.empty()) s.runs.push_back({text.size(), true});
  return s;
}

template <class Json>
Value convert(const Json& j, bool content, int depth) {
  if (depth > kMaxValueDepth) eval_fail("JSON value nested deeper than {} levels", kMaxValueDepth);
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value::boolean(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::integer(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = j.template get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        eval_fail("JSON integer {} is out of the 64-bit range", u);
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::number(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value::string(j.template get_ref<const std::string&>(), content);
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(convert(item, content, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<Str, Value>> entries;
      entries.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        entries.emplace_back(make_str(it.key(), content), convert(it.value(), content, depth + 1));
      return Value::dict(std::move(entries));
    }
    default:
      eval_fail("JSON value of type {} cannot be passed to a template", j.type_name());
  }
}

template <class Json>
Value convert_messages(const Json& messages) {
  if (!messages.is_array()) eval_fail("messages must be a JSON array, got {}", messages.type_name());
  std::vector<Value> out;
  out.reserve(messages.size());
  for (const auto& message : messages) {
    if (!message.is_object()) {
      out.push_back(convert(message, true, 1));
      continue;
    }
    std::vector<std::pair<Str, Value>> entries;
    for (auto it = message.begin(); it != message.end(); ++it) {
      // Roles are the template's vocabulary ('<|' + role + '|>'), not user text.
      const bool is_role = it.key() == "role" && it.value().is_string();
      entries.emplace_back(make_str(it.key(), false), convert(it.value(), !is_role, 2));
    }
    out.push_back(Value::dict(std::move(entries)));
  }
  return Value::list(std::move(out));
}

void dump_string(std::string& out, std::string_view text, const JsonDumpStyle& style) {
  out += '"';
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const char32_t cp = next_code_point(text, i);
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    const bool escape = cp < 0x20 || (style.ensure_ascii && cp >= 0x7F);
    if (!escape) {
      out.append(text.substr(start, i - start));
    } else if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
    } else {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
    }
  }
  out += '"';
}

void newline_indent(std::string& out, const JsonDumpStyle& style, int level) {
  out += '\n';
  for (int i = 0; i < level; ++i) out += *style.indent;
}

void dump(std::string& out, const Value& v, const JsonDumpStyle& style, int level) {
  if (out.size() > style.max_bytes) eval_fail("tojson output exceeds the limit of {} bytes", style.max_bytes);
  switch (v.kind()) {
    case Kind::None:
      out += "null";
      return;
    case Kind::Bool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Kind::Int:
      out += std::to_string(v.as_int());
      return;
    case Kind::Float: {
      const double f = v.as_float();
      if (std::isnan(f)) {
        out += "NaN";
      } else if (std::isinf(f)) {
        out += f > 0 ? "Infinity" : "-Infinity";
      } else {
        out += float_repr(f);
      }
      return;
    }
    case Kind::String:
      dump_string(out, v.as_str().text, style);
      return;
    case Kind::List: {
      const auto& items = v.as_list().items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += style.item_separator;
        if (style.indent) newline_indent(out, style, level + 1);
        dump(out, items[i], style, level + 1);
      }
      if (style.indent) newline_indent(out, style, level);
      out += ']';
      return;
    }
    case Kind::Dict: {
      const auto& entries = v.as_dict().entries;
      if (entries.empty()) {
        out += "{}";
        return;
      }
      std::vector<size_t> order(entries.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      if (style.sort_keys) {
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return entries[a].first.text < entries[b].first.text; });
      }
      out += '{';
      for (size_t i = 0; i < order.size(); ++i) {
        if (i) out += style.item_separator;
        if (style.indent) newline_indent(out, style, level + 1);
        dump_string(out, entries[order[i]].first.text, style);
        out += style.key_separator;
        dump(out, entries[order[i]].second, style, level + 1);
      }
      if (style.indent) newline_indent(out, style, level);
      out += '}';
      return;
    }
    default:
      eval_fail("Object of type {} is not JSON serializable", type_name(v));
  }
}

}  // namespace

Value value_from_json(const nlohmann::json& j, bool content) { return convert(j, content, 0); }
Value value_from_json(const nlohmann::ordered_json& j, bool content) { return convert(j, content, 0); }
Value messages_from_json(const nlohmann::json& messages) { return convert_messages(messages); }
Value messages_from_json(const nlohmann::ordered_json& messages) { return convert_messages(messages); }

std::string dump_json(const Value& v, const JsonDumpStyle& style) {
  std::string out;
  dump(out, v, style, 0);
  if (!style.html_safe) return out;
  std::string safe;
  safe.reserve(out.size());
  for (const char c : out) {
    switch (c) {
      case '<':
        safe += "\\u003c";
        break;
      case '>':
        safe += "\\u003e";
        break;
      case '&':
        safe += "\\u0026";
        break;
      case '\'':
        safe += "\\u0027";
        break;
      default:
        safe += c;
    }
  }
  return safe;
}

}  // namespace sambay::jinja
