#pragma once
// The pre-tokenizer's regular expression, run by PCRE2 (UTF + UCP, JIT-compiled).
//
// Hugging Face runs these patterns with Oniguruma and tiktoken with fancy-regex; PCRE2 agrees
// with both on the constructs tokenizer patterns use (Unicode properties, case-insensitive groups,
// look-ahead, leftmost-first alternation) except for a few shorthand classes, which
// `rewrite_for_pcre2` spells out: `\s`/`\S` become the Unicode White_Space set (PCRE2 10.42's `\s`
// also matches U+180E, which left White_Space in Unicode 6.3), `\v` is the vertical tab as in
// Oniguruma and Rust. Shorthands whose meaning differs and that we cannot spell out (`\h`, `\R`,
// ...) are rejected rather than silently matched differently.
//
// Matching is thread-safe: the compiled code is shared, and each thread reuses its own match data.
#include <memory>
#include <string>
#include <string_view>

namespace sambay {

class SplitRegex {
 public:
  // `literal` matches `pattern` as plain text. `where` names the file and JSON field in errors.
  static SplitRegex compile(std::string_view pattern, bool literal, const std::string& where);

  // Calls f(begin, end) for each match in `subject` (valid UTF-8), left to right, with the
  // iteration rule of Rust's regex crate and Oniguruma's find_iter: after an empty match, or an
  // empty match right where the previous match ended, the search moves on by one character.
  template <class F>
  void for_each_match(std::string_view subject, F&& f) const {
    size_t from = 0;
    size_t last_end = SIZE_MAX;
    size_t b, e;
    while (from <= subject.size() && find(subject, from, b, e)) {
      if (b == e && b == last_end) {
        if (from >= subject.size()) break;
        from = next_char(subject, from);
        continue;
      }
      f(b, e);
      last_end = e;
      from = (e == b) ? (e >= subject.size() ? subject.size() + 1 : next_char(subject, e)) : e;
    }
  }

  // Finds the first match at or after `from`; false when there is none.
  bool find(std::string_view subject, size_t from, size_t& begin, size_t& end) const;

 private:
  struct Code;
  static size_t next_char(std::string_view s, size_t i);
  std::shared_ptr<const Code> code_;
};

// The pattern with the shorthand classes spelled out for PCRE2 (see above); throws sambay::Error
// naming `where` for constructs we refuse.
std::string rewrite_for_pcre2(std::string_view pattern, const std::string& where);

}  // namespace sambay
