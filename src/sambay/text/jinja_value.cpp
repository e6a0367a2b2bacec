#include "sambay/text/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

// ---- strings with provenance ----

namespace {
thread_local StringBudget* t_budget = nullptr;
}

StringBudgetScope::StringBudgetScope(StringBudget* budget) : saved_(t_budget) { t_budget = budget; }
StringBudgetScope::~StringBudgetScope() { t_budget = saved_; }

void note_string_work(size_t new_size, size_t added) {
  StringBudget* b = t_budget;
  if (!b) return;
  if (new_size > b->max_bytes) eval_fail("a string of {} bytes exceeds the limit of {}", new_size, b->max_bytes);
  b->work += added;
  if (b->work > b->max_work) eval_fail("template exceeded its work limit of {} bytes built", b->max_work);
}

void StrBuilder::append(std::string_view text, bool content) {
  if (text.empty()) return;
  note_string_work(text_.size() + text.size(), text.size());
  text_.append(text);
  if (!runs_.empty() && runs_.back().content == content) {
    runs_.back().end = text_.size();
  } else {
    runs_.push_back({text_.size(), content});
  }
  any_content_ = any_content_ || content;
}

void StrBuilder::append(const Str& s, size_t begin, size_t end) {
  end = std::min(end, s.text.size());
  if (begin >= end) return;
  const std::string_view text(s.text);
  if (!s.has_content()) {
    append(text.substr(begin, end - begin), false);
    return;
  }
  size_t start = 0;
  for (const Run& run : s.runs) {
    const size_t a = std::max(start, begin), b = std::min(run.end, end);
    if (a < b) append(text.substr(a, b - a), run.content);
    start = run.end;
    if (start >= end) break;
  }
}

Str StrBuilder::take(bool markup) {
  Str s;
  s.text = std::move(text_);
  if (any_content_) s.runs = std::move(runs_);
  s.markup = markup;
  text_.clear();
  runs_.clear();
  any_content_ = false;
  return s;
}

// ---- construction ----

namespace {

int child_depth(const Value& v) { return v.depth(); }

void check_depth(int depth) {
  if (depth > kMaxValueDepth) eval_fail("value nested deeper than {} levels", kMaxValueDepth);
}

}  // namespace

Value Value::undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.ptr_ = std::make_shared<std::string>(std::move(hint));
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.b_ = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::Int;
  v.i_ = i;
  return v;
}

Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::Float;
  v.f_ = f;
  return v;
}

Value Value::string(Str s) {
  Value v;
  v.kind_ = Kind::String;
  v.ptr_ = std::make_shared<Str>(std::move(s));
  return v;
}

Value Value::string(std::string text, bool content) {
  Str s;
  if (content && !text.empty()) s.runs.push_back({text.size(), true});
  s.text = std::move(text);
  return string(std::move(s));
}

Value Value::list(std::vector<Value> items, bool tuple) {
  auto data = std::make_shared<ListData>();
  int depth = 0;
  for (const Value& item : items) depth = std::max(depth, child_depth(item));
  check_depth(depth + 1);
  data->items = std::move(items);
  data->tuple = tuple;
  data->depth = depth + 1;
  Value v;
  v.kind_ = Kind::List;
  v.ptr_ = std::move(data);
  return v;
}

Value Value::dict(std::vector<std::pair<Str, Value>> entries) {
  auto data = std::make_shared<DictData>();
  int depth = 0;
  for (const auto& entry : entries) depth = std::max(depth, child_depth(entry.second));
  check_depth(depth + 1);
  data->entries = std::move(entries);
  data->depth = depth + 1;
  Value v;
  v.kind_ = Kind::Dict;
  v.ptr_ = std::move(data);
  return v;
}

Value Value::object(std::shared_ptr<Object> object) {
  Value v;
  v.kind_ = Kind::Object;
  v.ptr_ = std::move(object);
  return v;
}

Value Value::callable(std::string name, CallFn fn) {
  Value v;
  v.kind_ = Kind::Callable;
  v.ptr_ = std::make_shared<Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

double Value::as_float() const {
  switch (kind_) {
    case Kind::Bool:
      return b_ ? 1.0 : 0.0;
    case Kind::Int:
      return static_cast<double>(i_);
    default:
      return f_;
  }
}

std::string Value::undefined_message() const {
  if (ptr_) return *static_cast<const std::string*>(ptr_.get());
  return "value is undefined";
}

int Value::depth() const {
  if (kind_ == Kind::List) return as_list().depth;
  if (kind_ == Kind::Dict) return as_dict().depth;
  return 0;
}

const Value* DictData::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k.text == key) return &v;
  return nullptr;
}

const Value* Object::find(std::string_view name) const {
  for (const auto& [k, v] : attrs)
    if (k == name) return &v;
  return nullptr;
}

void Object::set(const std::string& name, Value value) {
  for (auto& [k, v] : attrs) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  attrs.emplace_back(name, std::move(value));
}

// ---- Python protocol ----

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::None:
      return false;
    case Kind::Bool:
      return v.as_bool();
    case Kind::Int:
      return v.as_int() != 0;
    case Kind::Float:
      return v.as_float() != 0.0;
    case Kind::String:
      return !v.as_str().text.empty();
    case Kind::List:
      return !v.as_list().items.empty();
    case Kind::Dict:
      return !v.as_dict().entries.empty();
    default:
      return true;
  }
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
      return "Undefined";
    case Kind::None:
      return "NoneType";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return "int";
    case Kind::Float:
      return "float";
    case Kind::String:
      return v.as_str().markup ? "Markup" : "str";
    case Kind::List:
      return v.as_list().tuple ? "tuple" : "list";
    case Kind::Dict:
      return "dict";
    case Kind::Object:
      return v.as_object().type;
    case Kind::Callable:
      return "builtin_function_or_method";
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  if (v.kind() == Kind::Object) {
    return v.as_object().is_namespace() ? "jinja2.utils.Namespace object" : "jinja2.runtime.LoopContext object";
  }
  if (v.is_string() && v.as_str().markup) return "markupsafe.Markup object";
  return type_name(v) + " object";
}

void require_defined(const Value& v) {
  if (v.is_undefined()) throw EvalError(v.undefined_message());
}

std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string s(buf, res.ptr);  // shortest round-trip digits: "-1.2345e+02"
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  const size_t e = s.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (s[i] != '.') digits += s[i];
  const int exp10 = std::stoi(s.substr(e + 1));
  // Python's repr: the digits with the point at `decpt`, exponent form outside (-4, 16].
  const int decpt = exp10 + 1;
  const int n = static_cast<int>(digits.size());
  std::string out;
  if (decpt <= -4 || decpt > 16) {
    out = digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    const int x = decpt - 1;
    out += fmt::format("e{}{:02d}", x < 0 ? '-' : '+', x < 0 ? -x : x);
  } else if (decpt <= 0) {
    out = "0." + std::string(-decpt, '0') + digits;
  } else if (decpt >= n) {
    out = digits + std::string(decpt - n, '0') + ".0";
  } else {
    out = digits.substr(0, decpt) + "." + digits.substr(decpt);
  }
  return sign + out;
}

namespace {

void append_scalar(StrBuilder& out, const Value& v) {
  switch (v.kind()) {
    case Kind::None:
      out.append("None");
      break;
    case Kind::Bool:
      out.append(v.as_bool() ? "True" : "False");
      break;
    case Kind::Int:
      out.append(std::to_string(v.as_int()));
      break;
    case Kind::Float:
      out.append(float_repr(v.as_float()));
      break;
    default:
      break;
  }
}

std::string repr_text(std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const char32_t cp = next_code_point(text, i);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp >= 0x80 && i - start == 1 && static_cast<unsigned char>(text[start]) == cp) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));  // an invalid UTF-8 byte
    } else if (!is_py_printable(cp)) {
      if (cp < 0x100) {
        out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
      } else if (cp < 0x10000) {
        out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
      } else {
        out += fmt::format("\\U{:08x}", static_cast<unsigned>(cp));
      }
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  out += quote;
  return out;
}

}  // namespace

void append_repr(StrBuilder& out, const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
      out.append("Undefined");
      break;
    case Kind::String: {
      const Str& s = v.as_str();
      const std::string r = repr_text(s.text);
      out.append(s.markup ? "Markup(" + r + ")" : r, s.has_content());
      break;
    }
    case Kind::List: {
      const ListData& l = v.as_list();
      out.append(l.tuple ? "(" : "[");
      for (size_t i = 0; i < l.items.size(); ++i) {
        if (i) out.append(", ");
        append_repr(out, l.items[i]);
      }
      if (l.tuple && l.items.size() == 1) out.append(",");
      out.append(l.tuple ? ")" : "]");
      break;
    }
    case Kind::Dict: {
      const DictData& d = v.as_dict();
      out.append("{");
      for (size_t i = 0; i < d.entries.size(); ++i) {
        if (i) out.append(", ");
        out.append(repr_text(d.entries[i].first.text), d.entries[i].first.has_content());
        out.append(": ");
        append_repr(out, d.entries[i].second);
      }
      out.append("}");
      break;
    }
    case Kind::Object: {
      const Object& o = v.as_object();
      if (!o.is_namespace()) {
        out.append(o.repr);
        break;
      }
      out.append("<Namespace {");
      for (size_t i = 0; i < o.attrs.size(); ++i) {
        if (i) out.append(", ");
        out.append(repr_text(o.attrs[i].first));
        out.append(": ");
        append_repr(out, o.attrs[i].second);
      }
      out.append("}>");
      break;
    }
    case Kind::Callable:
      out.append("<built-in function " + v.as_callable().name + ">");
      break;
    default:
      append_scalar(out, v);
  }
}

void append_str(StrBuilder& out, const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
      break;
    case Kind::String:
      out.append(v.as_str());
      break;
    case Kind::None:
    case Kind::Bool:
    case Kind::Int:
    case Kind::Float:
      append_scalar(out, v);
      break;
    default:
      append_repr(out, v);
  }
}

Str to_str(const Value& v) {
  if (v.is_string()) {
    Str s = v.as_str();
    s.markup = false;
    return s;
  }
  StrBuilder b;
  append_str(b, v);
  return b.take();
}

std::string to_plain_string(const Value& v) {
  if (v.is_string()) return v.as_str().text;
  return to_str(v).text;
}

bool contains_content(const Value& v) {
  switch (v.kind()) {
    case Kind::String:
      return v.as_str().has_content();
    case Kind::List:
      for (const Value& item : v.as_list().items)
        if (contains_content(item)) return true;
      return false;
    case Kind::Dict:
      for (const auto& [k, item] : v.as_dict().entries)
        if (k.has_content() || contains_content(item)) return true;
      return false;
    case Kind::Object:
      for (const auto& [k, item] : v.as_object().attrs)
        if (contains_content(item)) return true;
      return false;
    default:
      return false;
  }
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::None:
      return true;
    case Kind::String:
      return a.as_str().text == b.as_str().text;
    case Kind::List: {
      const ListData& x = a.as_list();
      const ListData& y = b.as_list();
      if (x.tuple != y.tuple || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!equals(x.items[i], y.items[i])) return false;
      return true;
    }
    case Kind::Dict: {
      const DictData& x = a.as_dict();
      const DictData& y = b.as_dict();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x.entries) {
        const Value* other = y.find(k.text);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

namespace {

const char* op_symbol(CompareOp op) {
  switch (op) {
    case CompareOp::Lt:
      return "<";
    case CompareOp::Le:
      return "<=";
    case CompareOp::Gt:
      return ">";
    case CompareOp::Ge:
      return ">=";
  }
  return "?";
}

template <class T>
bool apply(CompareOp op, const T& x, const T& y) {
  switch (op) {
    case CompareOp::Lt:
      return x < y;
    case CompareOp::Le:
      return x <= y;
    case CompareOp::Gt:
      return x > y;
    case CompareOp::Ge:
      return x >= y;
  }
  return false;
}

}  // namespace

bool compare(CompareOp op, const Value& a, const Value& b) {
  require_defined(a);
  require_defined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return apply(op, a.as_int(), b.as_int());
    return apply(op, a.as_float(), b.as_float());
  }
  if (a.is_string() && b.is_string()) return apply(op, a.as_str().text, b.as_str().text);
  if (a.is_list() && b.is_list() && a.as_list().tuple == b.as_list().tuple) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equals(x[i], y[i])) return compare(op, x[i], y[i]);
    return apply(op, x.size(), y.size());
  }
  eval_fail("'{}' not supported between instances of '{}' and '{}'", op_symbol(op), type_name(a), type_name(b));
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::Undefined:
      return false;  // Undefined iterates as empty
    case Kind::String:
      if (!item.is_string())
        eval_fail("'in <string>' requires string as left operand, not {}", type_name(item));
      return container.as_str().text.find(item.as_str().text) != std::string::npos;
    case Kind::List:
      for (const Value& x : container.as_list().items)
        if (equals(x, item)) return true;
      return false;
    case Kind::Dict:
      if (item.is_list() && !item.as_list().tuple) eval_fail("unhashable type: 'list'");
      if (item.is_dict()) eval_fail("unhashable type: 'dict'");
      return item.is_string() && container.as_dict().find(item.as_str().text) != nullptr;
    default:
      eval_fail("argument of type '{}' is not iterable", type_name(container));
  }
}

Str html_escape(const Value& v) {
  if (v.is_string() && v.as_str().markup) return v.as_str();
  const Str s = to_str(v);
  // Provenance of each escaped character follows the character it replaces.
  std::vector<bool> flags;
  if (s.has_content()) {
    flags.resize(s.text.size());
    size_t start = 0;
    for (const Run& run : s.runs) {
      for (size_t i = start; i < run.end; ++i) flags[i] = run.content;
      start = run.end;
    }
  }
  StrBuilder out;
  size_t last = 0;
  for (size_t i = 0; i < s.text.size(); ++i) {
    const char* entity = nullptr;
    switch (s.text[i]) {
      case '&':
        entity = "&amp;";
        break;
      case '<':
        entity = "&lt;";
        break;
      case '>':
        entity = "&gt;";
        break;
      case '\'':
        entity = "&#39;";
        break;
      case '"':
        entity = "&#34;";
        break;
      default:
        continue;
    }
    out.append(s, last, i);
    out.append(entity, !flags.empty() && flags[i]);
    last = i + 1;
  }
  out.append(s, last, s.text.size());
  return out.take(/*markup=*/true);
}

}  // namespace sambay::jinja
