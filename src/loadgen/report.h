#pragma once
// The run's results for people (a table) and for scripts (one JSON record with every request).
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "loadgen/load_runner.h"
#include "loadgen/stats.h"

namespace sambay::loadgen {

// What was run, as the report repeats it.
struct RunDescription {
  std::string command_line;
  std::string workload_name;  // preset name, or "custom"
  LoadOptions options;
  std::string model;
};

std::string format_report(const RunDescription& run, const Summary& summary);

// Every `every`-th token chunk of a request (and its first and last) with its time since the request
// was sent: [[chunks, seconds], ...], a compact record of latency against generated length.
std::vector<std::pair<int64_t, double>> token_timeline(const RequestResult& r, int64_t every = 1024);

// {"command_line", "url", "model", "workload": {...}, "load": {...}, "summary": {...}, "requests": [...]}.
// Per-request rows carry ITL statistics and the token timeline; with `with_itl` also every gap.
nlohmann::json report_json(const RunDescription& run, const Summary& summary, std::span<const RequestResult> results,
                           bool with_itl = false);

}  // namespace sambay::loadgen
