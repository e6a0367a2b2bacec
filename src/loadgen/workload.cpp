#include "loadgen/workload.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "sambay/base/error.h"
#include "sambay/base/random.h"

namespace sambay::loadgen {
namespace {

constexpr std::array kPresets{
    WorkloadPreset{"paper-2k-32k", 2000, 32000, 0.1},
    WorkloadPreset{"long-prompt", 32000, 500, 0.1},
};

// Uniform in [0, n) from 64 random bits by multiply-shift: the bias is below n / 2^64, far beneath any
// effect on a benchmark, and the result does not depend on the standard library's distributions.
uint64_t below(uint64_t bits, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(bits) * n) >> 64);
}

int64_t draw_length(const LengthRange& r, uint64_t bits) {
  return r.low + static_cast<int64_t>(below(bits, static_cast<uint64_t>(r.high - r.low + 1)));
}

// Positions within request i's random stream.
constexpr uint64_t kPromptLenDraw = 0, kGenLenDraw = 1, kFirstTokenDraw = 2;

}  // namespace

std::span<const WorkloadPreset> workload_presets() { return kPresets; }

std::optional<WorkloadPreset> find_workload_preset(std::string_view name) {
  for (const auto& p : kPresets)
    if (p.name == name) return p;
  return std::nullopt;
}

LengthRange length_range(int64_t mean, double range_ratio) {
  const auto m = static_cast<double>(mean);
  LengthRange r{static_cast<int64_t>(std::floor(m * (1.0 - range_ratio))),
                static_cast<int64_t>(std::ceil(m * (1.0 + range_ratio)))};
  r.low = std::max<int64_t>(r.low, 1);
  r.high = std::max(r.high, r.low);
  return r;
}

void validate(const WorkloadSpec& spec) {
  SAMBAY_CHECK(spec.prompt_len >= 1, "prompt length must be at least 1, got {}", spec.prompt_len);
  SAMBAY_CHECK(spec.gen_len >= 1, "generation length must be at least 1, got {}", spec.gen_len);
  SAMBAY_CHECK(spec.range_ratio >= 0.0 && spec.range_ratio < 1.0, "range ratio must be in [0, 1), got {}",
               spec.range_ratio);
  SAMBAY_CHECK(spec.token_min >= 0 && spec.token_min < spec.token_max, "token id range [{}, {}) is empty or negative",
               spec.token_min, spec.token_max);
}

PlannedRequest draw_request(const WorkloadSpec& spec, int64_t index) {
  const auto stream = static_cast<uint64_t>(index);
  PlannedRequest r;
  r.index = index;
  const int64_t prompt_len =
      draw_length(length_range(spec.prompt_len, spec.range_ratio), random_bits(spec.seed, stream, kPromptLenDraw));
  r.gen_len = draw_length(length_range(spec.gen_len, spec.range_ratio), random_bits(spec.seed, stream, kGenLenDraw));
  const auto span = static_cast<uint64_t>(spec.token_max - spec.token_min);
  r.prompt.resize(static_cast<size_t>(prompt_len));
  for (size_t i = 0; i < r.prompt.size(); ++i)
    r.prompt[i] =
        spec.token_min + static_cast<int32_t>(below(random_bits(spec.seed, stream, kFirstTokenDraw + i), span));
  return r;
}

}  // namespace sambay::loadgen
