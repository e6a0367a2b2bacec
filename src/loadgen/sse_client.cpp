#include "loadgen/sse_client.h"

#include <fmt/format.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "loadgen/completion_stream.h"
#include "sambay/base/error.h"

namespace sambay::loadgen {
namespace {

using nlohmann::json;

// "http://host:8080/prefix/" -> {"http://host:8080", "/prefix"}.
std::pair<std::string, std::string> split_url(const std::string& url) {
  const size_t scheme = url.find("://");
  SAMBAY_CHECK(scheme != std::string::npos && scheme > 0, "server URL \"{}\" lacks a scheme (http://...)", url);
  const size_t path = url.find('/', scheme + 3);
  SAMBAY_CHECK(path != scheme + 3, "server URL \"{}\" lacks a host", url);
  if (path == std::string::npos) return {url, ""};
  std::string prefix = url.substr(path);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return {url.substr(0, path), prefix};
}

std::string excerpt(const std::string& s, size_t limit = 300) {
  return s.size() <= limit ? s : fmt::format("{}... ({} bytes)", s.substr(0, limit), s.size());
}

// The message of an OpenAI-style error body ({"error": {"message": ...}}), else the body itself.
std::string error_message(const std::string& body) {
  const auto j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (auto e = j.find("error"); e != j.end()) {
      if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
        return (*e)["message"].get<std::string>();
      if (e->is_string()) return e->get<std::string>();
    }
    if (auto m = j.find("message"); m != j.end() && m->is_string()) return m->get<std::string>();
  }
  return body.empty() ? "(empty body)" : excerpt(body);
}

// httplib names its errors tersely ("Connection", "Read"): say what they mean here.
std::string describe(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "could not connect (refused, or no route to the host)";
    case httplib::Error::ConnectionTimeout:
      return "timed out connecting (--connect-timeout)";
    case httplib::Error::Read:
      return "reading the response failed or timed out (--timeout)";
    case httplib::Error::Write:
      return "sending the request failed";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate was not accepted";
    default:
      return httplib::to_string(e);
  }
}

void set_seconds_timeout(double s, auto&& setter) {
  const auto whole = static_cast<time_t>(s);
  setter(whole, static_cast<time_t>((s - static_cast<double>(whole)) * 1e6));
}

}  // namespace

std::string completion_body(const std::string& model, const PlannedRequest& request, double temperature) {
  // min_tokens = max_tokens with ignore_eos: every request generates exactly its drawn length, whatever
  // the weights predict. The prompt is a token-id array so its length is exact too.
  const json body = {{"model", model},
                     {"prompt", request.prompt},
                     {"max_tokens", request.gen_len},
                     {"min_tokens", request.gen_len},
                     {"ignore_eos", true},
                     {"temperature", temperature},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}}};
  return body.dump();
}

CompletionClient::CompletionClient(const ServerEndpoint& endpoint) : url_(endpoint.url), api_key_(endpoint.api_key) {
  auto [base, prefix] = split_url(endpoint.url);
  prefix_ = std::move(prefix);
  http_ = std::make_unique<httplib::Client>(base);
  SAMBAY_CHECK(http_->is_valid(), "server URL \"{}\" is not usable (scheme http or https, host, optional port)",
               endpoint.url);
  set_seconds_timeout(endpoint.connect_timeout_s, [&](time_t s, time_t us) { http_->set_connection_timeout(s, us); });
  set_seconds_timeout(endpoint.read_timeout_s, [&](time_t s, time_t us) { http_->set_read_timeout(s, us); });
  http_->set_keep_alive(true);
}

CompletionClient::~CompletionClient() = default;

std::string CompletionClient::first_model_id() {
  httplib::Headers headers;
  if (!api_key_.empty()) headers.emplace("Authorization", "Bearer " + api_key_);
  const std::string path = prefix_ + "/v1/models";
  const auto res = http_->Get(path, headers);
  if (!res) fail("cannot reach {}/v1/models: {}", url_, describe(res.error()));
  if (res->status != 200) fail("GET {}/v1/models: HTTP {}: {}", url_, res->status, error_message(res->body));
  const auto j = json::parse(res->body, nullptr, false);
  if (j.is_object() && j.contains("data") && j["data"].is_array() && !j["data"].empty() &&
      j["data"][0].contains("id") && j["data"][0]["id"].is_string())
    return j["data"][0]["id"].get<std::string>();
  fail("GET {}/v1/models: no model id in the answer: {}", url_, excerpt(res->body));
}

void CompletionClient::stream(const std::string& body, RequestResult& result, Clock::time_point run_start,
                              std::atomic<int64_t>* live_tokens, const std::atomic<bool>* cancel) {
  httplib::Request req;
  req.method = "POST";
  req.path = prefix_ + "/v1/completions";
  req.body = body;
  req.set_header("Content-Type", "application/json");
  req.set_header("Accept", "text/event-stream");
  if (!api_key_.empty()) req.set_header("Authorization", "Bearer " + api_key_);

  const auto sent = Clock::now();
  result.start_s = std::chrono::duration<double>(sent - run_start).count();
  CompletionStream stream(result, sent, live_tokens);
  std::string error_body;  // the body of a non-200 answer, kept for its message
  req.response_handler = [&](const httplib::Response& res) {
    result.http_status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (cancel && cancel->load()) return false;
    if (result.http_status != 200) {
      if (error_body.size() < 64 * 1024) error_body.append(data, size);
      return true;
    }
    return stream.on_bytes(std::string_view(data, size), Clock::now());
  };

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool sent_ok = http_->send(req, res, err);
  const auto end = Clock::now();
  std::string transport_error;
  if (cancel && cancel->load()) {
    transport_error = "cancelled: the run reached its time limit or was interrupted";
    result.cancelled = true;
  } else if (result.http_status != 0 && result.http_status != 200) {
    transport_error = fmt::format("HTTP {}: {}", result.http_status, error_message(error_body));
  } else if (!sent_ok && err != httplib::Error::Canceled) {  // Canceled: the stream stopped on a bad chunk
    transport_error = result.http_status == 0 ? fmt::format("cannot reach {}: {}", url_, describe(err))
                                              : fmt::format("the stream broke off: {}", describe(err));
  }
  stream.finish(end, transport_error);
}

void CompletionClient::abort() { http_->stop(); }

}  // namespace sambay::loadgen
