#pragma once
// One connection to an OpenAI-compatible server: asks for the model list, and streams completion requests
// one at a time, timing each (see CompletionStream). Network and server errors never throw from stream():
// they become the request's error, so one failed request does not stop a run.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "loadgen/request_result.h"
#include "loadgen/workload.h"

namespace httplib {
class Client;
}

namespace sambay::loadgen {

struct ServerEndpoint {
  std::string url;      // scheme://host[:port][/prefix]; requests go to {url}/v1/...
  std::string api_key;  // sent as "Authorization: Bearer KEY" when not empty
  double connect_timeout_s = 10;
  double read_timeout_s = 600;  // longest silence within a response (a long prefill under load)
};

// The JSON body of a streamed completion of `request`: token-id prompt, exactly gen_len tokens.
std::string completion_body(const std::string& model, const PlannedRequest& request, double temperature);

class CompletionClient {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CompletionClient(const ServerEndpoint& endpoint);  // throws sambay::Error on a malformed URL
  ~CompletionClient();
  CompletionClient(const CompletionClient&) = delete;
  CompletionClient& operator=(const CompletionClient&) = delete;

  // GET /v1/models: the first model's id. Throws sambay::Error naming the URL and the cause.
  std::string first_model_id();

  // POST /v1/completions with `body`, read to the end. Fills result's timings, usage, http_status, ok and
  // error; start_s counts from `run_start`. Stops early when `cancel` becomes true (see abort()).
  void stream(const std::string& body, RequestResult& result, Clock::time_point run_start,
              std::atomic<int64_t>* live_tokens = nullptr, const std::atomic<bool>* cancel = nullptr);

  // From another thread: break off the request in flight (its socket is shut down).
  void abort();

 private:
  std::string url_;
  std::string prefix_;  // the URL's path, without a trailing '/'
  std::string api_key_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace sambay::loadgen
