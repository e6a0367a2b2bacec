#pragma once
// The server's counters and the Prometheus text exposition of them together with the engine's
// statistics (GET /metrics). Counters are updated from any handler thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "sambay/engine/engine.h"

namespace sambay::server {

// How an API request ended. kRejected: refused before reaching the engine (4xx/5xx);
// kStop/kLength: finished; kCancelled: the client left or the server shut down; kError: the
// engine failed it.
enum class Outcome { kStop, kLength, kCancelled, kError, kRejected };
inline constexpr int kOutcomes = 5;
enum class Route { kChat, kCompletions };
inline constexpr int kRoutes = 2;

Outcome outcome_of(const std::string& engine_finish_reason);

class ServerMetrics {
 public:
  void count(Route route, Outcome outcome) { requests_[index(route, outcome)].fetch_add(1); }
  // Latency of a request that reached the engine, in seconds.
  void observe(double first_token_seconds, double total_seconds, bool had_token);
  void stream_opened() { open_streams_.fetch_add(1); }
  void stream_closed() { open_streams_.fetch_sub(1); }

  uint64_t requests(Route route, Outcome outcome) const { return requests_[index(route, outcome)].load(); }

  // Prometheus text format 0.0.4.
  std::string render(const EngineStats& engine) const;

 private:
  static int index(Route r, Outcome o) { return static_cast<int>(r) * kOutcomes + static_cast<int>(o); }
  std::array<std::atomic<uint64_t>, kRoutes * kOutcomes> requests_{};
  std::atomic<int64_t> open_streams_{0};
  mutable std::mutex mu_;  // guards the sums below
  double ttft_sum_ = 0, latency_sum_ = 0;
  uint64_t ttft_count_ = 0, latency_count_ = 0;
};

}  // namespace sambay::server
