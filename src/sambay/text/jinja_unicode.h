#pragma once
// The few pieces of Python's str semantics that templates rely on, over UTF-8 bytes: code point
// indexing (Python indexes and measures strings by code point), str.isspace, str.splitlines and
// str.isprintable (for repr). Case mapping covers ASCII, Latin-1, Latin Extended-A, Greek and
// Cyrillic, one code point to one of the same UTF-8 length (so byte offsets, and provenance, stay
// put), plus 'ß'.upper() == 'SS' and the Greek final sigma; other special cases are left out.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sambay::jinja {

// Decodes the code point at s[i] and advances i. A byte that does not start a valid sequence
// decodes as itself (0x80..0xFF) so that every input has a total, lossless reading.
char32_t next_code_point(std::string_view s, size_t& i);
void append_utf8(std::string& out, char32_t cp);

// Byte offset of every code point start, plus s.size() at the end (size = code points + 1).
std::vector<size_t> code_point_offsets(std::string_view s);
size_t count_code_points(std::string_view s);

// Returns the byte offset of the first invalid UTF-8 sequence, or npos when s is valid.
size_t find_invalid_utf8(std::string_view s);

bool is_py_space(char32_t cp);      // str.isspace()
bool is_py_linebreak(char32_t cp);  // the separators of str.splitlines()
bool is_py_printable(char32_t cp);  // str.isprintable(), approximated outside Latin-1
char32_t ascii_upper(char32_t cp);
char32_t ascii_lower(char32_t cp);
char32_t to_upper(char32_t cp);  // Python's str.upper for one code point, within the table above
char32_t to_lower(char32_t cp);
bool is_cased(char32_t cp);      // has an upper or a lower case form
// str.islower() / str.isupper() over UTF-8 text: some cased character, none of the other case.
bool py_islower(std::string_view s);
bool py_isupper(std::string_view s);

}  // namespace sambay::jinja
