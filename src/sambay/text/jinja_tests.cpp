// jinja2's built-in tests (`x is defined`, `x is string`, ...).
#include <algorithm>
#include <cmath>
#include <map>

#include "sambay/text/jinja_builtins.h"
#include "sambay/text/jinja_render.h"
#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

namespace {

void no_args(CallArgs& args, const char* name) { bind_args(args, std::string("test '") + name + "'", {}); }

Value one_arg(CallArgs& args, const char* name) {
  return *bind_args(args, std::string("test '") + name + "'", {"other"}, 1)[0];
}

bool t_defined(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "defined"), !v.is_undefined(); }
bool t_undefined(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "undefined"), v.is_undefined(); }
bool t_none(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "none"), v.is_none(); }
bool t_string(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "string"), v.is_string(); }
bool t_number(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "number"), v.is_number(); }
bool t_integer(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "integer"), v.kind() == Kind::Int; }
bool t_float(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "float"), v.kind() == Kind::Float; }
bool t_boolean(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "boolean"), v.kind() == Kind::Bool; }
bool t_true(Renderer&, const Value& v, CallArgs& a) {
  return no_args(a, "true"), v.kind() == Kind::Bool && v.as_bool();
}
bool t_false(Renderer&, const Value& v, CallArgs& a) {
  return no_args(a, "false"), v.kind() == Kind::Bool && !v.as_bool();
}
bool t_mapping(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "mapping"), v.is_dict(); }
bool t_iterable(Renderer&, const Value& v, CallArgs& a) {
  no_args(a, "iterable");
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict() ||
         (v.kind() == Kind::Object && !v.as_object().is_namespace());
}
bool t_sequence(Renderer&, const Value& v, CallArgs& a) {
  no_args(a, "sequence");
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
// Undefined defines __call__ (to raise), so Python's callable() says yes.
bool t_callable(Renderer&, const Value& v, CallArgs& a) {
  return no_args(a, "callable"), v.kind() == Kind::Callable || v.is_undefined();
}
bool t_escaped(Renderer&, const Value& v, CallArgs& a) {
  return no_args(a, "escaped"), v.is_string() && v.as_str().markup;
}

// jinja2 tests `value % 2 == 1` and the like with Python's own %, so strings go through printf-style
// formatting (and never equal a number) and floats use float modulo.
bool mod_equals(Renderer& r, const Value& v, const Value& divisor, int64_t expected) {
  return equals(binary_op(r, BinOp::Mod, v, divisor), Value::integer(expected));
}

bool t_odd(Renderer& r, const Value& v, CallArgs& a) {
  return no_args(a, "odd"), mod_equals(r, v, Value::integer(2), 1);
}
bool t_even(Renderer& r, const Value& v, CallArgs& a) {
  return no_args(a, "even"), mod_equals(r, v, Value::integer(2), 0);
}
bool t_divisibleby(Renderer& r, const Value& v, CallArgs& a) {
  const std::vector<std::optional<Value>> b = bind_args(a, "test 'divisibleby'", {"num"}, 1);
  return mod_equals(r, v, *b[0], 0);
}
bool t_eq(Renderer&, const Value& v, CallArgs& a) { return equals(v, one_arg(a, "eq")); }
bool t_ne(Renderer&, const Value& v, CallArgs& a) { return !equals(v, one_arg(a, "ne")); }
bool t_lt(Renderer&, const Value& v, CallArgs& a) { return compare(CompareOp::Lt, v, one_arg(a, "lt")); }
bool t_le(Renderer&, const Value& v, CallArgs& a) { return compare(CompareOp::Le, v, one_arg(a, "le")); }
bool t_gt(Renderer&, const Value& v, CallArgs& a) { return compare(CompareOp::Gt, v, one_arg(a, "gt")); }
bool t_ge(Renderer&, const Value& v, CallArgs& a) { return compare(CompareOp::Ge, v, one_arg(a, "ge")); }
bool t_in(Renderer&, const Value& v, CallArgs& a) { return contains(one_arg(a, "in"), v); }
// Python's `is`: singletons and small cached ints compare by value, containers by identity.
bool t_sameas(Renderer&, const Value& v, CallArgs& a) {
  const Value o = one_arg(a, "sameas");
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Kind::None:
    case Kind::Undefined:
      return v.kind() == Kind::None;
    case Kind::Bool:
      return v.as_bool() == o.as_bool();
    case Kind::Int:
      return v.as_int() == o.as_int() && v.as_int() >= -5 && v.as_int() <= 256;
    case Kind::Float:
      return false;
    default:
      return v.identity() == o.identity();
  }
}
bool cased(const Value& v, bool upper) {
  const std::string s = to_plain_string(v);
  return upper ? py_isupper(s) : py_islower(s);
}
bool t_lower(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "lower"), cased(v, false); }
bool t_upper(Renderer&, const Value& v, CallArgs& a) { return no_args(a, "upper"), cased(v, true); }

const std::map<std::string, TestFn, std::less<>>& tests() {
  static const std::map<std::string, TestFn, std::less<>> table = {
      {"!=", t_ne},          {"<", t_lt},
      {"<=", t_le},          {"==", t_eq},
      {">", t_gt},           {">=", t_ge},
      {"boolean", t_boolean}, {"callable", t_callable},
      {"defined", t_defined}, {"divisibleby", t_divisibleby},
      {"eq", t_eq},          {"equalto", t_eq},
      {"escaped", t_escaped}, {"even", t_even},
      {"false", t_false},    {"float", t_float},
      {"ge", t_ge},          {"greaterthan", t_gt},
      {"gt", t_gt},          {"in", t_in},
      {"integer", t_integer}, {"iterable", t_iterable},
      {"le", t_le},          {"lessthan", t_lt},
      {"lower", t_lower},    {"lt", t_lt},
      {"mapping", t_mapping}, {"ne", t_ne},
      {"none", t_none},      {"number", t_number},
      {"odd", t_odd},        {"sameas", t_sameas},
      {"sequence", t_sequence}, {"string", t_string},
      {"true", t_true},      {"undefined", t_undefined},
      {"upper", t_upper},
  };
  return table;
}

}  // namespace

TestFn find_test(std::string_view name) {
  const auto& table = tests();
  const auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

bool is_unsupported_jinja_test(std::string_view name) { return name == "filter" || name == "test"; }

}  // namespace sambay::jinja
