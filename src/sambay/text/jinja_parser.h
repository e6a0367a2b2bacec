#pragma once
// jinja2's grammar (the part chat templates use) over the lexer's tokens. Anything outside the
// supported subset is rejected here with its position rather than misrendered later.
#include <string>
#include <string_view>

#include "sambay/text/jinja_ast.h"

namespace sambay::jinja {

// Parse depth limits keep hostile templates from exhausting the stack.
inline constexpr int kMaxNesting = 100;       // nested blocks, and nested brackets in an expression
inline constexpr int kMaxExprHeight = 256;    // operators chained in one expression

// Throws sambay::Error "<origin>:<line>:<col>: <what>".
Template parse_template(std::string_view source, std::string origin);

}  // namespace sambay::jinja
