#pragma once
// UTF-8 checks the tokenizer needs: validation, lossy repair and the streaming "is this tail an
// unfinished character?" question. Invalid input is repaired the way Rust's String::from_utf8_lossy,
// Python's bytes.decode(errors="replace") and WHATWG do it (Unicode §3.9, "substitution of maximal
// subparts"): each maximal prefix of a well-formed sequence that cannot be completed becomes one
// U+FFFD, so our decode output equals Hugging Face's byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sambay::utf8 {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// What the bytes at some position hold.
enum class SeqKind : uint8_t {
  kValid,       // a complete well-formed sequence of `length` bytes
  kInvalid,     // a maximal subpart of `length` bytes (>= 1) that can never become valid
  kIncomplete,  // the input ends inside a sequence that is well-formed so far (`length` bytes)
};
struct Seq {
  SeqKind kind;
  uint8_t length;
};

// Classifies the sequence starting at p[0] (n >= 1 bytes available).
Seq classify(const uint8_t* p, size_t n);

// Byte length of the longest valid UTF-8 prefix of s (s.size() when all of s is valid).
size_t valid_prefix(std::string_view s);
inline bool is_valid(std::string_view s) { return valid_prefix(s) == s.size(); }

// Appends s to out with every invalid or incomplete sequence replaced by U+FFFD.
void append_lossy(std::string& out, std::string_view s);
std::string to_lossy(std::string_view s);

// Appends the longest prefix of s that does not end inside an unfinished character (invalid
// sequences become U+FFFD as in append_lossy) and returns how many bytes of s it consumed; the
// rest (0..3 bytes of an incomplete sequence) is what a stream must hold back.
size_t append_complete(std::string& out, std::string_view s);

// Decodes the code point at s[i] of *valid* UTF-8 and advances i past it.
char32_t next(std::string_view s, size_t& i);
// Decodes the code point that ends at s[i-1] of valid UTF-8 and moves i back to its first byte.
char32_t prev(std::string_view s, size_t& i);

void append(std::string& out, char32_t cp);

// The Unicode White_Space property (what Rust's char::is_whitespace and regex \s test).
bool is_white_space(char32_t cp);

}  // namespace sambay::utf8
