#include "metrics.h"

#include <fmt/format.h>

namespace sambay::server {
namespace {

constexpr const char* kRouteNames[kRoutes] = {"chat", "completions"};
constexpr const char* kOutcomeNames[kOutcomes] = {"stop", "length", "cancelled", "error", "rejected"};

void metric(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <class T>
void sample(std::string& out, const char* name, T value) {
  fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
}

// A metric with one unlabelled sample.
template <class T>
void single(std::string& out, const char* name, const char* type, const char* help, T value) {
  metric(out, name, type, help);
  sample(out, name, value);
}

}  // namespace

Outcome outcome_of(const std::string& reason) {
  if (reason == "stop") return Outcome::kStop;
  if (reason == "length") return Outcome::kLength;
  if (reason == "cancelled") return Outcome::kCancelled;
  return Outcome::kError;
}

void ServerMetrics::observe(double first_token_seconds, double total_seconds, bool had_token) {
  std::lock_guard lock(mu_);
  if (had_token) {
    ttft_sum_ += first_token_seconds;
    ++ttft_count_;
  }
  latency_sum_ += total_seconds;
  ++latency_count_;
}

std::string ServerMetrics::render(const EngineStats& s) const {
  std::string out;
  metric(out, "sambay_requests_total", "counter", "API requests by endpoint and outcome");
  for (int r = 0; r < kRoutes; ++r)
    for (int o = 0; o < kOutcomes; ++o)
      fmt::format_to(std::back_inserter(out), "sambay_requests_total{{endpoint=\"{}\",outcome=\"{}\"}} {}\n",
                     kRouteNames[r], kOutcomeNames[o], requests_[r * kOutcomes + o].load());
  single(out, "sambay_prompt_tokens_total", "counter", "prompt tokens of requests the engine admitted",
         s.prompt_tokens);
  single(out, "sambay_generation_tokens_total", "counter", "tokens generated", s.generated_tokens);
  single(out, "sambay_requests_running", "gauge", "requests with state in the cache", s.running);
  single(out, "sambay_requests_waiting", "gauge", "requests queued for a slot", s.waiting);
  single(out, "sambay_http_streams_open", "gauge", "streaming responses being written", open_streams_.load());
  single(out, "sambay_cache_slots_used", "gauge", "state-cache slots in use", s.slots_used);
  single(out, "sambay_cache_slots_total", "gauge", "state-cache slots", s.slots_total);
  single(out, "sambay_cache_pages_used", "gauge", "shared K/V pages in use", s.pages_used);
  single(out, "sambay_cache_pages_total", "gauge", "shared K/V pages", s.pages_total);
  single(out, "sambay_preemptions_total", "counter", "sequences whose state was dropped to be recomputed later",
         s.preemptions);
  single(out, "sambay_recomputes_total", "counter",
         "sequences run again from their first token because their state did not fit the longer sequence "
         "(LongRoPE's switch to the long factors)",
         s.recomputes);
  single(out, "sambay_engine_steps_total", "counter", "engine steps run", s.steps);
  single(out, "sambay_engine_step_seconds_total", "counter", "time spent in engine steps", s.step_seconds_total);
  single(out, "sambay_engine_last_step_seconds", "gauge", "duration of the latest engine step", s.last_step_seconds);
  std::lock_guard lock(mu_);
  metric(out, "sambay_time_to_first_token_seconds", "summary", "submit to first token");
  sample(out, "sambay_time_to_first_token_seconds_sum", ttft_sum_);
  sample(out, "sambay_time_to_first_token_seconds_count", ttft_count_);
  metric(out, "sambay_request_seconds", "summary", "submit to finish");
  sample(out, "sambay_request_seconds_sum", latency_sum_);
  sample(out, "sambay_request_seconds_count", latency_count_);
  return out;
}

}  // namespace sambay::server
