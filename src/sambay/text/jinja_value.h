#pragma once
// Runtime values of the template interpreter: the Python objects that jinja2 templates see
// (None, bool, int, float, str, list, tuple, dict, jinja's Undefined, Namespace and LoopContext,
// and built-in functions), with Python's semantics for truth, str(), repr(), == and ordering.
//
// Strings carry provenance: every byte knows whether it came from the caller's data ("content":
// message content, tool definitions, ...) or from the template itself, so a renderer can hand the
// tokenizer template markup and user text separately. See chat_template.h for the rule.
#include <fmt/format.h>

#include <cstdint>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sambay::jinja {

// Thrown by value operations and built-ins; the renderer prefixes the template position of the
// expression being evaluated and rethrows it as sambay::Error.
class EvalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void eval_fail(fmt::format_string<Args...> format, Args&&... args) {
  throw EvalError(fmt::format(format, std::forward<Args>(args)...));
}

// Values nest at most this deep (lists in dicts in lists...): it bounds the recursion of repr,
// tojson, comparison and destruction, which fuzzed templates could otherwise drive without limit.
inline constexpr int kMaxValueDepth = 100;

struct Run {
  size_t end;  // exclusive byte offset
  bool content;
};

// Bounds on string building for the render in progress on this thread: every StrBuilder append is
// checked against them, so that no path (repr of a huge shared list, say) escapes the limits.
struct StringBudget {
  size_t max_bytes = SIZE_MAX;     // one string
  uint64_t max_work = UINT64_MAX;  // all bytes appended, in total
  uint64_t work = 0;
};

// Installs a budget for this thread while in scope (renders do not nest, but restore anyway).
class StringBudgetScope {
 public:
  explicit StringBudgetScope(StringBudget* budget);
  ~StringBudgetScope();
  StringBudgetScope(const StringBudgetScope&) = delete;
  StringBudgetScope& operator=(const StringBudgetScope&) = delete;

 private:
  StringBudget* saved_;
};

// Counts `added` bytes of work toward a string that would then be `new_size` bytes; throws
// EvalError past either bound. No-op outside a render.
void note_string_work(size_t new_size, size_t added);

// A Python str. `runs` cover [0, text.size()) in order, adjacent runs differing in flag, when any
// byte is content; `runs` is empty when none is (the common case costs nothing).
struct Str {
  std::string text;
  std::vector<Run> runs;
  // A markupsafe.Markup (made by jinja's tojson, |safe, |escape): '+' with a plain str HTML-escapes
  // the plain side, as Python's jinja2 does.
  bool markup = false;

  bool has_content() const { return !runs.empty(); }
};

class StrBuilder {
 public:
  void append(std::string_view text, bool content = false);
  void append(const Str& s) { append(s, 0, s.text.size()); }
  void append(const Str& s, size_t begin, size_t end);  // a byte range of s, keeping its provenance
  size_t size() const { return text_.size(); }
  Str take(bool markup = false);

 private:
  std::string text_;
  std::vector<Run> runs_;
  bool any_content_ = false;
};

enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Object, Callable };

class Value;
class Renderer;

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};
using CallFn = std::function<Value(Renderer&, CallArgs&)>;

struct ListData;
struct DictData;
struct Object;
struct Callable;

class Value {
 public:
  Value() = default;  // an Undefined with no hint
  static Value undefined(std::string hint);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(Str s);
  static Value string(std::string text, bool content = false);
  static Value list(std::vector<Value> items, bool tuple = false);
  // Keys must be unique; insertion order is kept, as in a Python dict.
  static Value dict(std::vector<std::pair<Str, Value>> entries);
  static Value object(std::shared_ptr<Object> object);
  static Value callable(std::string name, CallFn fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  // Python's numbers.Number: bool, int and float.
  bool is_number() const { return kind_ == Kind::Bool || kind_ == Kind::Int || kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Bool || kind_ == Kind::Int; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::Bool ? int64_t{b_} : i_; }  // bool or int
  double as_float() const;                                                  // any number
  const Str& as_str() const { return *static_cast<const Str*>(ptr_.get()); }
  const ListData& as_list() const { return *static_cast<const ListData*>(ptr_.get()); }
  const DictData& as_dict() const { return *static_cast<const DictData*>(ptr_.get()); }
  Object& as_object() const { return *static_cast<Object*>(ptr_.get()); }
  const Callable& as_callable() const { return *static_cast<const Callable*>(ptr_.get()); }
  const void* identity() const { return ptr_.get(); }
  std::string undefined_message() const;  // jinja's UndefinedError text for this value
  int depth() const;                      // 0 for scalars, 1 + deepest child for lists and dicts

 private:
  Kind kind_ = Kind::Undefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::shared_ptr<void> ptr_;  // Str, ListData, DictData, Object, Callable, or the Undefined hint
};

struct ListData {
  std::vector<Value> items;
  bool tuple = false;
  int depth = 1;
};

struct DictData {
  std::vector<std::pair<Str, Value>> entries;
  int depth = 1;
  const Value* find(std::string_view key) const;
};

// Namespace (mutable through {% set ns.attr = ... %}) and LoopContext.
struct Object {
  std::string type;  // "Namespace" or "LoopContext"
  std::vector<std::pair<std::string, Value>> attrs;
  std::string repr;  // LoopContext's repr; a Namespace's is built from attrs
  bool is_namespace() const { return type == "Namespace"; }
  const Value* find(std::string_view name) const;
  void set(const std::string& name, Value value);
};

struct Callable {
  std::string name;
  CallFn fn;
};

bool truthy(const Value& v);
// Python's type name, as used in error messages: 'NoneType', 'int', 'str', 'dict', ...
std::string type_name(const Value& v);
// jinja's object_type_repr for Undefined hints: "None", "dict object", ...
std::string object_type_repr(const Value& v);
// Throws jinja's UndefinedError text when v is Undefined; for operations that reject it.
void require_defined(const Value& v);

std::string float_repr(double f);                      // Python repr(float)
void append_str(StrBuilder& out, const Value& v);      // Python str(v); Undefined prints nothing
void append_repr(StrBuilder& out, const Value& v);     // Python repr(v)
Str to_str(const Value& v);
std::string to_plain_string(const Value& v);           // str(v) without provenance
bool contains_content(const Value& v);                 // any string or key inside is content

bool equals(const Value& a, const Value& b);           // Python ==
enum class CompareOp { Lt, Le, Gt, Ge };
bool compare(CompareOp op, const Value& a, const Value& b);  // Python <, <=, >, >=; throws TypeError text
bool contains(const Value& container, const Value& item);   // Python `item in container`

// markupsafe.escape of a string (Markup passes through), and of str(v) otherwise.
Str html_escape(const Value& v);

}  // namespace sambay::jinja
