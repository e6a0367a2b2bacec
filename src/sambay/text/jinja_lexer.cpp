#include "sambay/text/jinja_lexer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "sambay/base/error.h"
#include "sambay/text/jinja_unicode.h"

namespace sambay::jinja {

const char* describe(Tok type) {
  switch (type) {
    case Tok::Text:
      return "template data";
    case Tok::VarBegin:
      return "begin of print statement";
    case Tok::VarEnd:
      return "end of print statement";
    case Tok::BlockBegin:
      return "begin of statement block";
    case Tok::BlockEnd:
      return "end of statement block";
    case Tok::Name:
      return "name";
    case Tok::String:
      return "string";
    case Tok::Integer:
      return "integer";
    case Tok::Float:
      return "float";
    case Tok::Op:
      return "operator";
    case Tok::End:
      return "end of template";
  }
  return "token";
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

class Lexer {
 public:
  Lexer(std::string_view raw, const std::string& origin) : origin_(origin) {
    // jinja2: \r\n and \r become \n, and one trailing newline is dropped.
    src_.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r') {
        src_ += '\n';
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      } else {
        src_ += raw[i];
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    const size_t bad = find_invalid_utf8(src_);
    if (bad != std::string::npos) fail_at(bad, "template is not valid UTF-8");
    bool line_starting = true;
    size_t pos = 0;
    const size_t n = src_.size();
    while (pos < n) {
      size_t k = pos;
      while (true) {
        k = src_.find('{', k);
        if (k == std::string::npos || k + 1 >= n) {
          k = std::string::npos;
          break;
        }
        const char c = src_[k + 1];
        if (c == '{' || c == '%' || c == '#') break;
        ++k;
      }
      if (k == std::string::npos) {
        emit_text(src_.substr(pos), pos);
        break;
      }
      const char kind = src_[k + 1];
      char sign = 0;
      if (k + 2 < n && (src_[k + 2] == '-' || src_[k + 2] == '+')) sign = src_[k + 2];
      const size_t after_sign = k + 2 + (sign ? 1 : 0);
      size_t raw_end = 0;
      const bool is_raw = kind == '%' && match_raw_begin(after_sign, raw_end);
      std::string text = src_.substr(pos, k - pos);
      strip_before_tag(text, sign, kind != '{', line_starting);
      emit_text(std::move(text), pos);
      line_starting = false;

      if (is_raw) {
        line_starting = raw_end > 0 && src_[raw_end - 1] == '\n';
        pos = lex_raw(k, raw_end, line_starting);
        line_starting = pos > 0 && src_[pos - 1] == '\n';
      } else if (kind == '#') {
        pos = skip_comment(k, after_sign);
        line_starting = src_[pos - 1] == '\n';
      } else {
        pos = lex_tag(k, after_sign, kind == '%');
        line_starting = src_[pos - 1] == '\n';
      }
    }
    tokens_.push_back(Token{Tok::End, pos_of(src_.size()), {}});
    return std::move(tokens_);
  }

 private:
  // Offsets come nearly in order, so columns are counted on from the last answer on the same line.
  Pos pos_of(size_t offset) {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    size_t from = *it;
    size_t col = 1;
    if (line == cache_line_ && offset >= cache_offset_) {
      from = cache_offset_;
      col = cache_col_;
    }
    col += count_code_points(std::string_view(src_).substr(from, offset - from));
    cache_line_ = line;
    cache_offset_ = offset;
    cache_col_ = col;
    return Pos{static_cast<int>(line) + 1, static_cast<int>(col)};
  }

  template <class... Args>
  [[noreturn]] void fail_at(size_t offset, fmt::format_string<Args...> format, Args&&... args) {
    const Pos p = pos_of(offset);
    fail("{}:{}:{}: {}", origin_, p.line, p.col, fmt::format(format, std::forward<Args>(args)...));
  }

  // Python's \s: whitespace per str.isspace(). Returns the byte length of the whitespace run.
  size_t space_run(size_t i) const {
    const size_t start = i;
    while (i < src_.size()) {
      size_t j = i;
      if (!is_py_space(next_code_point(src_, j))) break;
      i = j;
    }
    return i - start;
  }

  static void rstrip_space(std::string& text) {
    size_t end = text.size();
    while (end > 0) {
      size_t start = end - 1;
      while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      size_t j = start;
      if (!is_py_space(next_code_point(text, j)) || j != end) break;
      end = start;
    }
    text.resize(end);
  }

  static bool all_space(std::string_view text) {
    size_t i = 0;
    while (i < text.size())
      if (!is_py_space(next_code_point(text, i))) return false;
    return true;
  }

  // jinja2's OptionalLStrip: `-` strips all whitespace before the tag; otherwise lstrip_blocks
  // removes spaces and tabs between the start of the line and a block or comment tag.
  static void strip_before_tag(std::string& text, char sign, bool lstrip_applies, bool line_starting) {
    if (sign == '-') {
      rstrip_space(text);
    } else if (sign != '+' && lstrip_applies) {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
          all_space(std::string_view(text).substr(l_pos))) {
        text.resize(l_pos);
      }
    }
  }

  void emit_text(std::string text, size_t offset) {
    if (text.empty()) return;
    tokens_.push_back(Token{Tok::Text, pos_of(offset), std::move(text)});
  }

  bool starts_with(size_t i, std::string_view s) const { return src_.compare(i, s.size(), s) == 0; }

  // `{%[-+]? \s* raw \s* (-%}\s* | %})` from just after the sign; sets `end` past it.
  bool match_raw_begin(size_t i, size_t& end) const {
    i += space_run(i);
    if (!starts_with(i, "raw")) return false;
    i += 3;
    i += space_run(i);
    if (starts_with(i, "-%}")) {
      i += 3;
      end = i + space_run(i);
      return true;
    }
    if (starts_with(i, "%}")) {
      end = i + 2;
      return true;
    }
    return false;
  }

  // Emits the raw text up to the first `{% endraw %}`; returns the offset after that tag.
  size_t lex_raw(size_t begin, size_t body, bool line_starting) {
    for (size_t k = src_.find("{%", body); k != std::string::npos; k = src_.find("{%", k + 1)) {
      char sign = 0;
      size_t i = k + 2;
      if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) sign = src_[i++];
      i += space_run(i);
      if (!starts_with(i, "endraw")) continue;
      i += 6;
      i += space_run(i);
      size_t end;
      if (starts_with(i, "+%}")) {
        end = i + 3;
      } else if (starts_with(i, "-%}")) {
        end = i + 3;
        end += space_run(end);
      } else if (starts_with(i, "%}")) {
        end = i + 2;
        if (end < src_.size() && src_[end] == '\n') ++end;
      } else {
        continue;
      }
      std::string text = src_.substr(body, k - body);
      strip_before_tag(text, sign, true, line_starting);
      emit_text(std::move(text), body);
      return end;
    }
    fail_at(begin, "missing end of raw directive ({{% endraw %}})");
  }

  size_t skip_comment(size_t begin, size_t body) {
    const size_t m = src_.find("#}", body);
    if (m == std::string::npos) fail_at(begin, "missing end of comment tag");
    size_t end = m + 2;
    if (m > body && src_[m - 1] == '-') {
      end += space_run(end);
    } else if (m > body && src_[m - 1] == '+') {
      // `+#}` keeps the newline that trim_blocks would remove
    } else if (end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    return end;
  }

  // Tokens of a `{% %}` or `{{ }}` tag; returns the offset after its end marker.
  size_t lex_tag(size_t begin, size_t i, bool block) {
    tokens_.push_back(Token{block ? Tok::BlockBegin : Tok::VarBegin, pos_of(begin), {}});
    std::vector<char> balance;
    const size_t n = src_.size();
    while (true) {
      if (i >= n) {
        if (!balance.empty()) fail_at(i, "unexpected end of template, expected '{}'", balance.back());
        fail_at(begin, "unclosed '{}' tag: missing '{}'", block ? "{%" : "{{", block ? "%}" : "}}");
      }
      if (balance.empty()) {
        size_t end = 0;
        if (block) {
          if (starts_with(i, "+%}")) {
            end = i + 3;
          } else if (starts_with(i, "-%}")) {
            end = i + 3 + space_run(i + 3);
          } else if (starts_with(i, "%}")) {
            end = i + 2;
            if (end < n && src_[end] == '\n') ++end;
          }
        } else {
          if (starts_with(i, "-}}")) {
            end = i + 3 + space_run(i + 3);
          } else if (starts_with(i, "}}")) {
            end = i + 2;
          }
        }
        if (end) {
          tokens_.push_back(Token{block ? Tok::BlockEnd : Tok::VarEnd, pos_of(i), {}});
          return end;
        }
      }
      const size_t ws = space_run(i);
      if (ws) {
        i += ws;
        continue;
      }
      if (size_t end = match_float(i)) {
        push_float(i, end);
        i = end;
      } else if (size_t end2 = match_integer(i)) {
        push_integer(i, end2);
        i = end2;
      } else if (is_name_start(src_[i])) {
        size_t j = i + 1;
        while (j < n && is_name_char(src_[j])) ++j;
        tokens_.push_back(Token{Tok::Name, pos_of(i), src_.substr(i, j - i)});
        i = j;
      } else if (src_[i] == '\'' || src_[i] == '"') {
        i = lex_string(i);
      } else {
        i = lex_operator(i, balance);
      }
    }
  }

  // `(\d+_)*\d+`: digits with single underscores between them; returns the end or `i` if none.
  size_t digits_us(size_t i) const {
    size_t j = i;
    const size_t n = src_.size();
    if (j >= n || !is_digit(src_[j])) return i;
    while (true) {
      while (j < n && is_digit(src_[j])) ++j;
      if (j + 1 < n && src_[j] == '_' && is_digit(src_[j + 1])) {
        ++j;
        continue;
      }
      return j;
    }
  }

  size_t match_exponent(size_t i) const {
    if (i >= src_.size() || (src_[i] != 'e' && src_[i] != 'E')) return 0;
    size_t j = i + 1;
    if (j < src_.size() && (src_[j] == '+' || src_[j] == '-')) ++j;
    const size_t end = digits_us(j);
    return end == j ? 0 : end;
  }

  // jinja2's float_re; 0 when there is no float here.
  size_t match_float(size_t i) const {
    if (i > 0 && src_[i - 1] == '.') return 0;
    const size_t int_end = digits_us(i);
    if (int_end == i) return 0;
    size_t frac_end = 0;
    if (int_end < src_.size() && src_[int_end] == '.') {
      const size_t e = digits_us(int_end + 1);
      if (e != int_end + 1) frac_end = e;
    }
    if (frac_end) {
      if (size_t e = match_exponent(frac_end)) return e;
      return frac_end;
    }
    return match_exponent(int_end);
  }

  // jinja2's integer_re (0b, 0o, 0x prefixes, underscores, no leading zeros).
  size_t match_integer(size_t i) const {
    const size_t n = src_.size();
    if (i >= n || !is_digit(src_[i])) return 0;
    auto prefixed = [&](auto pred) -> size_t {
      size_t j = i + 2;
      size_t end = 0;
      while (true) {
        size_t k = j;
        if (k < n && src_[k] == '_') ++k;
        if (k < n && pred(src_[k])) {
          j = k + 1;
          end = j;
        } else {
          return end;
        }
      }
    };
    if (src_[i] == '0' && i + 1 < n) {
      const char p = static_cast<char>(ascii_lower(static_cast<unsigned char>(src_[i + 1])));
      size_t end = 0;
      if (p == 'b') end = prefixed([](char c) { return c == '0' || c == '1'; });
      if (p == 'o') end = prefixed([](char c) { return c >= '0' && c <= '7'; });
      if (p == 'x') end = prefixed([](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
      if (end) return end;
    }
    if (src_[i] != '0') return digits_us(i);
    size_t j = i + 1;  // 0(_?0)*
    while (true) {
      size_t k = j;
      if (k < n && src_[k] == '_') ++k;
      if (k < n && src_[k] == '0') {
        j = k + 1;
      } else {
        return j;
      }
    }
  }

  void push_float(size_t i, size_t end) {
    std::string digits;
    for (size_t k = i; k < end; ++k)
      if (src_[k] != '_') digits += src_[k];
    errno = 0;
    const double value = std::strtod(digits.c_str(), nullptr);
    Token t{Tok::Float, pos_of(i), src_.substr(i, end - i)};
    t.float_value = value;  // Python's float() also gives inf for huge literals
    tokens_.push_back(std::move(t));
  }

  void push_integer(size_t i, size_t end) {
    std::string digits;
    for (size_t k = i; k < end; ++k)
      if (src_[k] != '_') digits += src_[k];
    int base = 10;
    size_t skip = 0;
    if (digits.size() > 2 && digits[0] == '0') {
      const char p = static_cast<char>(ascii_lower(static_cast<unsigned char>(digits[1])));
      if (p == 'b') base = 2, skip = 2;
      if (p == 'o') base = 8, skip = 2;
      if (p == 'x') base = 16, skip = 2;
    }
    errno = 0;
    const unsigned long long value = std::strtoull(digits.c_str() + skip, nullptr, base);
    if (errno == ERANGE || value > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()))
      fail_at(i, "integer literal {} is too large (templates use 64-bit integers)", src_.substr(i, end - i));
    Token t{Tok::Integer, pos_of(i), src_.substr(i, end - i)};
    t.int_value = static_cast<int64_t>(value);
    tokens_.push_back(std::move(t));
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // A quoted string, decoded as Python's "unicode-escape" codec does after jinja2's
  // backslashreplace step.
  size_t lex_string(size_t start) {
    const char quote = src_[start];
    const size_t n = src_.size();
    size_t i = start + 1;
    std::string value;
    while (true) {
      if (i >= n) fail_at(start, "unterminated string literal");
      const char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++i;
        continue;
      }
      if (i + 1 >= n) fail_at(start, "unterminated string literal");
      const size_t esc = i;
      const char e = src_[i + 1];
      i += 2;
      switch (e) {
        case '\n':
          break;  // line continuation
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case 'a':
          value += '\a';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case 't':
          value += '\t';
          break;
        case 'v':
          value += '\v';
          break;
        case 'x':
        case 'u':
        case 'U': {
          const int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          char32_t cp = 0;
          for (int k = 0; k < len; ++k) {
            const int h = i + k < n ? hex_value(src_[i + k]) : -1;
            if (h < 0) fail_at(esc, "truncated \\{} escape in string literal", e);
            cp = cp * 16 + static_cast<char32_t>(h);
          }
          i += len;
          if (cp > 0x10FFFF) fail_at(esc, "illegal Unicode character in string literal");
          if (cp >= 0xD800 && cp <= 0xDFFF) fail_at(esc, "surrogate escape in string literal is not supported");
          append_utf8(value, cp);
          break;
        }
        case 'N':
          fail_at(esc, "named Unicode escape \\N{{...}} is not supported");
        default:
          if (e >= '0' && e <= '7') {
            char32_t cp = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && i < n && src_[i] >= '0' && src_[i] <= '7'; ++k, ++i)
              cp = cp * 8 + static_cast<char32_t>(src_[i] - '0');
            append_utf8(value, cp);
          } else if (static_cast<unsigned char>(e) >= 0x80) {
            // jinja2 backslash-escapes non-ASCII before decoding, so "\é" reads as "\xe9".
            size_t j = i - 1;
            const char32_t cp = next_code_point(src_, j);
            i = j;
            value += '\\';
            if (cp < 0x100) {
              value += fmt::format("x{:02x}", static_cast<unsigned>(cp));
            } else if (cp < 0x10000) {
              value += fmt::format("u{:04x}", static_cast<unsigned>(cp));
            } else {
              value += fmt::format("U{:08x}", static_cast<unsigned>(cp));
            }
          } else {
            value += '\\';
            value += e;
          }
      }
    }
    tokens_.push_back(Token{Tok::String, pos_of(start), std::move(value)});
    return i + 1;
  }

  size_t lex_operator(size_t i, std::vector<char>& balance) {
    static constexpr std::string_view kTwo[] = {"**", "//", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwo) {
      if (starts_with(i, op)) {
        tokens_.push_back(Token{Tok::Op, pos_of(i), std::string(op)});
        return i + 2;
      }
    }
    const char c = src_[i];
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
      size_t j = i;
      const char32_t cp = next_code_point(src_, j);
      if (cp >= 0x20 && cp < 0x7F) fail_at(i, "unexpected character '{}' in tag", c);
      fail_at(i, "unexpected character U+{:04X} in tag", static_cast<unsigned>(cp));
    }
    if (c == '(' || c == '[' || c == '{') {
      balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) fail_at(i, "unexpected '{}'", c);
      if (balance.back() != c) fail_at(i, "unexpected '{}', expected '{}'", c, balance.back());
      balance.pop_back();
    }
    tokens_.push_back(Token{Tok::Op, pos_of(i), std::string(1, c)});
    return i + 1;
  }

  std::string src_;
  const std::string& origin_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t cache_line_ = static_cast<size_t>(-1);
  size_t cache_offset_ = 0;
  size_t cache_col_ = 1;
};

}  // namespace

std::vector<Token> lex_template(std::string_view source, const std::string& origin) {
  return Lexer(source, origin).run();
}

}  // namespace sambay::jinja
