#pragma once
// One generation request as the engine sees it (token ids in, tokens and text out), and the stream
// through which its results come back. The engine thread pushes events; any other thread reads them
// (and may cancel), so a server handler, a CLI or a test all drive the engine the same way.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sambay/engine/stop_config.h"
#include "sambay/sample/logprobs.h"
#include "sambay/sample/sampling_params.h"

namespace sambay {

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids, at least one
  SamplingParams sampling;
  StopConfig stop;              // max_tokens, eos ids, stop strings, ignore_eos
  int min_tokens = 0;           // eos ids cannot be sampled before this many tokens (vLLM's min_tokens)
  int logprobs = -1;            // -1: none; n >= 0: each token's logprob and the n most likely alternatives
};

// What a request produced in one engine step (usually one token).
// A token of -1 carries only text: what the detokenizer and the stop-string matcher held back,
// released when the request ends.
struct TokenEvent {
  int32_t token = -1;
  std::string text;  // text that became final with this token (may be empty; never broken UTF-8)
  float logprob = 0;                // with logprobs >= 0: log-probability of `token`
  std::vector<TokenLogprob> top;    // with logprobs > 0: the most likely alternatives
};

struct FinishEvent {
  std::string finish_reason;  // "stop" (eos id or stop string), "length", "cancelled", "error"
  std::string error;          // with "error": what went wrong
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int preemptions = 0;          // times its state was dropped and recomputed
  double queue_seconds = 0;     // submit -> first scheduled
  double first_token_seconds = 0;  // submit -> first token
  double total_seconds = 0;     // submit -> finish
};

struct RequestEvent {
  std::optional<TokenEvent> token;
  std::optional<FinishEvent> finish;  // the last event of every request
};

// The consumer's end of a request. Thread-safe.
class RequestStream {
 public:
  explicit RequestStream(uint64_t id) : id_(id) {}
  uint64_t id() const { return id_; }

  // The next event, waiting up to `timeout`; nullopt on timeout. After the finish event, nullopt.
  std::optional<RequestEvent> next(std::chrono::milliseconds timeout);
  // Asks the engine to stop this request; it frees the state at its next step and sends a finish
  // event with "cancelled" (unless the request finished first).
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // Engine side.
  void push(RequestEvent e);

 private:
  uint64_t id_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<RequestEvent> events_;
  bool finished_ = false;
};

}  // namespace sambay
