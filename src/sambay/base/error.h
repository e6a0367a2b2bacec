#pragma once
// Errors that reach a user: one line that names the file, tensor, field or request at fault.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace sambay {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// A cheap precondition check whose message still says what was violated.
#define SAMBAY_CHECK(cond, ...)                      \
  do {                                               \
    if (!(cond)) ::sambay::fail(__VA_ARGS__);        \
  } while (0)

}  // namespace sambay
