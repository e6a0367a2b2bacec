// Sampler properties checked against straightforward float64 references of the definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "sambay/base/error.h"
#include "sambay/sample/logprobs.h"
#include "sambay/sample/sampler.h"
#include "sambay/sample/truncation.h"

namespace sambay {
namespace {

std::vector<float> random_logits(size_t n, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, sigma);
  std::vector<float> out(n);
  for (float& x : out) x = static_cast<float>(normal(rng));
  return out;
}

SamplingParams sampling(float temperature, int top_k, float top_p, float min_p, uint64_t seed = 1) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.min_p = min_p;
  p.seed = seed;
  return p;
}

// The definitions, in float64, over already processed logits z:
// softmax; top-k by (z desc, id asc); top-p = smallest such prefix of the top-k renormalised
// distribution with mass >= top_p; min-p = p >= min_p * p_max. `ambiguous` marks tokens whose
// fate float rounding could flip (top-p boundary within 1e-6, min-p threshold within 1e-6, or
// beyond the e^-50 floor).
struct Reference {
  std::vector<double> prob;  // renormalised over kept tokens, 0 elsewhere
  std::vector<bool> ambiguous;
};

Reference reference(const std::vector<float>& z, const SamplingParams& p) {
  const size_t n = z.size();
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
  const double best = z[order[0]];
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = std::exp(static_cast<double>(z[i]) - best);
  Reference r{std::vector<double>(n, 0.0), std::vector<bool>(n, false)};
  size_t k = n;
  if (p.top_k > 0) k = std::min(k, static_cast<size_t>(p.top_k));
  double topk_mass = 0;
  for (size_t i = 0; i < k; ++i) topk_mass += w[order[i]];
  size_t keep = k;
  if (p.top_p < 1) {
    double cum = 0;
    for (size_t i = 0; i < k; ++i) {
      const double before = cum / topk_mass;
      cum += w[order[i]];
      if (std::fabs(before - p.top_p) < 1e-6 || std::fabs(cum / topk_mass - p.top_p) < 1e-6)
        r.ambiguous[order[i]] = true;
      if (cum / topk_mass >= p.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) {
    const int32_t t = order[i];
    if (w[t] >= p.min_p) {
      r.prob[t] = w[t];
      total += w[t];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    r.prob[i] /= total;
    if (z[i] < best - kDropBelow + 1e-3) r.ambiguous[i] = true;
    if (p.min_p > 0 && std::fabs(w[i] - p.min_p) < 1e-6 * p.min_p) r.ambiguous[i] = true;
  }
  return r;
}

TEST(SamplingParams, ValidateNamesTheField) {
  auto bad = [](auto edit) {
    SamplingParams p;
    edit(p);
    try {
      p.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(bad([](SamplingParams&) {}), "");
  EXPECT_NE(bad([](SamplingParams& p) { p.top_p = 0; }).find("top_p"), std::string::npos);
  EXPECT_NE(bad([](SamplingParams& p) { p.top_p = 1.5f; }).find("top_p"), std::string::npos);
  EXPECT_NE(bad([](SamplingParams& p) { p.top_k = -1; }).find("top_k"), std::string::npos);
  EXPECT_NE(bad([](SamplingParams& p) { p.min_p = 2; }).find("min_p"), std::string::npos);
  EXPECT_NE(bad([](SamplingParams& p) { p.repetition_penalty = 0; }).find("repetition_penalty"), std::string::npos);
  EXPECT_NE(bad([](SamplingParams& p) { p.temperature = NAN; }).find("temperature"), std::string::npos);
  EXPECT_NE(bad([](SamplingParams& p) { p.presence_penalty = INFINITY; }).find("presence_penalty"), std::string::npos);
  EXPECT_THROW(Sampler(sampling(1, 0, 0, 0)), Error);
}

TEST(Sampler, GreedyIsArgmaxWithLowestIdOnTies) {
  SamplingParams p;
  p.greedy = true;
  Sampler s(p);
  EXPECT_EQ(s.sample(std::vector<float>{1, 3, 3, 2}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{NAN, -1, NAN, -2}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{0, INFINITY, 5, INFINITY}), 1);
  EXPECT_EQ(s.draws(), 0u);  // greedy does not advance the random counter
  EXPECT_THROW(s.sample(std::vector<float>{-INFINITY, NAN}), Error);
  EXPECT_THROW(s.sample(std::vector<float>{}), Error);
  Sampler zero_temperature(sampling(0, 0, 0.95f, 0));
  const auto logits = random_logits(5000, 2.0, 3);
  EXPECT_EQ(zero_temperature.sample(logits), argmax_token(logits));
}

TEST(Sampler, TemperatureToZeroEqualsGreedy) {
  for (uint64_t trial = 0; trial < 20; ++trial) {
    auto logits = random_logits(2000, 1.0, 100 + trial);
    const int32_t best = argmax_token(logits);
    logits[best] += 0.05f;  // a margin, so that 1e-4 makes the rest vanish
    Sampler s(sampling(1e-4f, 0, 1.0f, 0, trial));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits), best);
    Sampler k1(sampling(1.5f, 1, 1.0f, 0, trial));  // top_k = 1 is argmax too
    EXPECT_EQ(k1.sample(logits), best);
  }
}

TEST(Sampler, SameSeedReproducesDifferentSeedsDiffer) {
  auto run = [](uint64_t seed) {
    Sampler s(sampling(1.0f, 0, 0.95f, 0, seed));
    std::vector<int32_t> out;
    for (uint64_t step = 0; step < 64; ++step) {
      const int32_t t = s.sample(random_logits(1000, 1.0, step));
      s.accept(t);
      out.push_back(t);
    }
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
  // Pinned: the generator is specified (splitmix64 counter), so these never change across builds.
  Sampler pinned(sampling(1.0f, 0, 1.0f, 0, 12345));
  std::vector<float> uniform(16, 0.0f);
  std::vector<int32_t> seq;
  for (int i = 0; i < 8; ++i) seq.push_back(pinned.sample(uniform));
  const std::vector<int32_t> again = [&] {
    Sampler s(sampling(1.0f, 0, 1.0f, 0, 12345));
    std::vector<int32_t> v;
    for (int i = 0; i < 8; ++i) v.push_back(s.sample(uniform));
    return v;
  }();
  EXPECT_EQ(seq, again);
}

// select_candidates keeps exactly the reference set, and draws never leave it.
TEST(Sampler, TruncationNeverEmitsExcludedTokens) {
  const SamplingParams configs[] = {
      sampling(1.0f, 5, 1.0f, 0),    sampling(1.0f, 50, 1.0f, 0),  sampling(0.7f, 0, 0.5f, 0),
      sampling(1.3f, 0, 0.9f, 0),    sampling(1.0f, 0, 0.1f, 0),   sampling(1.0f, 0, 1.0f, 0.05f),
      sampling(1.0f, 0, 1.0f, 0.5f), sampling(0.8f, 40, 0.8f, 0.1f), sampling(1.0f, 3, 0.99f, 0.01f),
      sampling(2.0f, 0, 0.95f, 0),   sampling(0.5f, 1000, 0.3f, 0.2f),
  };
  std::vector<Candidate> kept;
  int config_index = 0;
  for (const SamplingParams& base : configs) {
    for (uint64_t trial = 0; trial < 4; ++trial) {
      SCOPED_TRACE(::testing::Message() << "config " << config_index << " trial " << trial);
      const double sigma = 0.5 + 1.5 * static_cast<double>(trial);
      const auto raw = random_logits(3000, sigma, 1000 * config_index + trial);
      SamplingParams p = base;
      p.seed = trial;
      Sampler s(p);
      std::vector<float> z = raw;
      s.process_logits(z);
      const Reference ref = reference(z, p);

      select_candidates(z, p, kept);
      std::vector<bool> in_kept(z.size(), false);
      for (const Candidate& c : kept) in_kept[c.token] = true;
      for (size_t t = 0; t < z.size(); ++t) {
        if (ref.ambiguous[t]) continue;
        ASSERT_EQ(in_kept[t], ref.prob[t] > 0) << "token " << t << " z " << z[t];
      }
      for (int draw = 0; draw < 500; ++draw) {
        const int32_t t = s.sample(raw);
        ASSERT_TRUE(ref.prob[t] > 0 || ref.ambiguous[t]) << "drew excluded token " << t;
      }
    }
    ++config_index;
  }
}

// The same on a full-size vocabulary, where selection takes the histogram paths.
TEST(Sampler, TruncationMatchesReferenceOnFullVocabulary) {
  constexpr size_t kVocab = 200064;
  struct Config {
    double sigma;
    SamplingParams params;
  };
  const Config configs[] = {
      {4.0, sampling(0.6f, 0, 0.95f, 0)},  {2.0, sampling(0.6f, 0, 0.95f, 0)},  {0.05, sampling(0.6f, 0, 0.95f, 0)},
      {2.0, sampling(1.0f, 20000, 1.0f, 0)}, {0.05, sampling(1.0f, 150000, 1.0f, 0)}, {2.0, sampling(0.8f, 50, 0.9f, 0)},
      {2.0, sampling(1.0f, 0, 1.0f, 0.05f)}, {0.05, sampling(1.0f, 0, 0.5f, 0)},   {1.0, sampling(0.7f, 5000, 0.8f, 0.01f)},
  };
  std::vector<Candidate> kept;
  int index = 0;
  for (const Config& c : configs) {
    SCOPED_TRACE(::testing::Message() << "config " << index++);
    const auto raw = random_logits(kVocab, c.sigma, 500 + index);
    Sampler s(c.params);
    std::vector<float> z = raw;
    s.process_logits(z);
    const Reference ref = reference(z, c.params);
    select_candidates(z, c.params, kept);
    std::vector<bool> in_kept(kVocab, false);
    for (const Candidate& k : kept) {
      ASSERT_FALSE(in_kept[k.token]) << "token " << k.token << " twice";
      in_kept[k.token] = true;
    }
    size_t expected = 0;
    for (size_t t = 0; t < kVocab; ++t) {
      expected += ref.prob[t] > 0;
      if (ref.ambiguous[t]) continue;
      ASSERT_EQ(in_kept[t], ref.prob[t] > 0) << "token " << t << " z " << z[t];
    }
    EXPECT_NEAR(static_cast<double>(kept.size()), static_cast<double>(expected), 2.0);
    for (int draw = 0; draw < 40; ++draw) {
      const int32_t t = s.sample(raw);
      ASSERT_TRUE(ref.prob[t] > 0 || ref.ambiguous[t]) << "drew excluded token " << t;
    }
  }
}

// Pearson chi-square of observed counts against expected probabilities (cells with p > 0).
double chi_square(const std::vector<int>& counts, const std::vector<double>& prob, int n) {
  double chi = 0;
  for (size_t i = 0; i < prob.size(); ++i) {
    if (prob[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " has probability 0";
      continue;
    }
    const double expected = prob[i] * n;
    chi += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return chi;
}

TEST(Sampler, FrequenciesMatchSoftmax) {
  const std::vector<float> logits = {2.0f, 1.5f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, -1.5f, -2.0f, 3.0f};
  struct Config {
    SamplingParams params;
    double critical;  // chi-square at p = 1e-4 for the kept cells' degrees of freedom
  };
  const Config configs[] = {
      {sampling(1.0f, 0, 1.0f, 0, 42), 33.72},  // df 9
      {sampling(0.7f, 0, 1.0f, 0, 43), 33.72},  // df 9
      {sampling(1.0f, 4, 1.0f, 0, 44), 21.11},  // df 3
      {sampling(1.0f, 0, 0.8f, 0, 45), 23.51},  // at most df 4 kept here
      {sampling(1.2f, 6, 0.9f, 0.1f, 46), 25.74},
  };
  const int n = 200000;
  for (const Config& c : configs) {
    Sampler s(c.params);
    std::vector<float> z = logits;
    s.process_logits(z);
    const Reference ref = reference(z, c.params);
    std::vector<int> counts(logits.size(), 0);
    for (int i = 0; i < n; ++i) ++counts[s.sample(logits)];
    int kept = 0;
    for (double p : ref.prob) kept += p > 0;
    const double chi = chi_square(counts, ref.prob, n);
    EXPECT_LT(chi, c.critical) << "kept " << kept << " tokens";
  }
}

TEST(Sampler, InfiniteLogitsShareTheMassEqually) {
  Sampler s(sampling(1.0f, 0, 1.0f, 0, 9));
  const std::vector<float> logits = {0, INFINITY, 100, INFINITY, NAN};
  std::vector<int> counts(logits.size(), 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[s.sample(logits)];
  EXPECT_EQ(counts[0] + counts[2] + counts[4], 0);
  EXPECT_LT(chi_square(counts, {0, 0.5, 0, 0.5, 0}, n), 15.14);  // df 1, p = 1e-4
}

// Float64 reference of steps 1-3 and the temperature.
std::vector<double> reference_processed(const std::vector<float>& logits, const SamplingParams& p,
                                        const std::set<int32_t>& prompt, const std::vector<int32_t>& output) {
  std::vector<double> out(logits.size());
  for (size_t t = 0; t < logits.size(); ++t) {
    double x = std::isnan(logits[t]) ? -INFINITY : logits[t];
    const auto count = static_cast<double>(std::count(output.begin(), output.end(), static_cast<int32_t>(t)));
    if (prompt.count(static_cast<int32_t>(t)) || count > 0) x = x > 0 ? x / p.repetition_penalty : x * p.repetition_penalty;
    x -= p.frequency_penalty * count + p.presence_penalty * (count > 0 ? 1.0 : 0.0);
    out[t] = p.is_greedy() ? x : x / p.temperature;
  }
  return out;
}

TEST(Sampler, PenaltiesFollowTheFormulas) {
  SamplingParams p = sampling(0.7f, 0, 1.0f, 0);
  p.repetition_penalty = 1.3f;
  p.presence_penalty = 0.4f;
  p.frequency_penalty = 0.25f;
  auto logits = random_logits(500, 3.0, 77);
  logits[10] = 0.0f;  // zero is multiplied (stays 0), as in vLLM's `logits > 0` test
  logits[11] = NAN;
  const std::set<int32_t> prompt = {1, 2, 3, 10, 11, 40};
  const std::vector<int32_t> output = {3, 3, 3, 5, 7, 7, 40, 499};
  Sampler s(p);
  s.accept_prompt(std::vector<int32_t>(prompt.begin(), prompt.end()));
  for (int32_t t : output) s.accept(t);
  std::vector<float> z = logits;
  s.process_logits(z);
  const auto ref = reference_processed(logits, p, prompt, output);
  for (size_t t = 0; t < z.size(); ++t) {
    if (std::isinf(ref[t])) {
      EXPECT_EQ(z[t], ref[t]) << t;
    } else {
      EXPECT_NEAR(z[t], ref[t], 1e-5 * (1 + std::fabs(ref[t]))) << "token " << t;
    }
  }
  // Prompt-only tokens see the repetition penalty but not presence/frequency.
  EXPECT_NEAR(z[1], (logits[1] > 0 ? logits[1] / 1.3 : logits[1] * 1.3) / 0.7, 1e-5);
  // Untouched tokens are only divided by the temperature.
  EXPECT_NEAR(z[100], logits[100] / 0.7, 1e-5);

  // Greedy skips the temperature but keeps the penalties, and the penalty can change the argmax.
  SamplingParams g = p;
  g.greedy = true;
  Sampler greedy(g);
  std::vector<float> two = {5.0f, 4.9f};
  EXPECT_EQ(greedy.sample(two), 0);
  greedy.accept(0);
  EXPECT_EQ(greedy.sample(two), 1);  // 5/1.3 - 0.25 - 0.4 < 4.9
  EXPECT_THROW(greedy.accept(-1), Error);
  greedy.accept(7);
  EXPECT_THROW(greedy.sample(two), Error);  // token 7 is outside these logits
}

TEST(Logprobs, MatchLogSoftmax) {
  const auto logits = random_logits(1000, 2.0, 5);
  const auto top = top_logprobs(logits, 5);
  ASSERT_EQ(top.size(), 5u);
  double best = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float x : logits) sum += std::exp(x - best);
  for (size_t i = 0; i < top.size(); ++i) {
    EXPECT_NEAR(top[i].logprob, logits[top[i].token] - best - std::log(sum), 1e-5);
    if (i) {
      EXPECT_GE(top[i - 1].logprob, top[i].logprob);
    }
    EXPECT_FLOAT_EQ(token_logprob(logits, top[i].token), top[i].logprob);
  }
  EXPECT_EQ(top[0].token, argmax_token(logits));
  EXPECT_EQ(token_logprob(std::vector<float>{0, -INFINITY}, 1), -INFINITY);
  EXPECT_NEAR(token_logprob(std::vector<float>{INFINITY, 1, INFINITY}, 2), std::log(0.5), 1e-6);
}

TEST(Truncation, FastExpIsAccurate) {
  EXPECT_EQ(exp_nonpositive(0.0f), 1.0f);  // the best token's weight is exactly 1 (min-p relies on it)
  double worst = 0;
  for (float x = -87.0f; x <= 0.0f; x += 0.00037f) {
    const double e = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(exp_nonpositive(x) - e) / e);
  }
  EXPECT_LT(worst, 2e-7);
}

// Not a benchmark: a guard that a 200K vocabulary stays in linear time (no full sorts per token).
TEST(Sampler, LargeVocabularyIsFast) {
  constexpr size_t kVocab = 200064;
  const auto peaked = random_logits(kVocab, 4.0, 1);   // model-like: a few tokens dominate
  const auto flat = random_logits(kVocab, 0.05, 2);    // random weights: nearly uniform
  for (const auto* logits : {&peaked, &flat}) {
    Sampler s(SamplingParams{});  // defaults: temperature 0.6, top_p 0.95
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 50; ++i) s.accept(s.sample(*logits));
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / 50;
    std::printf("  %s logits: %.3f ms per sample\n", logits == &peaked ? "peaked" : "flat", ms);
    EXPECT_LT(ms, 200.0);
  }
}

}  // namespace
}  // namespace sambay
