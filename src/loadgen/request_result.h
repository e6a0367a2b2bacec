#pragma once
// What one streamed completion request measured.
#include <cstdint>
#include <string>
#include <vector>

namespace sambay::loadgen {

struct RequestResult {
  int64_t index = 0;       // position in the workload
  int client = 0;          // which concurrent client sent it
  int64_t prompt_len = 0;  // tokens sent
  int64_t gen_len = 0;     // tokens asked for (min_tokens = max_tokens)
  bool ok = false;
  bool cancelled = false;          // broken off by the run's time limit or an interrupt, not by the server
  std::string error;               // why it failed; empty when ok
  int http_status = 0;             // 0: no HTTP response
  double start_s = 0;              // when it was sent, in seconds since the run started
  double ttft_s = -1;              // time to the first token chunk; -1: none arrived
  double latency_s = 0;            // sent to end of stream
  std::vector<double> itl_s;       // gaps between successive token chunks
  int64_t chunks = 0;              // chunks that carried a token
  int64_t prompt_tokens = -1;      // from the stream's usage; -1: not reported
  int64_t completion_tokens = -1;  // from the stream's usage; -1: not reported

  // Generated tokens: the server's own count when it reported one, else one per token chunk.
  int64_t tokens() const { return completion_tokens >= 0 ? completion_tokens : chunks; }
};

}  // namespace sambay::loadgen
