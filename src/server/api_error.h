#pragma once
// An error the API reports to its client as OpenAI does: an HTTP status and the body
// {"error": {"message", "type", "param", "code"}}. Request parsing throws these; the HTTP layer
// turns them into responses, so one bad request fails alone.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace sambay::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type, std::string param = {}, std::string code = {})
      : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }  // the request field at fault; empty: none
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string type_, param_, code_;
};

// 400 for a request field that is missing, of the wrong type or out of range.
template <class... Args>
[[noreturn]] void invalid_field(const std::string& param, fmt::format_string<Args...> format, Args&&... args) {
  throw ApiError(400, fmt::format(format, std::forward<Args>(args)...), "invalid_request_error", param);
}

}  // namespace sambay::server
