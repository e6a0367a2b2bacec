#pragma once
// The filters, tests, global functions and str/dict methods that templates can call.
// Each lookup returns null (or Undefined) for names it does not know.
#include <optional>
#include <string_view>
#include <vector>

#include "sambay/text/jinja_ast.h"
#include "sambay/text/jinja_value.h"

namespace sambay::jinja {

FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);
// True for jinja2 built-ins that this interpreter leaves out, so errors can say "not supported".
bool is_unsupported_jinja_filter(std::string_view name);
bool is_unsupported_jinja_test(std::string_view name);

// range, namespace, dict, raise_exception, strftime_now; Undefined for other names.
Value find_global(std::string_view name);

// `receiver.name` as a bound method of a str or dict; Undefined when there is none.
Value find_method(const Value& receiver, std::string_view name);

// Python-style argument binding: fills one slot per parameter name from positional then keyword
// arguments; throws for too many, unknown, duplicate or missing (the first `required`) arguments.
std::vector<std::optional<Value>> bind_args(const CallArgs& args, std::string_view what,
                                            std::initializer_list<std::string_view> params, size_t required = 0);

// The items a `for` loop visits: list and tuple items, dict keys, the characters of a string;
// nothing for Undefined. Throws for values that are not iterable.
std::vector<Value> iterate(const Value& v);

}  // namespace sambay::jinja
