// Parity with the reference implementation: the float32 CPU path against the `fp32_pure` golden
// logits of every case in tests/data/golden (max_abs <= 1e-3 over all real prompt positions and
// every teacher-forced decode step, as tests/data/golden/README.md specifies).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sambay/model/sambay_model.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "test_util.h"

namespace sambay {
namespace {

constexpr double kMaxAbs = 1e-3;  // documented bound for the float32 path against fp32_pure

class GoldenParity : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenParity, Fp32PureLogits) {
  const auto dir = test::golden_dir() / GetParam();
  CpuOps ops(CpuOpsOptions{.poison_allocations = true});
  auto model = SambaModel::load(dir, ops, {});
  SafetensorsFile golden(dir / "golden.safetensors");
  const auto ids = test::read_array(golden, "input_ids");
  const auto mask = test::read_array(golden, "attention_mask");
  const auto tokens = test::read_array(golden, "tokens");
  const auto ref_prefill = test::read_array(golden, "fp32_pure.prefill_logits");
  const auto ref_steps = test::read_array(golden, "fp32_pure.step_logits");
  const int64_t B = ids.dim(0), P = ids.dim(1), N = tokens.dim(1), V = model->config().vocab_size;
  ASSERT_EQ(ref_prefill.dim(2), V);

  StateCache cache = model->make_cache({static_cast<int>(B), P + N, 4, 0});
  StepBatch prefill;
  std::vector<int> slots;
  const test::GoldenPrompts prompts = test::golden_prompts(ids, mask);
  const std::vector<int64_t>& first = prompts.first;
  for (int64_t b = 0; b < B; ++b) {
    slots.push_back(cache.acquire());
    prefill.add(slots.back(), prompts.rows[b], true);
  }

  std::vector<float> host;
  auto run = [&](const StepBatch& batch) {
    OwnedTensor t = model->forward(batch, cache);
    host.resize(t->numel());
    ops.to_host(*t, host.data());
  };

  double worst_prefill = 0, worst_steps = 0;
  run(prefill);
  for (int64_t b = 0, r = 0; b < B; ++b)
    for (int64_t p = first[b]; p < P; ++p, ++r)
      for (int64_t v = 0; v < V; ++v)
        worst_prefill = std::max<double>(worst_prefill, std::abs(host[r * V + v] - ref_prefill.f[(b * P + p) * V + v]));

  // Step 0 is the last prompt position of the prefill.
  for (int64_t b = 0; b < B; ++b) {
    const int64_t r = [&] {
      int64_t rows = 0;
      for (int64_t k = 0; k <= b; ++k) rows += P - first[k];
      return rows - 1;
    }();
    for (int64_t v = 0; v < V; ++v)
      worst_steps = std::max<double>(worst_steps, std::abs(host[r * V + v] - ref_steps.f[(b * N) * V + v]));
  }
  for (int64_t t = 1; t < N; ++t) {
    StepBatch step;
    std::vector<int32_t> next(B);
    for (int64_t b = 0; b < B; ++b) {
      next[b] = static_cast<int32_t>(tokens.i[b * N + t - 1]);
      step.add(slots[b], std::span<const int32_t>(&next[b], 1), false);
    }
    run(step);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t v = 0; v < V; ++v)
        worst_steps = std::max<double>(worst_steps, std::abs(host[b * V + v] - ref_steps.f[(b * N + t) * V + v]));
  }
  RecordProperty("prefill_max_abs", std::to_string(worst_prefill));
  RecordProperty("steps_max_abs", std::to_string(worst_steps));
  EXPECT_LE(worst_prefill, kMaxAbs) << "prefill";
  EXPECT_LE(worst_steps, kMaxAbs) << "decode steps";
  for (int b = 0; b < B; ++b) cache.release(slots[b]);
  EXPECT_EQ(cache.free_slots(), B);
  EXPECT_EQ(cache.free_pages(), cache.options().num_pages);
}

INSTANTIATE_TEST_SUITE_P(AllCases, GoldenParity, ::testing::ValuesIn(test::golden_cases()),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

}  // namespace
}  // namespace sambay
