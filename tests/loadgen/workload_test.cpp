// The workload draw: vLLM's length intervals, bounds and means of many draws, token ids, and that a seed
// fixes every request.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "loadgen/workload.h"
#include "sambay/base/error.h"

namespace sambay::loadgen {
namespace {

TEST(Workload, LengthIntervalsFollowVllm) {
  // [floor(mean (1 - r)), ceil(mean (1 + r))], the low end at least 1.
  using Bounds = std::pair<int64_t, int64_t>;
  auto range = [](int64_t mean, double r) {
    const LengthRange x = length_range(mean, r);
    return Bounds(x.low, x.high);
  };
  EXPECT_EQ(range(2000, 0.0), Bounds(2000, 2000));
  EXPECT_EQ(range(2000, 0.1), Bounds(1800, 2200));
  EXPECT_EQ(range(5, 0.5), Bounds(2, 8));
  EXPECT_EQ(range(3, 0.5), Bounds(1, 5));
  EXPECT_EQ(range(1, 0.9), Bounds(1, 2));
  EXPECT_EQ(range(32000, 0.25), Bounds(24000, 40000));
}

TEST(Workload, DrawsStayInBoundsAndAverageTheMean) {
  WorkloadSpec spec;
  spec.prompt_len = 100;
  spec.gen_len = 1000;
  spec.range_ratio = 0.5;
  spec.seed = 42;
  const int n = 20000;
  std::vector<int64_t> prompts, gens;
  for (int i = 0; i < n; ++i) {
    const PlannedRequest r = draw_request(spec, i);
    EXPECT_EQ(r.index, i);
    prompts.push_back(static_cast<int64_t>(r.prompt.size()));
    gens.push_back(r.gen_len);
  }
  auto mean = [](const std::vector<int64_t>& v) {
    return static_cast<double>(std::accumulate(v.begin(), v.end(), int64_t{0})) / static_cast<double>(v.size());
  };
  // Every value of the interval is reachable: the ends show up in 20000 draws (miss chance ~e^-20).
  EXPECT_EQ(*std::min_element(prompts.begin(), prompts.end()), 50);
  EXPECT_EQ(*std::max_element(prompts.begin(), prompts.end()), 150);
  EXPECT_EQ(*std::min_element(gens.begin(), gens.end()), 500);
  EXPECT_EQ(*std::max_element(gens.begin(), gens.end()), 1500);
  // Standard errors of the means: 29 / sqrt(n) = 0.2 and 289 / sqrt(n) = 2.0; allow five.
  EXPECT_NEAR(mean(prompts), 100, 1.0);
  EXPECT_NEAR(mean(gens), 1000, 10.0);
}

TEST(Workload, ZeroRangeRatioGivesExactLengths) {
  WorkloadSpec spec;
  spec.prompt_len = 37;
  spec.gen_len = 501;
  for (int i = 0; i < 100; ++i) {
    const PlannedRequest r = draw_request(spec, i);
    EXPECT_EQ(r.prompt.size(), 37u);
    EXPECT_EQ(r.gen_len, 501);
  }
}

TEST(Workload, TokenIdsCoverTheirRange) {
  WorkloadSpec spec;
  spec.prompt_len = 50000;
  spec.token_min = 1000;
  spec.token_max = 1010;
  const PlannedRequest r = draw_request(spec, 0);
  std::vector<int> counts(10, 0);
  for (int32_t t : r.prompt) {
    ASSERT_GE(t, 1000);
    ASSERT_LT(t, 1010);
    ++counts[t - 1000];
  }
  for (int c : counts) EXPECT_NEAR(c, 5000, 300);  // binomial sd ~67

  WorkloadSpec wide;  // the default range
  wide.prompt_len = 20000;
  const PlannedRequest w = draw_request(wide, 3);
  EXPECT_GE(*std::min_element(w.prompt.begin(), w.prompt.end()), 1000);
  EXPECT_LT(*std::max_element(w.prompt.begin(), w.prompt.end()), 100000);
  EXPECT_NEAR(std::accumulate(w.prompt.begin(), w.prompt.end(), 0.0) / 20000, 50500, 1000);
}

TEST(Workload, TheSeedFixesEveryRequest) {
  WorkloadSpec spec;
  spec.prompt_len = 64;
  spec.gen_len = 64;
  spec.range_ratio = 0.5;
  spec.seed = 7;
  const PlannedRequest a = draw_request(spec, 5);
  draw_request(spec, 4);  // other draws in between change nothing
  const PlannedRequest b = draw_request(spec, 5);
  EXPECT_EQ(a.prompt, b.prompt);
  EXPECT_EQ(a.gen_len, b.gen_len);
  EXPECT_NE(a.prompt, draw_request(spec, 6).prompt);
  spec.seed = 8;
  EXPECT_NE(a.prompt, draw_request(spec, 5).prompt);
}

TEST(Workload, PresetsAndValidation) {
  const auto paper = find_workload_preset("paper-2k-32k");
  ASSERT_TRUE(paper.has_value());
  EXPECT_EQ(paper->prompt_len, 2000);
  EXPECT_EQ(paper->gen_len, 32000);
  const auto long_prompt = find_workload_preset("long-prompt");
  ASSERT_TRUE(long_prompt.has_value());
  EXPECT_EQ(long_prompt->prompt_len, 32000);
  EXPECT_EQ(long_prompt->gen_len, 500);
  EXPECT_FALSE(find_workload_preset("nope").has_value());

  WorkloadSpec ok;
  EXPECT_NO_THROW(validate(ok));
  WorkloadSpec bad = ok;
  bad.range_ratio = 1.0;
  EXPECT_THROW(validate(bad), Error);
  bad = ok;
  bad.token_max = bad.token_min;
  EXPECT_THROW(validate(bad), Error);
  bad = ok;
  bad.gen_len = 0;
  EXPECT_THROW(validate(bad), Error);
}

}  // namespace
}  // namespace sambay::loadgen
