#pragma once
// Percentiles and the run summary. Percentiles interpolate linearly between the closest ranks, the
// default of numpy.percentile (which vLLM's benchmark reports), so figures compare directly.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "loadgen/request_result.h"

namespace sambay::loadgen {

// p in [0, 100] of values sorted ascending; 0 when empty.
double percentile(std::span<const double> sorted, double p);

struct Distribution {
  int64_t count = 0;
  double mean = 0, min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;  // all 0 when count is 0
};
Distribution distribution(std::vector<double> values);

// Total length covered by a set of [begin, end] intervals, overlaps counted once.
double covered_length(std::vector<std::pair<double, double>> intervals);

struct Summary {
  double wall_s = 0;
  int64_t requests = 0, completed = 0, failed = 0;
  int64_t cancelled = 0;          // broken off by the time limit or an interrupt; neither completed nor failed
  int64_t prompt_tokens = 0;      // of the completed requests (usage, else the tokens sent)
  int64_t generated_tokens = 0;   // of the completed requests (usage, else one per token chunk)
  int64_t partial_tokens = 0;     // token chunks of the requests that did not complete
  int64_t length_mismatches = 0;  // completed requests whose generated tokens differ from those asked for
  double request_throughput = 0;  // completed requests per second of wall time
  double output_throughput = 0;   // generated_tokens per second of wall time
  // generated_tokens + partial_tokens per second of wall time: the server's output rate also when a
  // duration cap cuts long generations off.
  double streamed_throughput = 0;
  // Decode alone: the tokens after each request's first, per second during which at least one request
  // was between its first token and its end (the union of those intervals), so idle time and the wait
  // for the first prefill do not count.
  int64_t decode_tokens = 0;
  double decode_active_s = 0;
  double decode_throughput = 0;
  // Decode at full load: while the most requests were decoding at once (with N clients and long
  // generations, all N busy: the steady state, without the ramp-up or the drain as requests finish),
  // how many, for how long, and their token chunks after each first one in that time per second.
  int64_t full_load_requests = 0;
  double full_load_s = 0;
  int64_t full_load_tokens = 0;
  double full_load_throughput = 0;
  Distribution latency_s;  // end-to-end, per request
  Distribution ttft_s;     // time to first token, per request
  Distribution itl_s;      // gaps between successive token chunks, pooled over requests
  Distribution tpot_s;     // per request: (latency - ttft) / (tokens - 1), requests with 2+ tokens
};

// Over the completed requests; failed and cancelled ones are only counted.
Summary summarize(std::span<const RequestResult> results, double wall_s);

}  // namespace sambay::loadgen
