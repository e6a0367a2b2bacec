// Percentiles, interval unions and the run summary against direct computations of their definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "loadgen/stats.h"

namespace sambay::loadgen {
namespace {

// numpy.percentile's default ("linear"): the sorted values sit at p = 100 k / (n - 1); between two of
// them the percentile is on the straight line joining them. Found by walking the segments.
double reference_percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.size() == 1) return v[0];
  const double step = 100.0 / static_cast<double>(v.size() - 1);
  for (size_t k = 0; k + 1 < v.size(); ++k) {
    const double p0 = step * static_cast<double>(k), p1 = step * static_cast<double>(k + 1);
    if (p <= p1 || k + 2 == v.size()) return v[k] + (v[k + 1] - v[k]) * (p - p0) / (p1 - p0);
  }
  return v.back();
}

TEST(Percentile, KnownNumpyValues) {
  const std::vector<double> four{1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile(four, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile(four, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(four, 100), 4);
  std::vector<double> hundred(100);
  std::iota(hundred.begin(), hundred.end(), 1.0);
  EXPECT_NEAR(percentile(hundred, 99), 99.01, 1e-12);
  EXPECT_NEAR(percentile(hundred, 90), 90.1, 1e-12);
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{1, 2, 3}, 90), 2.8);
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{7}, 99), 7);
  EXPECT_EQ(percentile(std::vector<double>{}, 50), 0);
}

TEST(Percentile, MatchesTheLinearInterpolationDefinition) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> value(2.0);
  for (size_t n : {2, 3, 7, 50, 1001}) {
    std::vector<double> v(n);
    for (double& x : v) x = value(rng);
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (double p : {0.0, 1.0, 10.0, 33.3, 50.0, 90.0, 99.0, 99.9, 100.0})
      EXPECT_NEAR(percentile(sorted, p), reference_percentile(v, p), 1e-12) << "n " << n << " p " << p;
  }
}

TEST(Distribution, OfUnsortedValues) {
  const Distribution d = distribution({5, 1, 4, 2, 3});
  EXPECT_EQ(d.count, 5);
  EXPECT_DOUBLE_EQ(d.mean, 3);
  EXPECT_DOUBLE_EQ(d.min, 1);
  EXPECT_DOUBLE_EQ(d.max, 5);
  EXPECT_DOUBLE_EQ(d.p50, 3);
  EXPECT_DOUBLE_EQ(d.p90, 4.6);
  EXPECT_DOUBLE_EQ(d.p99, 4.96);
  const Distribution empty = distribution({});
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.mean, 0);
}

TEST(CoveredLength, MatchesCountingCoveredCells) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> point(0, 99);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::pair<double, double>> intervals;
    std::vector<bool> covered(100, false);
    const int n = 1 + trial % 9;
    for (int i = 0; i < n; ++i) {
      int a = point(rng), b = point(rng);
      if (a > b) std::swap(a, b);
      intervals.emplace_back(a, b);
      for (int c = a; c < b; ++c) covered[c] = true;
    }
    const double expected = static_cast<double>(std::count(covered.begin(), covered.end(), true));
    EXPECT_DOUBLE_EQ(covered_length(intervals), expected) << "trial " << trial;
  }
}

RequestResult completed(double start, double ttft, double latency, int64_t tokens, int64_t asked,
                        std::vector<double> itl) {
  RequestResult r;
  r.ok = true;
  r.start_s = start;
  r.ttft_s = ttft;
  r.latency_s = latency;
  r.completion_tokens = tokens;
  r.gen_len = asked;
  r.itl_s = std::move(itl);
  r.chunks = tokens;
  return r;
}

TEST(Summarize, ComputesEveryFigureFromTheRequests) {
  std::vector<RequestResult> results;
  results.push_back(completed(0.0, 0.5, 2.5, 5, 5, {0.5, 0.5, 0.5, 0.5}));
  results.back().prompt_tokens = 10;
  results.push_back(completed(1.0, 1.0, 3.0, 3, 4, {1.0, 1.0}));  // one token short of what it asked
  results.back().prompt_len = 7;                                  // no usage: the tokens sent count
  RequestResult failed;
  failed.error = "HTTP 500: boom";
  failed.completion_tokens = 99;  // a failed request's tokens do not count as generated
  failed.chunks = 2;               // but as streamed
  results.push_back(failed);
  RequestResult cut = failed;
  cut.cancelled = true;
  cut.chunks = 3;
  results.push_back(cut);

  const Summary s = summarize(results, 5.0);
  EXPECT_EQ(s.requests, 4);
  EXPECT_EQ(s.completed, 2);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.cancelled, 1);
  EXPECT_EQ(s.prompt_tokens, 17);
  EXPECT_EQ(s.generated_tokens, 8);
  EXPECT_EQ(s.length_mismatches, 1);
  EXPECT_DOUBLE_EQ(s.request_throughput, 2 / 5.0);
  EXPECT_DOUBLE_EQ(s.output_throughput, 8 / 5.0);
  EXPECT_EQ(s.partial_tokens, 5);
  EXPECT_DOUBLE_EQ(s.streamed_throughput, 13 / 5.0);
  // Decoding intervals [0.5, 2.5] and [2.0, 4.0] cover 3.5 s; 4 + 2 tokens after the first.
  EXPECT_EQ(s.decode_tokens, 6);
  EXPECT_DOUBLE_EQ(s.decode_active_s, 3.5);
  EXPECT_DOUBLE_EQ(s.decode_throughput, 6 / 3.5);
  EXPECT_DOUBLE_EQ(s.latency_s.mean, 2.75);
  EXPECT_DOUBLE_EQ(s.ttft_s.mean, 0.75);
  EXPECT_DOUBLE_EQ(s.tpot_s.mean, (2.0 / 4 + 2.0 / 2) / 2);
  EXPECT_EQ(s.itl_s.count, 6);
  EXPECT_DOUBLE_EQ(s.itl_s.mean, 4.0 / 6);
  EXPECT_DOUBLE_EQ(s.itl_s.p50, 0.5);
  EXPECT_DOUBLE_EQ(s.itl_s.max, 1.0);
}

TEST(Summarize, FullLoadCountsOnlyTheTimeWhenTheMostRequestsDecode) {
  // Token times: a at 1, 2, 3, 4, 5; b at 2.5, 3.5, 4.5, 5.5; c at 7, 8 (alone, after both).
  std::vector<RequestResult> results;
  results.push_back(completed(0.0, 1.0, 5.0, 5, 5, {1, 1, 1, 1}));
  results.push_back(completed(2.0, 0.5, 5.5, 4, 4, {1, 1, 1}));
  results.push_back(completed(6.0, 1.0, 8.0, 2, 2, {1}));
  const Summary s = summarize(results, 8.0);
  // Two decode at once from 2.5 (b's first token) to 5 (a's last); inside it a's tokens at 3, 4, 5
  // and b's at 3.5 and 4.5 (first tokens are not decode tokens).
  EXPECT_EQ(s.full_load_requests, 2);
  EXPECT_DOUBLE_EQ(s.full_load_s, 2.5);
  EXPECT_EQ(s.full_load_tokens, 5);
  EXPECT_DOUBLE_EQ(s.full_load_throughput, 5 / 2.5);
}

TEST(Summarize, CountsChunksWhenTheServerReportsNoUsage) {
  RequestResult r = completed(0, 0.1, 1.1, -1, 11, std::vector<double>(10, 0.1));
  r.chunks = 11;
  const Summary s = summarize(std::vector{r}, 2.0);
  EXPECT_EQ(s.generated_tokens, 11);
  EXPECT_EQ(s.length_mismatches, 0);
  EXPECT_NEAR(s.tpot_s.mean, 0.1, 1e-12);
}

}  // namespace
}  // namespace sambay::loadgen
