// The per-request token timeline in the JSON report against sums of the gaps it is built from.
#include <gtest/gtest.h>

#include <random>

#include "loadgen/report.h"

namespace sambay::loadgen {
namespace {

TEST(TokenTimeline, EveryNthChunkAtTheSumOfItsGaps) {
  RequestResult r;
  r.ttft_s = 0.75;
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> gap(0.001, 0.02);
  r.itl_s.resize(2500);
  for (double& g : r.itl_s) g = gap(rng);
  r.chunks = static_cast<int64_t>(r.itl_s.size()) + 1;
  const auto t = token_timeline(r, 1000);
  ASSERT_EQ(t.size(), 4u);  // chunks 1, 1000, 2000 and the last, 2501
  const std::vector<int64_t> at = {1, 1000, 2000, 2501};
  for (size_t i = 0; i < at.size(); ++i) {
    EXPECT_EQ(t[i].first, at[i]);
    double expect = r.ttft_s;
    for (int64_t k = 0; k + 1 < at[i]; ++k) expect += r.itl_s[k];
    EXPECT_NEAR(t[i].second, expect, 1e-9) << at[i];
  }
}

TEST(TokenTimeline, EmptyWithoutTokensAndOnePointForOne) {
  RequestResult none;
  EXPECT_TRUE(token_timeline(none).empty());
  RequestResult one;
  one.ttft_s = 0.2;
  one.chunks = 1;
  const auto t = token_timeline(one);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].first, 1);
  EXPECT_DOUBLE_EQ(t[0].second, 0.2);
}

}  // namespace
}  // namespace sambay::loadgen
