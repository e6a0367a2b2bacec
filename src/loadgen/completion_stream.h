#pragma once
// The body of one streamed /v1/completions response, read as it arrives: times every token chunk and
// takes the usage counts from the final chunk. Independent of the HTTP client so that it can be fed
// bytes split at any boundary.
//
// A token chunk is a chunk whose `choices` is not empty, except one with empty text that only carries a
// finish_reason (some servers end with such a chunk). A chunk with empty text and no finish_reason still
// counts: a server may hold back the bytes of an incomplete UTF-8 character for one step.
#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "loadgen/request_result.h"
#include "loadgen/sse_parser.h"

namespace sambay::loadgen {

class CompletionStream {
 public:
  using Clock = std::chrono::steady_clock;

  // Fills `result` (ttft_s, itl_s, chunks, usage; on finish() also ok, error and latency_s).
  // `live_tokens`, when given, is incremented once per token chunk (progress display).
  CompletionStream(RequestResult& result, Clock::time_point sent, std::atomic<int64_t>* live_tokens = nullptr);

  // Bytes of the body that arrived at `now`. False: stop reading (a malformed chunk or an error event).
  bool on_bytes(std::string_view bytes, Clock::time_point now);

  // The body ended at `now` (or the transfer broke off; `transport_error` then says how).
  void finish(Clock::time_point now, const std::string& transport_error = {});

 private:
  bool on_event(std::string_view data);

  RequestResult& result_;
  Clock::time_point sent_;
  std::atomic<int64_t>* live_tokens_;
  SseParser parser_;
  Clock::time_point now_{};
  Clock::time_point last_token_{};
  int64_t events_ = 0;
  bool done_ = false;    // "[DONE]" arrived
  std::string failure_;  // first protocol error
};

}  // namespace sambay::loadgen
