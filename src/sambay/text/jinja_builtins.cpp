// Argument binding, iteration, the global functions and the str/dict/list methods.
#include <algorithm>
#include <ctime>
#include <map>

#include "sambay/text/jinja_builtins.h"
#include "sambay/text/jinja_render.h"
#include "sambay/text/jinja_strings.h"
#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

std::vector<std::optional<Value>> bind_args(const CallArgs& args, std::string_view what,
                                            std::initializer_list<std::string_view> params, size_t required) {
  std::vector<std::optional<Value>> out(params.size());
  if (args.positional.size() > params.size())
    eval_fail("{} takes at most {} argument{} ({} given)", what, params.size(), params.size() == 1 ? "" : "s",
              args.positional.size());
  for (size_t i = 0; i < args.positional.size(); ++i) out[i] = args.positional[i];
  for (const auto& [name, value] : args.keyword) {
    const auto it = std::find(params.begin(), params.end(), name);
    if (it == params.end()) eval_fail("{} got an unexpected keyword argument '{}'", what, name);
    auto& slot = out[static_cast<size_t>(it - params.begin())];
    if (slot) eval_fail("{} got multiple values for argument '{}'", what, name);
    slot = value;
  }
  for (size_t i = 0; i < required; ++i)
    if (!out[i]) eval_fail("{} missing required argument '{}'", what, *(params.begin() + i));
  return out;
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
      return {};
    case Kind::List:
      return v.as_list().items;
    case Kind::Dict: {
      std::vector<Value> keys;
      keys.reserve(v.as_dict().entries.size());
      for (const auto& [k, value] : v.as_dict().entries) keys.push_back(Value::string(k));
      return keys;
    }
    case Kind::String: {
      std::vector<Value> chars;
      for (Str& c : code_points(v.as_str())) chars.push_back(Value::string(std::move(c)));
      return chars;
    }
    default:
      eval_fail("'{}' object is not iterable", type_name(v));
  }
}

// ---- globals ----

namespace {

int64_t int_arg(const Value& v, std::string_view what) {
  if (!v.is_integral()) eval_fail("{} expects an integer, got '{}'", what, type_name(v));
  return v.as_int();
}

Value global_range(Renderer& r, CallArgs& args) {
  if (!args.keyword.empty()) eval_fail("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) eval_fail("range expected 1 to 3 arguments, got {}", p.size());
  int64_t start = 0, stop, step = 1;
  if (p.size() == 1) {
    stop = int_arg(p[0], "range()");
  } else {
    start = int_arg(p[0], "range()");
    stop = int_arg(p[1], "range()");
    if (p.size() == 3) step = int_arg(p[2], "range()");
  }
  if (step == 0) eval_fail("range() arg 3 must not be zero");
  // jinja2's sandbox refuses ranges over MAX_RANGE items.
  constexpr int64_t kMaxRange = 100000;
  const __int128 span = step > 0 ? (__int128)stop - start : (__int128)start - stop;
  const __int128 astep = step > 0 ? step : -(__int128)step;
  const __int128 n = span <= 0 ? 0 : (span + astep - 1) / astep;
  if (n > kMaxRange) eval_fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).", kMaxRange);
  r.charge(static_cast<uint64_t>(n) * sizeof(Value));
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) items.push_back(Value::integer(start + i * step));
  return Value::list(std::move(items));
}

// dict(mapping_or_pairs, **kwargs) as a list of entries, later keys replacing earlier values.
std::vector<std::pair<Str, Value>> collect_entries(CallArgs& args, std::string_view what) {
  std::vector<std::pair<Str, Value>> entries;
  auto put = [&](Str key, Value value) {
    for (auto& e : entries) {
      if (e.first.text == key.text) {
        e.second = std::move(value);
        return;
      }
    }
    key.markup = false;
    entries.emplace_back(std::move(key), std::move(value));
  };
  if (args.positional.size() > 1) eval_fail("{} expected at most 1 positional argument, got {}", what, args.positional.size());
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.as_dict().entries) put(k, v);
    } else {
      for (const Value& pair : iterate(src)) {
        std::vector<Value> kv = iterate(pair);
        if (kv.size() != 2) eval_fail("{}: sequence elements must be (key, value) pairs", what);
        if (!kv[0].is_string()) eval_fail("{}: keys must be strings here, got {}", what, type_name(kv[0]));
        put(kv[0].as_str(), kv[1]);
      }
    }
  }
  for (auto& [name, value] : args.keyword) put(Str{name, {}, false}, value);
  return entries;
}

Value global_namespace(Renderer&, CallArgs& args) {
  auto ns = std::make_shared<Object>();
  ns->type = "Namespace";
  for (auto& [k, v] : collect_entries(args, "namespace()")) ns->attrs.emplace_back(k.text, std::move(v));
  return Value::object(std::move(ns));
}

Value global_dict(Renderer&, CallArgs& args) { return Value::dict(collect_entries(args, "dict()")); }

Value global_raise_exception(Renderer&, CallArgs& args) {
  auto a = bind_args(args, "raise_exception()", {"message"}, 1);
  eval_fail("raise_exception: {}", to_plain_string(*a[0]));
}

Value global_strftime_now(Renderer&, CallArgs& args) {
  auto a = bind_args(args, "strftime_now()", {"format"}, 1);
  if (!a[0]->is_string()) eval_fail("strftime_now() expects a format string");
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[512];
  const size_t n = std::strftime(buf, sizeof buf, a[0]->as_str().text.c_str(), &tm);
  return Value::string(std::string(buf, n));
}

}  // namespace

Value find_global(std::string_view name) {
  static const std::map<std::string, Value, std::less<>> globals = {
      {"range", Value::callable("range", global_range)},
      {"namespace", Value::callable("namespace", global_namespace)},
      {"dict", Value::callable("dict", global_dict)},
      {"raise_exception", Value::callable("raise_exception", global_raise_exception)},
      {"strftime_now", Value::callable("strftime_now", global_strftime_now)},
  };
  const auto it = globals.find(name);
  return it == globals.end() ? Value() : it->second;
}

// ---- methods ----

namespace {

std::optional<std::string> chars_arg(const std::optional<Value>& v) {
  if (!v || v->is_none()) return std::nullopt;
  if (!v->is_string()) eval_fail("strip arg must be None or str");
  return v->as_str().text;
}

const Str& str_arg(const std::optional<Value>& v, std::string_view what) {
  if (!v || !v->is_string()) eval_fail("{} expects a str argument, got '{}'", what, v ? type_name(*v) : "nothing");
  return v->as_str();
}

// markupsafe 3's Markup.replace escapes the replacement (not the needle) and returns Markup.
Str markup_arg(const Str& receiver, const Str& arg) {
  if (!receiver.markup) return arg;
  return html_escape(Value::string(arg));
}

Value str_list(std::vector<Str> parts, bool markup) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (Str& p : parts) {
    p.markup = markup;
    items.push_back(Value::string(std::move(p)));
  }
  return Value::list(std::move(items));
}

bool matches_affix(const Value& affix, std::string_view text, bool prefix, std::string_view what) {
  auto test = [&](const Value& a) {
    if (!a.is_string()) eval_fail("{} first arg must be str or a tuple of str, not {}", what, type_name(a));
    const std::string& s = a.as_str().text;
    if (s.size() > text.size()) return false;
    return prefix ? text.substr(0, s.size()) == s : text.substr(text.size() - s.size()) == s;
  };
  if (affix.is_list() && affix.as_list().tuple) {
    for (const Value& a : affix.as_list().items)
      if (test(a)) return true;
    return false;
  }
  return test(affix);
}

Value str_method(const Value& self, std::string_view name) {
  const std::string m(name);
  const std::string what = "str." + m + "()";
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    const StripSide side = m == "strip" ? StripSide::Both : m == "lstrip" ? StripSide::Left : StripSide::Right;
    return Value::callable(m, [self, side, what](Renderer& r, CallArgs& args) {
      auto a = bind_args(args, what, {"chars"});
      const Str& s = self.as_str();
      r.charge(s.text.size());
      return Value::string(py_strip(s, chars_arg(a[0]), side));
    });
  }
  if (m == "upper" || m == "lower" || m == "capitalize" || m == "title") {
    return Value::callable(m, [self, m, what](Renderer& r, CallArgs& args) {
      bind_args(args, what, {});
      const Str& s = self.as_str();
      r.charge(s.text.size());
      if (m == "upper") return Value::string(py_upper(s));
      if (m == "lower") return Value::string(py_lower(s));
      if (m == "capitalize") return Value::string(py_capitalize(s));
      return Value::string(py_title(s));
    });
  }
  if (m == "startswith" || m == "endswith") {
    return Value::callable(m, [self, m, what](Renderer&, CallArgs& args) {
      auto a = bind_args(args, what, {"affix"}, 1);
      return Value::boolean(matches_affix(*a[0], self.as_str().text, m == "startswith", what));
    });
  }
  if (m == "replace") {
    return Value::callable(m, [self, what](Renderer& r, CallArgs& args) {
      auto a = bind_args(args, what, {"old", "new", "count"}, 2);
      const Str& s = self.as_str();
      const int64_t count = a[2] ? int_arg(*a[2], what) : -1;
      Str out = py_replace(s, str_arg(a[0], what), markup_arg(s, str_arg(a[1], what)), count);
      r.charge(out.text.size());
      out.markup = s.markup;
      return Value::string(std::move(out));
    });
  }
  if (m == "split") {
    return Value::callable(m, [self, what](Renderer& r, CallArgs& args) {
      auto a = bind_args(args, what, {"sep", "maxsplit"});
      const Str& s = self.as_str();
      std::optional<Str> sep;
      if (a[0] && !a[0]->is_none()) {
        sep = str_arg(a[0], what);
        if (sep->text.empty()) eval_fail("empty separator");
      }
      const int64_t maxsplit = a[1] ? int_arg(*a[1], what) : -1;
      r.charge(s.text.size() * 2);
      return str_list(py_split(s, sep, maxsplit), s.markup);
    });
  }
  if (m == "splitlines") {
    return Value::callable(m, [self, what](Renderer& r, CallArgs& args) {
      auto a = bind_args(args, what, {"keepends"});
      const Str& s = self.as_str();
      r.charge(s.text.size() * 2);
      return str_list(py_splitlines(s, a[0] && truthy(*a[0])), s.markup);
    });
  }
  if (m == "find" || m == "count") {
    return Value::callable(m, [self, m, what](Renderer&, CallArgs& args) {
      auto a = bind_args(args, what, {"sub"}, 1);
      const std::string& sub = str_arg(a[0], what).text;
      const std::string& s = self.as_str().text;
      return Value::integer(m == "find" ? py_find(s, sub) : py_count(s, sub));
    });
  }
  if (m == "join") {
    return Value::callable(m, [self, what](Renderer& r, CallArgs& args) {
      auto a = bind_args(args, what, {"iterable"}, 1);
      const Str& sep = self.as_str();
      StrBuilder b;
      size_t i = 0;
      for (const Value& item : iterate(*a[0])) {
        if (!item.is_string()) eval_fail("sequence item {}: expected str instance, {} found", i, type_name(item));
        if (i++) b.append(sep);
        b.append(sep.markup ? html_escape(item) : item.as_str());
        r.charge(b.size());
      }
      return Value::string(b.take(sep.markup));
    });
  }
  if (m == "isdigit" || m == "isalpha" || m == "isalnum" || m == "isspace" || m == "islower" || m == "isupper") {
    return Value::callable(m, [self, m, what](Renderer&, CallArgs& args) {
      bind_args(args, what, {});
      const std::string& s = self.as_str().text;
      if (m == "islower") return Value::boolean(py_islower(s));
      if (m == "isupper") return Value::boolean(py_isupper(s));
      if (s.empty()) return Value::boolean(false);
      size_t i = 0;
      while (i < s.size()) {
        const char32_t c = next_code_point(s, i);
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        const bool ok = m == "isdigit"   ? digit
                        : m == "isalpha" ? letter
                        : m == "isalnum" ? (letter || digit)
                                         : is_py_space(c);
        if (!ok) return Value::boolean(false);
      }
      return Value::boolean(true);
    });
  }
  if (m == "removeprefix" || m == "removesuffix") {
    return Value::callable(m, [self, m, what](Renderer&, CallArgs& args) {
      auto a = bind_args(args, what, {"affix"}, 1);
      const Str& s = self.as_str();
      const std::string& affix = str_arg(a[0], what).text;
      StrBuilder b;
      const bool prefix = m == "removeprefix";
      if (!affix.empty() && matches_affix(*a[0], s.text, prefix, what)) {
        b.append(s, prefix ? affix.size() : 0, prefix ? s.text.size() : s.text.size() - affix.size());
      } else {
        b.append(s);
      }
      return Value::string(b.take(s.markup));
    });
  }
  static constexpr std::string_view kUnsupported[] = {
      "format", "format_map", "center", "ljust", "rjust", "zfill", "partition", "rpartition", "rsplit",
      "rfind", "index", "rindex", "expandtabs", "swapcase", "casefold", "encode", "translate", "maketrans",
      "isnumeric", "isdecimal", "isidentifier", "isprintable", "istitle", "isascii"};
  if (std::find(std::begin(kUnsupported), std::end(kUnsupported), name) != std::end(kUnsupported)) {
    return Value::callable(m, [what](Renderer&, CallArgs&) -> Value { eval_fail("{} is not supported", what); });
  }
  return Value();
}

Value dict_method(const Value& self, std::string_view name) {
  const std::string m(name);
  const std::string what = "dict." + m + "()";
  if (m == "items" || m == "keys" || m == "values") {
    return Value::callable(m, [self, m, what](Renderer& r, CallArgs& args) {
      bind_args(args, what, {});
      const auto& entries = self.as_dict().entries;
      r.charge(entries.size() * sizeof(Value));
      std::vector<Value> out;
      out.reserve(entries.size());
      for (const auto& [k, v] : entries) {
        if (m == "items") {
          out.push_back(Value::list({Value::string(k), v}, /*tuple=*/true));
        } else {
          out.push_back(m == "keys" ? Value::string(k) : v);
        }
      }
      return Value::list(std::move(out));
    });
  }
  if (m == "get") {
    return Value::callable(m, [self, what](Renderer&, CallArgs& args) {
      auto a = bind_args(args, what, {"key", "default"}, 1);
      if (a[0]->is_string())
        if (const Value* v = self.as_dict().find(a[0]->as_str().text)) return *v;
      return a[1] ? *a[1] : Value::none();
    });
  }
  static constexpr std::string_view kMutators[] = {"clear", "pop", "popitem", "setdefault", "update"};
  if (std::find(std::begin(kMutators), std::end(kMutators), name) != std::end(kMutators)) {
    return Value::callable(m, [m](Renderer&, CallArgs&) -> Value {
      eval_fail("access to attribute '{}' of 'dict' object is unsafe.", m);
    });
  }
  return Value();
}

Value list_method(const Value& self, std::string_view name) {
  const std::string m(name);
  if (m == "count" || m == "index") {
    return Value::callable(m, [self, m](Renderer&, CallArgs& args) {
      auto a = bind_args(args, "list." + m + "()", {"value"}, 1);
      const auto& items = self.as_list().items;
      int64_t count = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        if (!equals(items[i], *a[0])) continue;
        if (m == "index") return Value::integer(static_cast<int64_t>(i));
        ++count;
      }
      if (m == "index") eval_fail("list.index(x): x not in list");
      return Value::integer(count);
    });
  }
  static constexpr std::string_view kMutators[] = {"append", "clear", "extend", "insert", "pop",
                                                   "remove", "reverse", "sort"};
  if (std::find(std::begin(kMutators), std::end(kMutators), name) != std::end(kMutators)) {
    const std::string type = type_name(self);
    return Value::callable(m, [m, type](Renderer&, CallArgs&) -> Value {
      eval_fail("access to attribute '{}' of '{}' object is unsafe.", m, type);
    });
  }
  return Value();
}

}  // namespace

Value find_method(const Value& receiver, std::string_view name) {
  switch (receiver.kind()) {
    case Kind::String:
      return str_method(receiver, name);
    case Kind::Dict:
      return dict_method(receiver, name);
    case Kind::List:
      return list_method(receiver, name);
    default:
      return Value();
  }
}

}  // namespace sambay::jinja
