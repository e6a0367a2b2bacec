#include "sambay/sample/sampler.h"

#include <algorithm>
#include <cmath>

#include "sambay/base/error.h"
#include "sambay/base/random.h"

namespace sambay {

Sampler::Sampler(const SamplingParams& params) : params_(params) { params_.validate(); }

Sampler::Seen& Sampler::seen(int32_t token) {
  SAMBAY_CHECK(token >= 0, "sampler: token id {} is negative", token);
  return seen_[token];
}

void Sampler::accept_prompt(std::span<const int32_t> tokens) {
  for (const int32_t t : tokens) seen(t).in_prompt = true;
}

void Sampler::accept(int32_t token) { ++seen(token).output_count; }

float Sampler::penalised(float x, const Seen& s) const {
  const float rep = params_.repetition_penalty;
  if (rep != 1) x = x > 0 ? x / rep : x * rep;
  if (s.output_count > 0) x -= params_.frequency_penalty * static_cast<float>(s.output_count) + params_.presence_penalty;
  return x;
}

void Sampler::prepare(std::span<const float> in, std::vector<float>& out) const {
  out.resize(in.size());
  // One pass over the vocabulary (vectorisable), then the few seen tokens from their raw logits.
  const bool scale = !params_.is_greedy() && params_.temperature != 1;
  const float t = scale ? params_.temperature : 1.0f;
  for (size_t i = 0; i < in.size(); ++i) {
    const float x = in[i];
    out[i] = (x == x ? x : -INFINITY) / t;
  }
  for (const auto& [token, s] : seen_) {
    SAMBAY_CHECK(static_cast<size_t>(token) < in.size(),
                 "sampler: token id {} seen earlier is outside the vocabulary of {} logits", token, in.size());
    const float x = penalised(in[static_cast<size_t>(token)], s);
    out[static_cast<size_t>(token)] = (x == x ? x : -INFINITY) / t;
  }
}

void Sampler::process_logits(std::span<float> logits) const {
  std::vector<float> out;
  prepare(logits, out);
  std::copy(out.begin(), out.end(), logits.begin());
}

int32_t argmax_token(std::span<const float> logits) {
  int32_t best = -1;
  float best_value = -INFINITY;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > best_value) {  // strict: the first of equal maxima wins
      best_value = logits[i];
      best = static_cast<int32_t>(i);
    }
  }
  if (best < 0) fail("cannot sample: all {} logits are -inf or NaN", logits.size());
  return best;
}

int32_t Sampler::sample(std::span<const float> logits) {
  SAMBAY_CHECK(!logits.empty(), "sampler: empty logits");
  prepare(logits, work_);
  if (params_.is_greedy()) return argmax_token(work_);

  const double total = select_candidates(work_, params_, candidates_);
  const double u = static_cast<double>(random_bits(params_.seed, kSamplerStream, draws_++) >> 11) * 0x1p-53;
  const double target = u * total;
  double acc = 0;
  for (const Candidate& c : candidates_) {
    acc += c.weight;
    if (target < acc) return c.token;
  }
  return candidates_.back().token;  // u * total rounded up to the full sum
}

}  // namespace sambay
