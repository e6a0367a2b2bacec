// Python's printf-style `format % args` (PyUnicode_Format) for template strings: conversions
// s r a d i u x X o c e E f F g G and %%, flags - + space # 0, width and precision (digits or *),
// and %(key)s lookups in a dict. Inserted strings keep their provenance; a Markup format escapes
// what it inserts, as markupsafe does.
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "sambay/text/jinja_render.h"
#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

namespace {

struct Spec {
  bool left = false, plus = false, space = false, alt = false, zero = false;
  int64_t width = -1;
  int64_t precision = -1;
  char conv = 0;
};

class Args {
 public:
  explicit Args(const Value& args) : args_(args) {
    if (args.is_list() && args.as_list().tuple) {
      items_ = args.as_list().items;
      tuple_ = true;
    } else {
      items_.push_back(args);
    }
    // Python treats any non-tuple, non-str object with __getitem__ as a mapping here.
    mapping_like_ = !tuple_ && (args.is_dict() || args.is_list() || args.is_undefined());
  }

  const Value& next() {
    if (used_ >= items_.size()) eval_fail("not enough arguments for format string");
    return items_[used_++];
  }

  Value lookup(const std::string& key) const {
    if (!args_.is_dict()) eval_fail("format requires a mapping");
    const Value* v = args_.as_dict().find(key);
    if (!v) eval_fail("KeyError: '{}'", key);
    return *v;
  }

  void finish(bool used_mapping) const {
    if (used_ < items_.size() && !mapping_like_ && !used_mapping)
      eval_fail("not all arguments converted during string formatting");
  }

 private:
  const Value& args_;
  std::vector<Value> items_;
  size_t used_ = 0;
  bool tuple_ = false;
  bool mapping_like_ = false;
};

int64_t star_arg(Args& args) {
  const Value& v = args.next();
  if (!v.is_integral()) eval_fail("* wants int");
  return v.as_int();
}

void pad_to(StrBuilder& out, const Str& body, const Spec& spec) {
  const auto n = static_cast<int64_t>(count_code_points(body.text));
  const std::string fill = spec.width > n ? std::string(static_cast<size_t>(spec.width - n), ' ') : "";
  if (!spec.left) out.append(fill);
  out.append(body);
  if (spec.left) out.append(fill);
}

std::string format_integer(int64_t v, const Spec& spec) {
  const bool neg = v < 0;
  const uint64_t mag = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string digits;
  std::string prefix;
  switch (spec.conv) {
    case 'x':
      digits = fmt::format("{:x}", mag);
      if (spec.alt) prefix = "0x";
      break;
    case 'X':
      digits = fmt::format("{:X}", mag);
      if (spec.alt) prefix = "0X";
      break;
    case 'o':
      digits = fmt::format("{:o}", mag);
      if (spec.alt) prefix = "0o";
      break;
    default:
      digits = std::to_string(mag);
  }
  if (spec.precision > static_cast<int64_t>(digits.size()))
    digits.insert(0, static_cast<size_t>(spec.precision - static_cast<int64_t>(digits.size())), '0');
  const std::string sign = neg ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  const auto len = static_cast<int64_t>(sign.size() + prefix.size() + digits.size());
  if (spec.width > len && spec.zero && !spec.left)
    return sign + prefix + std::string(static_cast<size_t>(spec.width - len), '0') + digits;
  return sign + prefix + digits;
}

std::string format_float(double v, const Spec& spec) {
  std::string f = "%";
  if (spec.left) f += '-';
  if (spec.plus) f += '+';
  if (spec.space) f += ' ';
  if (spec.alt) f += '#';
  if (spec.zero) f += '0';
  f += "*.*";
  f += spec.conv;
  const int width = static_cast<int>(std::max<int64_t>(spec.width, 0));
  const int precision = spec.precision < 0 ? 6 : static_cast<int>(std::min<int64_t>(spec.precision, 500));
  std::vector<char> buf(static_cast<size_t>(width) + 1024);
  const int n = std::snprintf(buf.data(), buf.size(), f.c_str(), width, precision, v);
  if (n < 0 || static_cast<size_t>(n) >= buf.size()) eval_fail("formatted number is too long");
  return std::string(buf.data(), static_cast<size_t>(n));
}

}  // namespace

Value percent_format(Renderer& r, const Value& format, const Value& args_value) {
  const Str& f = format.as_str();
  const std::string& t = f.text;
  Args args(args_value);
  bool used_mapping = false;
  StrBuilder out;
  size_t i = 0, literal = 0;
  while (i < t.size()) {
    if (t[i] != '%') {
      ++i;
      continue;
    }
    out.append(f, literal, i);
    const size_t spec_start = i++;
    if (i >= t.size()) eval_fail("incomplete format");
    if (t[i] == '%') {
      out.append(f, i, i + 1);
      literal = ++i;
      continue;
    }
    std::optional<Value> keyed;
    if (t[i] == '(') {
      int depth = 1;
      const size_t start = ++i;
      while (i < t.size() && depth > 0) {
        if (t[i] == '(') ++depth;
        if (t[i] == ')') --depth;
        ++i;
      }
      if (depth > 0) eval_fail("incomplete format key");
      keyed = args.lookup(t.substr(start, i - 1 - start));
      used_mapping = true;
    }
    Spec spec;
    for (; i < t.size(); ++i) {
      const char c = t[i];
      if (c == '-') {
        spec.left = true;
      } else if (c == '+') {
        spec.plus = true;
      } else if (c == ' ') {
        spec.space = true;
      } else if (c == '#') {
        spec.alt = true;
      } else if (c == '0') {
        spec.zero = true;
      } else {
        break;
      }
    }
    auto number = [&]() -> int64_t {
      if (i < t.size() && t[i] == '*') {
        ++i;
        return star_arg(args);
      }
      int64_t v = -1;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (t[i++] - '0');
        if (v > 100000) eval_fail("width or precision too big");
      }
      return v;
    };
    spec.width = number();
    if (spec.width < -1) {  // a negative '*' width means left-justified
      spec.left = true;
      spec.width = -spec.width;
    }
    if (i < t.size() && t[i] == '.') {
      ++i;
      spec.precision = number();
      if (spec.precision < 0) spec.precision = 0;
    }
    while (i < t.size() && (t[i] == 'h' || t[i] == 'l' || t[i] == 'L')) ++i;
    if (i >= t.size()) eval_fail("incomplete format");
    spec.conv = t[i++];
    literal = i;
    const Value v = keyed ? *keyed : args.next();
    r.charge(static_cast<uint64_t>(std::max<int64_t>(spec.width, 0)) + 64);
    switch (spec.conv) {
      case 's':
      case 'r':
      case 'a': {
        StrBuilder b;
        if (spec.conv == 's') {
          append_str(b, v);
        } else {
          append_repr(b, v);
        }
        Str body = b.take();
        if (f.markup) body = html_escape(Value::string(body));
        if (spec.precision >= 0) {
          const std::vector<size_t> offsets = code_point_offsets(body.text);
          if (static_cast<size_t>(spec.precision) + 1 < offsets.size()) {
            StrBuilder cut;
            cut.append(body, 0, offsets[static_cast<size_t>(spec.precision)]);
            body = cut.take();
          }
        }
        pad_to(out, body, spec);
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        require_defined(v);
        int64_t n;
        if (v.is_integral()) {
          n = v.as_int();
        } else if (v.kind() == Kind::Float && (spec.conv == 'd' || spec.conv == 'i' || spec.conv == 'u')) {
          const double x = v.as_float();
          if (!std::isfinite(x)) eval_fail("cannot convert float {} to integer", float_repr(x));
          if (std::fabs(x) >= 9.2e18) eval_fail("integer out of the 64-bit range");
          n = static_cast<int64_t>(std::trunc(x));
        } else if (spec.conv == 'd' || spec.conv == 'i' || spec.conv == 'u') {
          eval_fail("%{} format: a real number is required, not {}", spec.conv, type_name(v));
        } else {
          eval_fail("%{} format: an integer is required, not {}", spec.conv, type_name(v));
        }
        pad_to(out, Str{format_integer(n, spec), {}, false}, spec);
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': {
        require_defined(v);
        if (!v.is_number()) eval_fail("must be real number, not {}", type_name(v));
        pad_to(out, Str{format_float(v.as_float(), spec), {}, false}, spec);
        break;
      }
      case 'c': {
        std::string ch;
        if (v.is_integral()) {
          if (v.as_int() < 0 || v.as_int() > 0x10FFFF) eval_fail("%c arg not in range(0x110000)");
          append_utf8(ch, static_cast<char32_t>(v.as_int()));
        } else if (v.is_string() && count_code_points(v.as_str().text) == 1) {
          ch = v.as_str().text;
        } else {
          eval_fail("%c requires an int or a unicode character, not {}", type_name(v));
        }
        pad_to(out, Str{ch, {}, false}, spec);
        break;
      }
      default:
        eval_fail("unsupported format character '{}' at index {}", spec.conv, spec_start + 1);
    }
  }
  out.append(f, literal, t.size());
  args.finish(used_mapping);
  r.charge(out.size());
  return Value::string(out.take(f.markup));
}

}  // namespace sambay::jinja
