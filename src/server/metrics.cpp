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
  metric(out, "sambay_prompt_tokens_total", "counter", "prompt tokens of requests the engine admitted");
  sample(out, "sambay_prompt_tokens_total", s.prompt_tokens);
  metric(out, "sambay_generation_tokens_total", "counter", "tokens generated");
  sample(out, "sambay_generation_tokens_total", s.generated_tokens);
  metric(out, "sambay_requests_running", "gauge", "requests with state in the cache");
  sample(out, "sambay_requests_running", s.running);
  metric(out, "sambay_requests_waiting", "gauge", "requests queued for a slot");
  sample(out, "sambay_requests_waiting", s.waiting);
  metric(out, "sambay_http_streams_open", "gauge", "streaming responses being written");
  sample(out, "sambay_http_streams_open", open_streams_.load());
  metric(out, "sambay_cache_slots_used", "gauge", "state-cache slots in use");
  sample(out, "sambay_cache_slots_used", s.slots_used);
  metric(out, "sambay_cache_slots_total", "gauge", "state-cache slots");
  sample(out, "sambay_cache_slots_total", s.slots_total);
  metric(out, "sambay_cache_pages_used", "gauge", "shared K/V pages in use");
  sample(out, "sambay_cache_pages_used", s.pages_used);
  metric(out, "sambay_cache_pages_total", "gauge", "shared K/V pages");
  sample(out, "sambay_cache_pages_total", s.pages_total);
  metric(out, "sambay_preemptions_total", "counter", "sequences whose state was dropped to be recomputed later");
  sample(out, "sambay_preemptions_total", s.preemptions);
  metric(out, "sambay_engine_steps_total", "counter", "engine steps run");
  sample(out, "sambay_engine_steps_total", s.steps);
  metric(out, "sambay_engine_step_seconds_total", "counter", "time spent in engine steps");
  sample(out, "sambay_engine_step_seconds_total", s.step_seconds_total);
  metric(out, "sambay_engine_last_step_seconds", "gauge", "duration of the latest engine step");
  sample(out, "sambay_engine_last_step_seconds", s.last_step_seconds);
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
