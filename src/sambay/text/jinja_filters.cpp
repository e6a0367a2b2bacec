// jinja2's built-in filters (the subset chat templates use), with jinja2's behaviour when
// autoescape is off, as in transformers' environment.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "sambay/text/jinja_builtins.h"
#include "sambay/text/jinja_json.h"
#include "sambay/text/jinja_render.h"
#include "sambay/text/jinja_strings.h"
#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

namespace {

// jinja2's soft_str: strings (Markup included) stay as they are, anything else becomes str(v).
Str soft_str(const Value& v) {
  if (v.is_string()) return v.as_str();
  return to_str(v);
}

Value str_value(Str s, bool markup) {
  s.markup = markup;
  return Value::string(std::move(s));
}

Value f_trim(Renderer& r, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'trim'", {"chars"});
  const Str s = soft_str(in);
  r.charge(s.text.size());
  std::optional<std::string> chars;
  if (a[0] && !a[0]->is_none()) chars = to_plain_string(*a[0]);
  return Value::string(py_strip(s, chars, StripSide::Both));
}

int64_t py_len(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
      return 0;
    case Kind::String:
      return static_cast<int64_t>(count_code_points(v.as_str().text));
    case Kind::List:
      return static_cast<int64_t>(v.as_list().items.size());
    case Kind::Dict:
      return static_cast<int64_t>(v.as_dict().entries.size());
    case Kind::Object:
      if (!v.as_object().is_namespace()) {
        const Value* n = v.as_object().find("length");
        if (n) return n->as_int();
      }
      [[fallthrough]];
    default:
      eval_fail("object of type '{}' has no len()", type_name(v));
  }
}

Value f_length(Renderer&, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'length'", {});
  return Value::integer(py_len(in));
}

Value f_upper(Renderer& r, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'upper'", {});
  const Str s = soft_str(in);
  r.charge(s.text.size());
  return Value::string(py_upper(s));
}

Value f_lower(Renderer& r, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'lower'", {});
  const Str s = soft_str(in);
  r.charge(s.text.size());
  return Value::string(py_lower(s));
}

Value f_capitalize(Renderer& r, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'capitalize'", {});
  const Str s = soft_str(in);
  r.charge(s.text.size());
  return Value::string(py_capitalize(s));
}

Value f_title(Renderer& r, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'title'", {});
  const Str s = soft_str(in);
  r.charge(s.text.size());
  return Value::string(jinja_title(s));
}

std::optional<std::string> indent_string(const std::optional<Value>& v) {
  if (!v || v->is_none()) return std::nullopt;
  if (v->is_string()) return v->as_str().text;
  if (v->is_integral()) {
    const int64_t n = v->as_int();
    if (n > 4096) eval_fail("indent of {} is too large", n);
    return std::string(n > 0 ? static_cast<size_t>(n) : 0, ' ');
  }
  eval_fail("indent must be None, an int or a str, not {}", type_name(*v));
}

Value f_tojson(Renderer& r, const Value& in, CallArgs& args) {
  JsonDumpStyle style;
  bool markup = true;
  if (r.options().transformers_tojson) {
    // transformers: json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=False)
    auto a = bind_args(args, "filter 'tojson'", {"ensure_ascii", "indent", "separators", "sort_keys"});
    style.ensure_ascii = a[0] && truthy(*a[0]);
    style.indent = indent_string(a[1]);
    style.sort_keys = a[3] && truthy(*a[3]);
    style.html_safe = false;
    markup = false;
    if (style.indent) style.item_separator.assign(1, ',');  // assign(): dodges GCC 12's bogus -Wrestrict
    if (a[2] && !a[2]->is_none()) {
      std::vector<Value> seps = iterate(*a[2]);
      if (seps.size() != 2 || !seps[0].is_string() || !seps[1].is_string())
        eval_fail("tojson separators must be a pair of strings");
      style.item_separator = seps[0].as_str().text;
      style.key_separator = seps[1].as_str().text;
    }
  } else {
    // jinja2: htmlsafe_json_dumps(x, indent=indent) with sort_keys=True, returning Markup.
    auto a = bind_args(args, "filter 'tojson'", {"indent"});
    style.indent = indent_string(a[0]);
    if (style.indent) style.item_separator.assign(1, ',');  // assign(): dodges GCC 12's bogus -Wrestrict
  }
  style.max_bytes = r.options().limits.max_value_bytes;
  std::string text = dump_json(in, style);
  r.charge(text.size());
  // JSON of caller data is caller data: the whole dump counts as content when anything inside is.
  Str s;
  if (contains_content(in) && !text.empty()) s.runs.push_back({text.size(), true});
  s.text = std::move(text);
  s.markup = markup;
  return Value::string(std::move(s));
}

Value f_string(Renderer&, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'string'", {});
  return Value::string(soft_str(in));
}

// `attribute` of item as jinja2's make_attrgetter: dotted path, integer parts index.
Value attr_path(Renderer& r, const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return r.getitem(item, attribute);
  Value cur = item;
  const std::string& path = attribute.as_str().text;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric && part.size() < 18) {
      cur = r.getitem(cur, Value::integer(std::stoll(part)));
    } else {
      cur = r.getitem(cur, Value::string(part));
    }
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value f_join(Renderer& r, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'join'", {"d", "attribute"});
  const Str sep = a[0] ? soft_str(*a[0]) : Str{};
  StrBuilder b;
  size_t i = 0;
  for (const Value& item : iterate(in)) {
    if (i++) b.append(sep);
    append_str(b, a[1] && !a[1]->is_none() ? attr_path(r, item, *a[1]) : item);
    r.charge(b.size());
  }
  return Value::string(b.take());
}

Value f_default(Renderer&, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'default'", {"default_value", "boolean"});
  const bool boolean = a[1] && truthy(*a[1]);
  if (in.is_undefined() || (boolean && !truthy(in))) return a[0] ? *a[0] : Value::string(std::string());
  return in;
}

Value f_first(Renderer&, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'first'", {});
  if (in.is_list()) {
    if (in.as_list().items.empty()) return Value::undefined("No first item, sequence was empty.");
    return in.as_list().items.front();
  }
  std::vector<Value> items = iterate(in);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value f_last(Renderer&, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'last'", {});
  if (in.is_list()) {
    if (in.as_list().items.empty()) return Value::undefined("No last item, sequence was empty.");
    return in.as_list().items.back();
  }
  if (!in.is_undefined() && !in.is_string() && !in.is_dict()) eval_fail("'{}' object is not reversible", type_name(in));
  std::vector<Value> items = iterate(in);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value f_items(Renderer& r, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'items'", {});
  if (in.is_undefined()) return Value::list({});
  if (!in.is_dict()) eval_fail("Can only get item pairs from a mapping.");
  const auto& entries = in.as_dict().entries;
  r.charge(entries.size() * sizeof(Value));
  std::vector<Value> out;
  for (const auto& [k, v] : entries) out.push_back(Value::list({Value::string(k), v}, true));
  return Value::list(std::move(out));
}

Value f_replace(Renderer& r, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'replace'", {"old", "new", "count"}, 2);
  int64_t count = -1;
  if (a[2] && !a[2]->is_none()) {
    if (!a[2]->is_integral()) eval_fail("replace count must be an integer");
    count = a[2]->as_int();
  }
  Str out = py_replace(to_str(in), to_str(*a[0]), to_str(*a[1]), count);
  r.charge(out.text.size());
  return Value::string(std::move(out));
}

Value f_abs(Renderer&, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'abs'", {});
  if (in.is_integral()) {
    if (in.as_int() == INT64_MIN) eval_fail("integer overflow (template integers are 64-bit)");
    return Value::integer(std::llabs(in.as_int()));
  }
  if (in.kind() == Kind::Float) return Value::number(std::fabs(in.as_float()));
  eval_fail("bad operand type for abs(): '{}'", type_name(in));
}

// Python float(str): surrounding whitespace, underscores between digits, inf/nan spellings.
std::optional<double> parse_py_float(const std::string& text) {
  const Str stripped = py_strip(Str{text, {}, false}, std::nullopt, StripSide::Both);
  std::string s;
  for (size_t i = 0; i < stripped.text.size(); ++i) {
    const char c = stripped.text[i];
    if (c == '_') {
      if (i == 0 || i + 1 == stripped.text.size() || !std::isdigit(static_cast<unsigned char>(stripped.text[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(stripped.text[i + 1])))
        return std::nullopt;
      continue;
    }
    s += c;
  }
  if (s.empty()) return std::nullopt;
  std::string lower;
  for (char c : s) lower += static_cast<char>(ascii_lower(static_cast<unsigned char>(c)));
  size_t body = (lower[0] == '+' || lower[0] == '-') ? 1 : 0;
  const std::string word = lower.substr(body);
  if (word == "inf" || word == "infinity") return lower[0] == '-' ? -INFINITY : INFINITY;
  if (word == "nan") return NAN;
  for (char c : word)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-'))
      return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

// Python int(str, base) for bases 2..36 and 0.
std::optional<int64_t> parse_py_int(const std::string& text, int64_t base) {
  const Str stripped = py_strip(Str{text, {}, false}, std::nullopt, StripSide::Both);
  std::string s = stripped.text;
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  auto prefix_base = [&](char p) -> int64_t {
    p = static_cast<char>(ascii_lower(static_cast<unsigned char>(p)));
    return p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
  };
  if (i + 1 < s.size() && s[i] == '0' && prefix_base(s[i + 1]) && (base == 0 || base == prefix_base(s[i + 1]))) {
    base = prefix_base(s[i + 1]);
    i += 2;
    if (i < s.size() && s[i] == '_') ++i;
  } else if (base == 0) {
    base = 10;
    // Python rejects leading zeros in base 0 ("010"), except for zero itself.
    if (i + 1 < s.size() && s[i] == '0' && s.find_first_not_of("0_", i) != std::string::npos) return std::nullopt;
  }
  if (i >= s.size()) return std::nullopt;
  __int128 v = 0;
  bool prev_digit = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      if (!prev_digit || i + 1 >= s.size()) return std::nullopt;
      prev_digit = false;
      continue;
    }
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') d = c - 'A' + 10;
    if (d < 0 || d >= base) return std::nullopt;
    v = v * base + d;
    if (v > (__int128)INT64_MAX + 1) eval_fail("integer {} is out of the 64-bit range", text);
    prev_digit = true;
  }
  if (!prev_digit) return std::nullopt;
  if (neg) v = -v;
  if (v > INT64_MAX) eval_fail("integer {} is out of the 64-bit range", text);
  return static_cast<int64_t>(v);
}

std::optional<int64_t> float_to_int(double f) {
  if (!std::isfinite(f)) return std::nullopt;
  const double t = std::trunc(f);
  if (t >= 9.2233720368547758e18 || t < -9.2233720368547758e18) eval_fail("integer out of the 64-bit range");
  return static_cast<int64_t>(t);
}

Value f_int(Renderer&, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'int'", {"default", "base"});
  require_defined(in);  // int(Undefined) raises rather than falling back to the default
  const Value dflt = a[0] ? *a[0] : Value::integer(0);
  int64_t base = 10;
  if (a[1]) {
    if (!a[1]->is_integral()) eval_fail("int() base must be an integer");
    base = a[1]->as_int();
    if (base != 0 && (base < 2 || base > 36)) eval_fail("int() base must be >= 2 and <= 36, or 0");
  }
  if (in.is_string()) {
    if (auto v = parse_py_int(in.as_str().text, base)) return Value::integer(*v);
    if (auto f = parse_py_float(in.as_str().text))
      if (auto v = float_to_int(*f)) return Value::integer(*v);
    return dflt;
  }
  if (in.is_integral()) return Value::integer(in.as_int());
  if (in.kind() == Kind::Float) {
    if (auto v = float_to_int(in.as_float())) return Value::integer(*v);
  }
  return dflt;
}

Value f_float(Renderer&, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'float'", {"default"});
  require_defined(in);
  const Value dflt = a[0] ? *a[0] : Value::number(0.0);
  if (in.is_number()) return Value::number(in.as_float());
  if (in.is_string()) {
    if (auto f = parse_py_float(in.as_str().text)) return Value::number(*f);
  }
  return dflt;
}

Value f_list(Renderer& r, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'list'", {});
  std::vector<Value> items = iterate(in);
  r.charge(items.size() * sizeof(Value));
  return Value::list(std::move(items));
}

Value f_reverse(Renderer& r, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'reverse'", {});
  if (in.is_string()) {
    std::vector<Str> chars = code_points(in.as_str());
    StrBuilder b;
    for (auto it = chars.rbegin(); it != chars.rend(); ++it) b.append(*it);
    r.charge(b.size());
    return Value::string(b.take());
  }
  std::vector<Value> items = iterate(in);
  std::reverse(items.begin(), items.end());
  r.charge(items.size() * sizeof(Value));
  return Value::list(std::move(items));
}

Value f_safe(Renderer&, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'safe'", {});
  return str_value(to_str(in), true);
}

Value f_escape(Renderer& r, const Value& in, CallArgs& args) {
  bind_args(args, "filter 'escape'", {});
  Str s = html_escape(in);
  r.charge(s.text.size());
  return Value::string(std::move(s));
}

// Python's getattr only: unlike `x.name`, no fallback to x['name'].
Value f_attr(Renderer&, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'attr'", {"name"}, 1);
  const std::string name = to_plain_string(*a[0]);
  if (in.kind() == Kind::Object) {
    if (const Value* v = in.as_object().find(name)) return *v;
  } else {
    Value m = find_method(in, name);
    if (!m.is_undefined()) return m;
  }
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_type_repr(in), name));
}

Value f_indent(Renderer& r, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'indent'", {"width", "first", "blank"});
  Str indention;
  if (!a[0]) {
    indention.text = "    ";
  } else if (a[0]->is_string()) {
    indention = a[0]->as_str();
  } else if (a[0]->is_integral()) {
    const int64_t n = a[0]->as_int();
    if (n > 4096) eval_fail("indent width {} is too large", n);
    indention.text = std::string(n > 0 ? static_cast<size_t>(n) : 0, ' ');
  } else {
    eval_fail("indent width must be an int or a str");
  }
  const bool first = a[1] && truthy(*a[1]);
  const bool blank = a[2] && truthy(*a[2]);
  // jinja2 appends "\n" to the value itself: only strings survive that.
  require_defined(in);
  if (!in.is_string()) eval_fail("filter 'indent' needs a string, got '{}'", type_name(in));
  StrBuilder text;
  text.append(soft_str(in));
  text.append("\n");  // jinja2's quirk for splitlines
  std::vector<Str> lines = py_splitlines(text.take(), false);
  StrBuilder b;
  if (first) b.append(indention);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) {
      b.append("\n");
      if (blank || !lines[i].text.empty()) b.append(indention);
    }
    b.append(lines[i]);
    r.charge(b.size());
  }
  return Value::string(b.take());
}

// ---- map / select / reject / selectattr / rejectattr / unique / sort ----

Value apply_filter(Renderer& r, const std::string& name, const Value& item, const std::vector<Value>& extra) {
  FilterFn f = find_filter(name);
  if (!f) eval_fail("no filter named '{}'", name);
  CallArgs args;
  args.positional = extra;
  return f(r, item, args);
}

bool apply_test(Renderer& r, const std::optional<std::string>& name, const Value& item, const std::vector<Value>& extra) {
  if (!name) return truthy(item);
  TestFn t = find_test(*name);
  if (!t) eval_fail("no test named '{}'", *name);
  CallArgs args;
  args.positional = extra;
  return t(r, item, args);
}

// jinja2's map and select family test `if value:` before iterating, so a falsy non-iterable (none,
// false, 0) gives an empty result rather than an error.
std::vector<Value> iterate_if_truthy(const Value& in) { return truthy(in) ? iterate(in) : std::vector<Value>{}; }

Value f_map(Renderer& r, const Value& in, CallArgs& args) {
  std::vector<Value> out;
  const std::vector<Value> items = iterate_if_truthy(in);
  r.charge(items.size() * sizeof(Value));
  const bool by_attribute =
      std::any_of(args.keyword.begin(), args.keyword.end(), [](const auto& kw) { return kw.first == "attribute"; });
  if (by_attribute) {
    if (!args.positional.empty()) eval_fail("filter 'map' takes either a filter name or attribute=, not both");
    auto a = bind_args(args, "filter 'map'", {"attribute", "default"});
    for (const Value& item : items) {
      Value v = attr_path(r, item, *a[0]);
      if (v.is_undefined() && a[1]) v = *a[1];
      out.push_back(std::move(v));
    }
    return Value::list(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string())
    eval_fail("filter 'map' needs a filter name or attribute=");
  if (!args.keyword.empty()) eval_fail("filter 'map' passes only positional arguments on to the filter");
  const std::string name = args.positional[0].as_str().text;
  const std::vector<Value> extra(args.positional.begin() + 1, args.positional.end());
  for (const Value& item : items) out.push_back(apply_filter(r, name, item, extra));
  return Value::list(std::move(out));
}

Value select_common(Renderer& r, const Value& in, CallArgs& args, bool by_attr, bool keep_if, const char* what) {
  if (!args.keyword.empty()) eval_fail("filter '{}' takes no keyword arguments", what);
  std::vector<Value> p = args.positional;
  std::optional<Value> attribute;
  if (by_attr) {
    if (p.empty()) eval_fail("filter '{}' needs an attribute name", what);
    attribute = p.front();
    p.erase(p.begin());
  }
  std::optional<std::string> test;
  if (!p.empty()) {
    if (!p[0].is_string()) eval_fail("filter '{}' needs a test name", what);
    test = p[0].as_str().text;
    p.erase(p.begin());
  }
  std::vector<Value> out;
  for (const Value& item : iterate_if_truthy(in)) {
    r.step();
    const Value subject = attribute ? attr_path(r, item, *attribute) : item;
    if (apply_test(r, test, subject, p) == keep_if) out.push_back(item);
  }
  r.charge(out.size() * sizeof(Value));
  return Value::list(std::move(out));
}

Value f_select(Renderer& r, const Value& in, CallArgs& args) { return select_common(r, in, args, false, true, "select"); }
Value f_reject(Renderer& r, const Value& in, CallArgs& args) { return select_common(r, in, args, false, false, "reject"); }
Value f_selectattr(Renderer& r, const Value& in, CallArgs& args) {
  return select_common(r, in, args, true, true, "selectattr");
}
Value f_rejectattr(Renderer& r, const Value& in, CallArgs& args) {
  return select_common(r, in, args, true, false, "rejectattr");
}

// jinja2's ignore_case postprocessor for sort and unique keys.
Value sort_key(Renderer& r, const Value& item, const std::optional<Value>& attribute, bool case_sensitive) {
  Value key = attribute && !attribute->is_none() ? attr_path(r, item, *attribute) : item;
  if (!case_sensitive && key.is_string()) return Value::string(py_lower(key.as_str()));
  return key;
}

Value f_unique(Renderer& r, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'unique'", {"case_sensitive", "attribute"});
  const bool case_sensitive = a[0] && truthy(*a[0]);
  std::vector<Value> out, seen;
  for (const Value& item : iterate(in)) {
    r.step();
    Value key = sort_key(r, item, a[1], case_sensitive);
    if (key.is_dict() || (key.is_list() && !key.as_list().tuple)) eval_fail("unhashable type: '{}'", type_name(key));
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) continue;
    seen.push_back(std::move(key));
    out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value f_sort(Renderer& r, const Value& in, CallArgs& args) {
  auto a = bind_args(args, "filter 'sort'", {"reverse", "case_sensitive", "attribute"});
  const bool reverse = a[0] && truthy(*a[0]);
  const bool case_sensitive = a[1] && truthy(*a[1]);
  std::vector<Value> items = iterate(in);
  std::vector<std::pair<Value, size_t>> keyed;
  for (size_t i = 0; i < items.size(); ++i) keyed.emplace_back(sort_key(r, items[i], a[2], case_sensitive), i);
  r.charge(items.size() * sizeof(Value) * 4);
  // Python's sort is stable; reverse=True keeps equal items in their original order too.
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    r.step();
    return reverse ? compare(CompareOp::Lt, y.first, x.first) : compare(CompareOp::Lt, x.first, y.first);
  });
  std::vector<Value> out;
  for (const auto& [k, i] : keyed) out.push_back(items[i]);
  return Value::list(std::move(out));
}

const std::map<std::string, FilterFn, std::less<>>& filters() {
  static const std::map<std::string, FilterFn, std::less<>> table = {
      {"abs", f_abs},
      {"attr", f_attr},
      {"capitalize", f_capitalize},
      {"count", f_length},
      {"d", f_default},
      {"default", f_default},
      {"e", f_escape},
      {"escape", f_escape},
      {"first", f_first},
      {"float", f_float},
      {"indent", f_indent},
      {"int", f_int},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"lower", f_lower},
      {"map", f_map},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"replace", f_replace},
      {"reverse", f_reverse},
      {"safe", f_safe},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"sort", f_sort},
      {"string", f_string},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"unique", f_unique},
      {"upper", f_upper},
  };
  return table;
}

}  // namespace

FilterFn find_filter(std::string_view name) {
  const auto& table = filters();
  const auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

bool is_unsupported_jinja_filter(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "batch",  "center", "dictsort", "filesizeformat", "forceescape", "format",  "groupby",
      "max",    "min",    "pprint",   "random",         "round",       "slice",   "striptags",
      "sum",    "truncate", "urlencode", "urlize",      "wordcount",   "wordwrap", "xmlattr"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

}  // namespace sambay::jinja
