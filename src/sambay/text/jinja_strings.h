#pragma once
// Python str operations over provenance-carrying strings: each result keeps, byte for byte, the
// content/template flags of the text it was cut from; text a caller passes in (a replacement, a
// separator) brings its own flags.
#include <optional>
#include <string_view>
#include <vector>

#include "sambay/text/jinja_value.h"

namespace sambay::jinja {

enum class StripSide { Both, Left, Right };
// str.strip([chars]); no chars strips whitespace (str.isspace).
Str py_strip(const Str& s, const std::optional<std::string>& chars, StripSide side);
Str py_upper(const Str& s);       // ASCII letters only
Str py_lower(const Str& s);       // ASCII letters only
Str py_capitalize(const Str& s);  // first character upper, the rest lower
Str py_title(const Str& s);       // str.title(): letters after a non-letter upper, others lower
Str jinja_title(const Str& s);    // jinja2's |title: words split on whitespace and -({[<
// str.replace(old, new, count); count < 0 replaces all.
Str py_replace(const Str& s, const Str& old, const Str& with, int64_t count);
// str.split(sep, maxsplit); no sep splits on whitespace runs.
std::vector<Str> py_split(const Str& s, const std::optional<Str>& sep, int64_t maxsplit);
std::vector<Str> py_splitlines(const Str& s, bool keepends);
std::vector<Str> code_points(const Str& s);  // one Str per character
int64_t py_find(std::string_view s, std::string_view sub);  // in code points; -1 if absent
int64_t py_count(std::string_view s, std::string_view sub);

}  // namespace sambay::jinja
