// The Prometheus exposition of the server's counters and the engine's statistics.
#include <gtest/gtest.h>

#include "metrics.h"

namespace sambay::server {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(ServerMetrics, RendersCountersAndEngineStats) {
  ServerMetrics m;
  m.count(Route::kChat, Outcome::kStop);
  m.count(Route::kChat, Outcome::kStop);
  m.count(Route::kCompletions, outcome_of("cancelled"));
  m.count(Route::kCompletions, Outcome::kRejected);
  m.observe(0.5, 2.0, true);
  m.observe(0, 1.0, false);
  EngineStats s;
  s.running = 3;
  s.waiting = 1;
  s.slots_used = 3;
  s.slots_total = 16;
  s.pages_used = 40;
  s.pages_total = 1000;
  s.prompt_tokens = 123;
  s.generated_tokens = 456;
  s.recomputes = 2;
  const std::string text = m.render(s);
  EXPECT_TRUE(has_line(text, "sambay_requests_total{endpoint=\"chat\",outcome=\"stop\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "sambay_requests_total{endpoint=\"completions\",outcome=\"cancelled\"} 1"));
  EXPECT_TRUE(has_line(text, "sambay_requests_total{endpoint=\"completions\",outcome=\"rejected\"} 1"));
  EXPECT_TRUE(has_line(text, "sambay_requests_total{endpoint=\"chat\",outcome=\"error\"} 0"));
  EXPECT_TRUE(has_line(text, "sambay_requests_running 3"));
  EXPECT_TRUE(has_line(text, "sambay_requests_waiting 1"));
  EXPECT_TRUE(has_line(text, "sambay_cache_slots_used 3"));
  EXPECT_TRUE(has_line(text, "sambay_cache_slots_total 16"));
  EXPECT_TRUE(has_line(text, "sambay_cache_pages_used 40"));
  EXPECT_TRUE(has_line(text, "sambay_cache_pages_total 1000"));
  EXPECT_TRUE(has_line(text, "sambay_prompt_tokens_total 123"));
  EXPECT_TRUE(has_line(text, "sambay_generation_tokens_total 456"));
  EXPECT_TRUE(has_line(text, "sambay_recomputes_total 2"));
  EXPECT_TRUE(has_line(text, "sambay_time_to_first_token_seconds_count 1"));
  EXPECT_TRUE(has_line(text, "sambay_request_seconds_sum 3"));
  EXPECT_TRUE(has_line(text, "# TYPE sambay_requests_running gauge"));
  EXPECT_TRUE(has_line(text, "# TYPE sambay_requests_total counter"));
}

TEST(ServerMetrics, Outcomes) {
  EXPECT_EQ(outcome_of("stop"), Outcome::kStop);
  EXPECT_EQ(outcome_of("length"), Outcome::kLength);
  EXPECT_EQ(outcome_of("cancelled"), Outcome::kCancelled);
  EXPECT_EQ(outcome_of("error"), Outcome::kError);
}

}  // namespace
}  // namespace sambay::server
