#pragma once
// Which tokens may be drawn: top-k, then top-p (nucleus), then min-p, over logits already
// penalised and divided by the temperature. top-p keeps the smallest prefix of the order below
// whose probability reaches top_p (at least one token), computed on the top-k renormalised
// distribution; min-p keeps tokens with p >= min_p * p_max.
//
// Linear time in the vocabulary, no sort: one vectorised pass computes every weight plus the
// mass and count within a few distances of the best logit, which bounds the set that can hold the
// top-k or the nucleus; a histogram of logits over that set finds the bucket where the prefix ends,
// and a quickselect (weighted by probability for top-p) orders that bucket alone. About 1-3 ms for
// 200K logits on a slow server core, most of it the unavoidable passes over the vocabulary.
//
// Order among tokens is by logit, ties broken by lower token id; that order decides top-k and
// where the top-p prefix ends. Tokens more than kDropBelow below the best logit (probability ratio
// under e^-50) are never candidates: together they weigh less than 1e-16 of the best token.
// Weights are float (relative error ~1e-7) and summed in double.
#include <bit>
#include <cstdint>
#include <span>
#include <vector>

#include "sambay/sample/sampling_params.h"

namespace sambay {

struct Candidate {
  int32_t token;
  float logit;
  float weight;  // exp(logit - best logit); 1 for every +inf logit when any logit is +inf
};

inline constexpr float kDropBelow = 50.0f;

// e^x for x in [-87, 0], relative error below 1e-7, exactly 1 at 0. Branch-free (round to nearest
// by the 1.5 * 2^23 trick, Cody-Waite reduction, Cephes' expf polynomial, 2^k from exponent bits)
// so that loops over it vectorise; callers keep x in range, which also keeps the int conversion defined.
inline float exp_nonpositive(float x) {
  const float kf = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const int k = static_cast<int>(kf);
  const float r = (x - kf * 0.693359375f) + kf * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>((k + 127) << 23);
}

// Fills `out` with the kept candidates (unordered) and returns their total weight; p(token) =
// weight / total. NaN logits count as -inf. Throws sambay::Error if no logit is above -inf.
double select_candidates(std::span<const float> logits, const SamplingParams& params, std::vector<Candidate>& out);

}  // namespace sambay
