// Python's arithmetic operators on template values, with 64-bit integers that report overflow
// instead of growing (Python ints are unbounded; chat templates never need more than 64 bits).
#include <cmath>
#include <limits>

#include "sambay/text/jinja_render.h"

namespace sambay::jinja {

namespace {

const char* symbol(BinOp op) {
  switch (op) {
    case BinOp::Add:
      return "+";
    case BinOp::Sub:
      return "-";
    case BinOp::Mul:
      return "*";
    case BinOp::Div:
      return "/";
    case BinOp::FloorDiv:
      return "//";
    case BinOp::Mod:
      return "%";
    case BinOp::Pow:
      return "**";
  }
  return "?";
}

[[noreturn]] void unsupported(BinOp op, const Value& a, const Value& b) {
  eval_fail("unsupported operand type(s) for {}: '{}' and '{}'", symbol(op), type_name(a), type_name(b));
}

[[noreturn]] void overflow() { eval_fail("integer overflow (template integers are 64-bit)"); }

int64_t int_pow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1)
      if (__builtin_mul_overflow(result, base, &result)) overflow();
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
  }
  return result;
}

// Python's float divmod: the quotient floors and the remainder takes the divisor's sign.
void float_divmod(double x, double y, double& div, double& mod) {
  mod = std::fmod(x, y);
  div = (x - mod) / y;
  if (mod != 0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  if (div != 0) {
    const double floor_div = std::floor(div);
    div = (div - floor_div > 0.5) ? floor_div + 1.0 : floor_div;
  } else {
    div = std::copysign(0.0, x / y);
  }
}

Value repeat(Renderer& r, const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if (seq.is_string() && (times == 0 || seq.as_str().text.empty())) return Value::string(Str{{}, {}, seq.as_str().markup});
  if (seq.is_list() && (times == 0 || seq.as_list().items.empty())) return Value::list({}, seq.as_list().tuple);
  const auto n = static_cast<uint64_t>(times);
  if (seq.is_string()) {
    const Str& s = seq.as_str();
    if (n && s.text.size() > std::numeric_limits<uint64_t>::max() / n) overflow();
    r.charge(s.text.size() * n);
    StrBuilder b;
    for (uint64_t i = 0; i < n; ++i) b.append(s);
    return Value::string(b.take(s.markup));
  }
  const ListData& l = seq.as_list();
  if (n && l.items.size() > std::numeric_limits<uint64_t>::max() / (n * sizeof(Value))) overflow();
  r.charge(l.items.size() * n * sizeof(Value));
  std::vector<Value> items;
  items.reserve(l.items.size() * n);
  for (uint64_t i = 0; i < n; ++i) items.insert(items.end(), l.items.begin(), l.items.end());
  return Value::list(std::move(items), l.tuple);
}

Value add(Renderer& r, const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) {
      int64_t out;
      if (__builtin_add_overflow(a.as_int(), b.as_int(), &out)) overflow();
      return Value::integer(out);
    }
    return Value::number(a.as_float() + b.as_float());
  }
  if (a.is_string() && b.is_string()) {
    const Str& x = a.as_str();
    const Str& y = b.as_str();
    r.charge(x.text.size() + y.text.size());
    StrBuilder out;
    if (x.markup || y.markup) {
      // markupsafe: Markup + str escapes the plain str, and the result is Markup.
      out.append(html_escape(a));
      out.append(html_escape(b));
      return Value::string(out.take(true));
    }
    out.append(x);
    out.append(y);
    return Value::string(out.take());
  }
  if (a.is_list() && b.is_list() && a.as_list().tuple == b.as_list().tuple) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    r.charge((x.size() + y.size()) * sizeof(Value));
    std::vector<Value> items(x);
    items.insert(items.end(), y.begin(), y.end());
    return Value::list(std::move(items), a.as_list().tuple);
  }
  if (a.is_string()) eval_fail("can only concatenate str (not \"{}\") to str", type_name(b));
  if (a.is_list()) eval_fail("can only concatenate {} (not \"{}\") to {}", type_name(a), type_name(b), type_name(a));
  unsupported(BinOp::Add, a, b);
}

}  // namespace

Value binary_op(Renderer& r, BinOp op, const Value& a, const Value& b) {
  require_defined(a);
  // str % x never defers to x, so an Undefined argument is simply formatted (as '' by %s).
  if (op == BinOp::Mod && a.is_string()) return percent_format(r, a, b);
  require_defined(b);
  switch (op) {
    case BinOp::Add:
      return add(r, a, b);
    case BinOp::Sub:
      if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
          int64_t out;
          if (__builtin_sub_overflow(a.as_int(), b.as_int(), &out)) overflow();
          return Value::integer(out);
        }
        return Value::number(a.as_float() - b.as_float());
      }
      break;
    case BinOp::Mul:
      if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
          int64_t out;
          if (__builtin_mul_overflow(a.as_int(), b.as_int(), &out)) overflow();
          return Value::integer(out);
        }
        return Value::number(a.as_float() * b.as_float());
      }
      if ((a.is_string() || a.is_list()) && b.is_integral()) return repeat(r, a, b.as_int());
      if (a.is_integral() && (b.is_string() || b.is_list())) return repeat(r, b, a.as_int());
      if (a.is_string() && b.kind() == Kind::Float) eval_fail("can't multiply sequence by non-int of type 'float'");
      break;
    case BinOp::Div:
      if (a.is_number() && b.is_number()) {
        if (b.as_float() == 0) eval_fail("division by zero");
        return Value::number(a.as_float() / b.as_float());
      }
      break;
    case BinOp::FloorDiv:
    case BinOp::Mod:
      if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral()) {
          const int64_t x = a.as_int(), y = b.as_int();
          if (y == 0) {
            if (op == BinOp::Mod) eval_fail("integer modulo by zero");
            eval_fail("integer division or modulo by zero");
          }
          if (x == std::numeric_limits<int64_t>::min() && y == -1) {
            if (op == BinOp::Mod) return Value::integer(0);
            overflow();
          }
          int64_t q = x / y, m = x % y;
          if (m != 0 && ((m < 0) != (y < 0))) {
            m += y;
            q -= 1;
          }
          return Value::integer(op == BinOp::Mod ? m : q);
        }
        const double y = b.as_float();
        if (y == 0) {
          if (op == BinOp::Mod) eval_fail("float modulo");
          eval_fail("float floor division by zero");
        }
        double div, mod;
        float_divmod(a.as_float(), y, div, mod);
        return Value::number(op == BinOp::Mod ? mod : div);
      }
      break;
    case BinOp::Pow:
      if (a.is_number() && b.is_number()) {
        if (a.is_integral() && b.is_integral() && b.as_int() >= 0) return Value::integer(int_pow(a.as_int(), b.as_int()));
        const double x = a.as_float(), y = b.as_float();
        if (x == 0 && y < 0) eval_fail("0.0 cannot be raised to a negative power");
        if (x < 0 && y != std::floor(y)) eval_fail("complex results are not supported");
        const double out = std::pow(x, y);
        if (std::isinf(out) && std::isfinite(x) && std::isfinite(y)) eval_fail("(34, 'Numerical result out of range')");
        return Value::number(out);
      }
      break;
  }
  unsupported(op, a, b);
}

Value negate(const Value& v) {
  require_defined(v);
  if (v.is_integral()) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) overflow();
    return Value::integer(-v.as_int());
  }
  if (v.kind() == Kind::Float) return Value::number(-v.as_float());
  eval_fail("bad operand type for unary -: '{}'", type_name(v));
}

Value unary_plus(const Value& v) {
  require_defined(v);
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.kind() == Kind::Float) return v;
  eval_fail("bad operand type for unary +: '{}'", type_name(v));
}

}  // namespace sambay::jinja
