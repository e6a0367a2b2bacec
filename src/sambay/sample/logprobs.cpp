#include "sambay/sample/logprobs.h"

#include <algorithm>
#include <cmath>

#include "sambay/base/error.h"

namespace sambay {

namespace {

// log(sum(exp(x))) over the finite and +inf logits.
double log_sum_exp(std::span<const float> logits) {
  float best = -INFINITY;
  for (const float x : logits)
    if (x > best) best = x;
  if (best == -INFINITY) fail("logprobs: all {} logits are -inf or NaN", logits.size());
  if (best == INFINITY) {
    double n = 0;
    for (const float x : logits) n += x == INFINITY;
    return INFINITY + std::log(n);  // only +inf logits have probability; see token_logprob
  }
  double sum = 0;
  for (const float x : logits)
    if (x > -INFINITY) sum += std::exp(static_cast<double>(x) - best);
  return best + std::log(sum);
}

float logprob_of(float x, double lse, std::span<const float> logits) {
  if (std::isnan(x) || x == -INFINITY) return -INFINITY;
  if (std::isinf(lse)) {
    if (x != INFINITY) return -INFINITY;
    double n = 0;
    for (const float y : logits) n += y == INFINITY;
    return static_cast<float>(-std::log(n));
  }
  return static_cast<float>(static_cast<double>(x) - lse);
}

}  // namespace

std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, int n) {
  SAMBAY_CHECK(n >= 0, "logprobs: n must be >= 0, got {}", n);
  const double lse = log_sum_exp(logits);
  std::vector<int32_t> ids(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  auto key = [&](int32_t i) { return std::isnan(logits[i]) ? -INFINITY : logits[i]; };
  auto before = [&](int32_t a, int32_t b) { return key(a) > key(b) || (key(a) == key(b) && a < b); };
  const size_t k = std::min(static_cast<size_t>(n), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(), before);
  std::vector<TokenLogprob> out;
  out.reserve(k);
  for (size_t i = 0; i < k; ++i) out.push_back({ids[i], logprob_of(logits[ids[i]], lse, logits)});
  return out;
}

float token_logprob(std::span<const float> logits, int32_t token) {
  SAMBAY_CHECK(token >= 0 && static_cast<size_t>(token) < logits.size(),
               "logprobs: token id {} is outside the vocabulary of {}", token, logits.size());
  return logprob_of(logits[token], log_sum_exp(logits), logits);
}

}  // namespace sambay
