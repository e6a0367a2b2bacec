#pragma once
// A closed-loop load: `concurrency` clients, each sending its next request as soon as its last one ended,
// until `requests` have been sent or the duration cap has passed.
//
// Duration cap S: no request starts after S seconds; requests still open at 2 S are cancelled (their
// connection is shut down) and count as failed with "cancelled". An interrupt flag (Ctrl-C) cancels at once
// the same way, so the run still ends with a report.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "loadgen/request_result.h"
#include "loadgen/sse_client.h"
#include "loadgen/workload.h"

namespace sambay::loadgen {

struct LoadOptions {
  ServerEndpoint endpoint;
  std::string model;  // empty: the first id of GET /v1/models
  WorkloadSpec workload;
  double temperature = 0;
  int concurrency = 1;
  int64_t requests = 0;                          // 0: one per client
  double duration_s = 0;                         // 0: no cap
  const std::atomic<bool>* interrupt = nullptr;  // set from elsewhere to cancel the run
};

// Updated while the run goes on, for a progress display.
struct LiveCounters {
  std::atomic<int64_t> started{0}, completed{0}, failed{0}, tokens{0};
};

struct LoadRun {
  std::string model;
  double wall_s = 0;                   // first request sent to last one ended
  std::vector<RequestResult> results;  // every request sent, by index
};

// Throws sambay::Error when the run cannot start (malformed URL, no model list); request failures are
// recorded in the results and logged, never thrown.
LoadRun run_load(const LoadOptions& options, LiveCounters* live = nullptr);

}  // namespace sambay::loadgen
