#include "sambay/sample/truncation.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "sambay/base/error.h"
#include "sambay/base/random.h"

namespace sambay {

namespace {

constexpr int kBuckets = 4096;
constexpr size_t kDirect = 2048;  // below this many candidates a plain quickselect is cheaper

// The sampling order: higher logit first, lower token id first among equals.
bool ranks_before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.token < b.token);
}

double measure(const Candidate& c, bool by_weight) { return by_weight ? c.weight : 1.0; }

// Within c[lo, hi): moves the highest-ranked elements whose measure (1 each, or the weight) first
// reaches `target` to the front and returns how many. A quickselect that carries the measure above
// the pivot, so expected linear time.
size_t quickselect_prefix(std::vector<Candidate>& c, size_t lo, size_t hi, double target, bool by_weight) {
  const size_t begin = lo;
  double need = target;
  uint64_t state = 0x243F6A8885A308D3ull;
  while (lo < hi) {
    state = mix64(state);
    std::swap(c[lo + state % (hi - lo)], c[hi - 1]);
    const Candidate pivot = c[hi - 1];
    size_t store = lo;
    double above = 0;
    for (size_t i = lo; i + 1 < hi; ++i) {
      if (ranks_before(c[i], pivot)) {
        above += measure(c[i], by_weight);
        std::swap(c[i], c[store++]);
      }
    }
    std::swap(c[store], c[hi - 1]);
    if (above >= need) {
      hi = store;  // the prefix ends strictly above the pivot
      continue;
    }
    need -= above + measure(c[store], by_weight);
    if (need <= 0) return store + 1 - begin;
    lo = store + 1;
  }
  return hi - begin;  // rounding left a sliver unmet: keep the whole range
}

// The same prefix over all of c: for large c a histogram of logits (buckets are monotone in the
// logit, so they respect the order) finds the one bucket where the prefix ends, and only that
// bucket is quickselected, recursively.
size_t top_prefix(std::vector<Candidate>& c, double target, bool by_weight) {
  const size_t n = c.size();
  if (n <= kDirect) return quickselect_prefix(c, 0, n, target, by_weight);
  float top = -INFINITY, bottom = INFINITY;
  for (const Candidate& x : c) {
    top = x.logit > top ? x.logit : top;
    bottom = x.logit < bottom ? x.logit : bottom;
  }
  const float hi = top;
  const float scale = kBuckets / (top - bottom);
  if (!(top > bottom) || !std::isfinite(scale)) return quickselect_prefix(c, 0, n, target, by_weight);
  auto bucket = [hi, scale](float z) { return std::min(kBuckets - 1, static_cast<int>((hi - z) * scale)); };
  std::vector<double> mass(kBuckets, 0.0);
  for (const Candidate& x : c) mass[bucket(x.logit)] += measure(x, by_weight);
  double acc = 0;
  int b = 0;
  for (; b < kBuckets && acc + mass[b] < target; ++b) acc += mass[b];
  if (b == kBuckets) return n;
  std::vector<Candidate> edge;
  size_t front = 0;
  for (size_t i = 0; i < n; ++i) {  // compacts like std::remove_if: c[front] is always visited
    const int bi = bucket(c[i].logit);
    if (bi < b) {
      c[front++] = c[i];
    } else if (bi == b) {
      edge.push_back(c[i]);
    }
  }
  const size_t k = edge.size() < n ? top_prefix(edge, target - acc, by_weight)
                                   : quickselect_prefix(edge, 0, edge.size(), target - acc, by_weight);
  std::copy(edge.begin(), edge.begin() + static_cast<std::ptrdiff_t>(k), c.begin() + static_cast<std::ptrdiff_t>(front));
  return front + k;
}

double total_weight(const std::vector<Candidate>& c) {
  double sums[4] = {0, 0, 0, 0};  // independent chains: faster than one serial sum
  size_t i = 0;
  for (; i + 4 <= c.size(); i += 4)
    for (int j = 0; j < 4; ++j) sums[j] += c[i + j].weight;
  for (; i < c.size(); ++i) sums[0] += c[i].weight;
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

// Weight exp(logit - best) of every token, 0 beyond kDropBelow (and for NaN and -inf). The tests
// are done on the bit patterns of d = best - logit, which order like the values for non-negative
// floats, with shifts and masks: branch-free integer code vectorises where float compares (which
// may trap) do not. No step can overflow: pos is in [0, INT32_MAX] and the constants positive.
void all_weights(std::span<const float> logits, float best, std::vector<float>& w) {
  const int32_t max_bits = std::bit_cast<int32_t>(87.0f);
  const int32_t keep_bits = std::bit_cast<int32_t>(kDropBelow);
  w.resize(logits.size());
  float* out = w.data();
  const float* in = logits.data();
  const size_t n = logits.size();
  for (size_t i = 0; i < n; ++i) {
    const int32_t raw = std::bit_cast<int32_t>(best - in[i]);
    const int32_t negative = raw >> 31;                       // all ones for a negative d (NaN only)
    const int32_t pos = raw & ~negative;                      // max(raw, 0)
    const int32_t diff = pos - max_bits;
    const int32_t clamped = max_bits + (diff & (diff >> 31));  // min(pos, 87): exp's domain
    const float e = exp_nonpositive(-std::bit_cast<float>(clamped));
    const int32_t too_far = (keep_bits - pos) >> 31;          // all ones beyond kDropBelow, NaN, inf
    out[i] = std::bit_cast<float>(std::bit_cast<int32_t>(e) & ~negative & ~too_far);
  }
}

// Mass and count of the tokens within each distance of the best logit: a cheap, vectorised way to
// find a small set sure to contain the top-k or the nucleus. Float sums are only used with a margin.
constexpr int kLevels = 8;
constexpr float kLevelDistance[kLevels] = {0.25f, 0.5f, 1, 2, 4, 8, 16, 32};

struct Levels {
  float mass[kLevels] = {};
  int64_t count[kLevels] = {};
};

Levels level_sums(const std::vector<float>& w) {
  int32_t threshold[kLevels];  // bits of e^-distance: for w >= 0, bits order like values
  for (int j = 0; j < kLevels; ++j) threshold[j] = std::bit_cast<int32_t>(std::exp(-kLevelDistance[j]));
  float mass[kLevels] = {};
  int32_t count[kLevels] = {};
  Levels out;
  const float* in = w.data();
  size_t i = 0;
  const size_t n = w.size();
  while (i < n) {
    const size_t end = std::min(n, i + (size_t{1} << 20));  // int32 counters cannot overflow per chunk
    for (; i < end; ++i) {
      const int32_t bits = std::bit_cast<int32_t>(in[i]);
      for (int j = 0; j < kLevels; ++j) {
        const int32_t inside = (threshold[j] - bits) >> 31 | -(bits == threshold[j]);  // bits >= threshold
        mass[j] += std::bit_cast<float>(bits & inside);
        count[j] -= inside;
      }
    }
    for (int j = 0; j < kLevels; ++j) {
      out.count[j] += count[j];
      count[j] = 0;
    }
  }
  for (int j = 0; j < kLevels; ++j) out.mass[j] = mass[j];
  return out;
}

double sum_weights(const std::vector<float>& w) {
  double sums[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= w.size(); i += 4)
    for (int j = 0; j < 4; ++j) sums[j] += w[i + j];
  for (; i < w.size(); ++i) sums[0] += w[i];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

// The top-k or top-p prefix straight from the vocabulary, among tokens within `distance` of the
// best logit: a histogram over best - logit finds the boundary bucket, one pass gathers the tokens
// above it and the boundary bucket, and only that bucket is ordered.
void vocab_prefix(std::span<const float> logits, float best, const std::vector<float>& w, float distance,
                  double target, bool by_weight, std::vector<Candidate>& out) {
  const float scale = kBuckets / distance;
  const float floor_weight = std::exp(-distance);
  // In play: w >= floor_weight > 0, so best - logit is in [0, distance] and the bucket defined.
  auto bucket = [best, scale](float x) { return std::min(kBuckets - 1, static_cast<int>((best - x) * scale)); };
  std::vector<double> mass(kBuckets, 0.0);
  for (size_t i = 0; i < logits.size(); ++i)
    if (w[i] >= floor_weight) mass[bucket(logits[i])] += by_weight ? w[i] : 1.0;
  double acc = 0;
  int b = 0;
  for (; b < kBuckets && acc + mass[b] < target; ++b) acc += mass[b];
  std::vector<Candidate> edge;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!(w[i] >= floor_weight)) continue;
    const int bi = bucket(logits[i]);
    if (bi < b) {
      out.push_back({static_cast<int32_t>(i), logits[i], w[i]});
    } else if (bi == b) {
      edge.push_back({static_cast<int32_t>(i), logits[i], w[i]});
    }
  }
  if (b == kBuckets) return;  // rounding: everything kept
  const size_t k = top_prefix(edge, target - acc, by_weight);
  out.insert(out.end(), edge.begin(), edge.begin() + static_cast<std::ptrdiff_t>(k));
}

// The largest logit; NaN compares false and so never wins. Eight running maxima instead of one
// break the dependency chain.
float max_logit(std::span<const float> logits) {
  float m[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  size_t i = 0;
  for (; i + 8 <= logits.size(); i += 8)
    for (int j = 0; j < 8; ++j) m[j] = logits[i + j] > m[j] ? logits[i + j] : m[j];
  for (; i < logits.size(); ++i) m[0] = logits[i] > m[0] ? logits[i] : m[0];
  float best = m[0];
  for (int j = 1; j < 8; ++j) best = m[j] > best ? m[j] : best;
  return best;
}

}  // namespace

double select_candidates(std::span<const float> logits, const SamplingParams& params, std::vector<Candidate>& out) {
  out.clear();
  const float best = max_logit(logits);
  if (best == -INFINITY) fail("cannot sample: all {} logits are -inf or NaN", logits.size());
  const bool top_k = params.top_k > 0 && static_cast<size_t>(params.top_k) < logits.size();
  bool top_p = params.top_p < 1;

  if (best == INFINITY) {
    // The limit of the softmax: +inf logits share all the probability equally.
    for (size_t i = 0; i < logits.size(); ++i)
      if (logits[i] == INFINITY) out.push_back({static_cast<int32_t>(i), INFINITY, 1.0f});
    if (top_k && static_cast<size_t>(params.top_k) < out.size()) out.resize(top_prefix(out, params.top_k, false));
  } else {
    thread_local std::vector<float> weights;  // one float per vocabulary entry, reused
    all_weights(logits, best, weights);
    // Gather only the tokens within the nearest level that surely holds the top-k or the nucleus
    // (1% margin over the float level sums); the rest rank below every gathered token.
    float distance = kDropBelow;
    int64_t within = -1;  // tokens within `distance`, when known
    double nucleus_target = 0;
    if (top_k || top_p) {
      const Levels levels = level_sums(weights);
      if (!top_k) nucleus_target = static_cast<double>(params.top_p) * sum_weights(weights);
      for (int j = 0; j < kLevels; ++j) {
        const bool enough = top_k ? levels.count[j] >= params.top_k : levels.mass[j] >= 1.01 * nucleus_target;
        if (enough) {
          distance = kLevelDistance[j];
          within = levels.count[j];
          break;
        }
      }
    }
    const double target = top_k ? static_cast<double>(params.top_k) : nucleus_target;
    if ((top_k || top_p) && (within < 0 || within > static_cast<int64_t>(4 * kDirect))) {
      // Many tokens in play: narrow them with a histogram before gathering any.
      vocab_prefix(logits, best, weights, distance, target, /*by_weight=*/!top_k, out);
    } else {
      const float floor_weight = std::exp(-distance);
      for (size_t i = 0; i < logits.size(); ++i)
        if (weights[i] > 0 && weights[i] >= floor_weight)
          out.push_back({static_cast<int32_t>(i), logits[i], weights[i]});
      if (top_k || top_p) out.resize(top_prefix(out, target, /*by_weight=*/!top_k));
    }
    if (!top_k) top_p = false;  // the nucleus is done, relative to the whole vocabulary
  }

  double total = total_weight(out);
  if (top_p) {
    out.resize(top_prefix(out, static_cast<double>(params.top_p) * total, /*by_weight=*/true));
    total = total_weight(out);
  }
  if (params.min_p > 0) {
    // Relative to the most likely token, whose weight is 1: independent of renormalisation.
    std::erase_if(out, [&](const Candidate& c) { return c.weight < params.min_p; });
    total = total_weight(out);
  }
  return total;
}

}  // namespace sambay
