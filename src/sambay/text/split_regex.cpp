#include "sambay/text/split_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdint>

#include "sambay/base/error.h"

namespace sambay {

namespace {

// Unicode White_Space (PropList.txt), as class items.
constexpr std::string_view kWhiteSpaceItems =
    "\\x{09}-\\x{0D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}"
    "\\x{3000}";

// Copies a `{...}` argument (of \p, \x) if one starts at p[i]; returns the index after it.
size_t copy_braced(std::string_view p, size_t i, std::string& out) {
  if (i < p.size() && p[i] == '{') {
    const size_t close = p.find('}', i);
    const size_t end = close == std::string_view::npos ? p.size() : close + 1;
    out.append(p.substr(i, end - i));
    return end;
  }
  return i;
}

// Per-thread matching state: one match data object fits every pattern (we read group 0 only),
// and the match context lifts PCRE2's backtracking limit, which long runs of one character class
// (megabytes of letters without a space) can otherwise reach on a pattern that is linear anyway.
struct ThreadMatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* big_stack = nullptr;  // made on the first JIT stack overflow only
  ThreadMatchState() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    if (!data || !context) fail("pre-tokenizer regex: out of memory creating PCRE2 match data");
    pcre2_set_match_limit(context, UINT32_MAX);
    pcre2_set_depth_limit(context, UINT32_MAX);
  }
  ~ThreadMatchState() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    if (big_stack) pcre2_jit_stack_free(big_stack);
  }
  ThreadMatchState(const ThreadMatchState&) = delete;
  ThreadMatchState& operator=(const ThreadMatchState&) = delete;
};

ThreadMatchState& thread_match_state() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

struct SplitRegex::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  std::string where;
  ~Code() { pcre2_code_free(code); }
};

std::string rewrite_for_pcre2(std::string_view p, const std::string& where) {
  std::string out;
  out.reserve(p.size() * 2);
  bool in_class = false;
  size_t class_body = 0;  // index in p where the current class's items start
  for (size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char d = p[i + 1];
      i += 2;
      switch (d) {
        case 's':
          if (in_class) {
            out += kWhiteSpaceItems;
          } else {
            out += '[';
            out += kWhiteSpaceItems;
            out += ']';
          }
          break;
        case 'S':
          if (in_class) {
            out += "\\P{White_Space}";  // a negated set cannot be spelled out inside a class
          } else {
            out += "[^";
            out += kWhiteSpaceItems;
            out += ']';
          }
          break;
        case 'v':
          out += "\\x{0B}";
          break;
        case 'h': case 'H': case 'V': case 'R': case 'X': case 'N': case 'K': case 'C': case 'Q':
          fail("{}: regex escape '\\{}' is not supported (its meaning differs between regex engines)",
               where, d);
        case 'p': case 'P': case 'x':
          out += '\\';
          out += d;
          i = copy_braced(p, i, out);
          break;
        default:
          out += '\\';
          out += d;
      }
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX class [:name:]
        const size_t close = p.find(":]", i + 2);
        const size_t end = close == std::string_view::npos ? p.size() : close + 2;
        out.append(p.substr(i, end - i));
        i = end;
        continue;
      }
      if (c == ']' && i > class_body) in_class = false;
      out += c;
      ++i;
      continue;
    }
    out += c;
    ++i;
    if (c == '[') {
      in_class = true;
      if (i < p.size() && p[i] == '^') out += p[i++];
      class_body = i;  // a ']' right here is a literal
    }
  }
  return out;
}

SplitRegex SplitRegex::compile(std::string_view pattern, bool literal, const std::string& where) {
  const std::string rewritten = literal ? std::string(pattern) : rewrite_for_pcre2(pattern, where);
  const uint32_t options = literal ? (PCRE2_UTF | PCRE2_LITERAL) : (PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C);
  int error = 0;
  PCRE2_SIZE offset = 0;
  auto code = std::make_shared<Code>();
  code->where = where;
  code->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(), options,
                             &error, &offset, nullptr);
  if (!code->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    fail("{}: PCRE2 cannot compile the regex (offset {} of the rewritten pattern '{}'): {}", where, offset,
         rewritten, reinterpret_cast<const char*>(message));
  }
  // The interpreter gives the same matches when the JIT is unavailable (e.g. some platforms).
  code->jit = pcre2_jit_compile(code->code, PCRE2_JIT_COMPLETE) == 0;
  SplitRegex r;
  r.code_ = std::move(code);
  return r;
}

bool SplitRegex::find(std::string_view subject, size_t from, size_t& begin, size_t& end) const {
  ThreadMatchState& st = thread_match_state();
  const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
  // Subjects are validated UTF-8 (Tokenizer repairs input first), so PCRE2's own check, which
  // would rescan the whole subject on every call, is skipped.
  auto run = [&] {
    return code_->jit ? pcre2_jit_match(code_->code, s, subject.size(), from, 0, st.data, st.context)
                      : pcre2_match(code_->code, s, subject.size(), from, PCRE2_NO_UTF_CHECK, st.data, st.context);
  };
  int rc = run();
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !st.big_stack) {
    st.big_stack = pcre2_jit_stack_create(64 * 1024, 256 * 1024 * 1024, nullptr);
    if (st.big_stack) {
      pcre2_jit_stack_assign(st.context, nullptr, st.big_stack);
      rc = run();
    }
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof(message));
    fail("{}: PCRE2 match failed: {}", code_->where, reinterpret_cast<const char*>(message));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
  begin = ov[0];
  end = ov[1];
  return true;
}

size_t SplitRegex::next_char(std::string_view s, size_t i) {
  ++i;
  while (i < s.size() && (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80) ++i;
  return i;
}

}  // namespace sambay
