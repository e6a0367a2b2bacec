#pragma once
// The synthetic serving workload: per request, a prompt of random token ids and a generation length, both
// lengths drawn uniformly around their means.
//
// The draw follows the random dataset of vLLM's serving benchmark (vllm/benchmarks/datasets/random.py,
// RandomDataset.get_sampling_params, the harness the Phi-4-mini-flash-reasoning paper measured with):
// each length is an integer drawn uniformly from the closed interval
// [floor(mean * (1 - r)), ceil(mean * (1 + r))] with 0 <= r < 1, the lower bound raised to at least 1.
// vLLM's default is r = 0 (every request exactly the mean; vLLM releases before 2025 drew from
// [int(mean * r), mean] with a default r = 1.0: also exact lengths). The paper's requests vary around
// their means without a published spread, so the named presets use r = 0.1; --range-ratio overrides it.
// vLLM builds its prompt from consecutive vocabulary ids and re-tokenizes text; we send the token ids
// themselves, drawn independently from [token_min, token_max), so the server sees exactly prompt_len tokens.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sambay::loadgen {

struct WorkloadSpec {
  int64_t prompt_len = 2000;  // mean prompt tokens
  int64_t gen_len = 32000;    // mean generated tokens
  double range_ratio = 0.0;   // r: lengths uniform in [mean * (1 - r), mean * (1 + r)]
  int32_t token_min = 1000;   // prompt ids are drawn from [token_min, token_max)
  int32_t token_max = 100000;
  uint64_t seed = 0;
};

// Named shapes: paper-2k-32k (the paper's long-generation throughput test) and long-prompt.
struct WorkloadPreset {
  std::string_view name;
  int64_t prompt_len;
  int64_t gen_len;
  double range_ratio;
};
std::span<const WorkloadPreset> workload_presets();
std::optional<WorkloadPreset> find_workload_preset(std::string_view name);

// Closed interval of lengths a mean and range ratio allow.
struct LengthRange {
  int64_t low, high;
};
LengthRange length_range(int64_t mean, double range_ratio);

// Throws sambay::Error naming the field when the spec cannot be drawn from.
void validate(const WorkloadSpec& spec);

struct PlannedRequest {
  int64_t index = 0;
  std::vector<int32_t> prompt;
  int64_t gen_len = 0;
};

// Request `index` of the workload. A pure function of (spec, index): the same requests whatever the
// concurrency or the order in which clients take them, and prompts need not be held in memory up front.
PlannedRequest draw_request(const WorkloadSpec& spec, int64_t index);

}  // namespace sambay::loadgen
