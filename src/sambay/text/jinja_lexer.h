#pragma once
// Splits a template into text and tag tokens the way jinja2's lexer does with HF's settings
// (trim_blocks, lstrip_blocks, keep_trailing_newline=False): newlines normalised to "\n", one
// trailing newline dropped, `-` and `+` whitespace control, {% raw %}, comments removed.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sambay/text/jinja_ast.h"

namespace sambay::jinja {

enum class Tok : uint8_t { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Op, End };

struct Token {
  Tok type;
  Pos pos;
  std::string text;  // Text: the data; Name; String: the decoded value; Op: the operator
  int64_t int_value = 0;
  double float_value = 0;
};

// Throws sambay::Error "<origin>:<line>:<col>: <what>" on malformed input.
std::vector<Token> lex_template(std::string_view source, const std::string& origin);

const char* describe(Tok type);

}  // namespace sambay::jinja
