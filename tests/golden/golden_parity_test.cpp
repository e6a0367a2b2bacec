// Parity with the reference implementations: the float32 CPU path of both families against the
// float32 golden logits of every case (`fp32_pure` for tests/data/golden, `fp32` for
// tests/data/golden-phi3), max_abs <= 1e-3 over all real prompt positions and every teacher-forced
// decode step, as the cases' READMEs specify. A Phi-3 row that crosses original_max_position_embeddings
// during the decode is run again from position 0 on the long factors (the "recompute" logits).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "golden_run.h"
#include "sambay/ops/cpu/cpu_ops.h"

namespace sambay {
namespace {

constexpr double kMaxAbs = 1e-3;  // documented bound for a float32 path against the float32 references

class GoldenParity : public ::testing::TestWithParam<test::GoldenCase> {};

TEST_P(GoldenParity, Float32Logits) {
  const test::GoldenCase& gc = GetParam();
  CpuOps ops(CpuOpsOptions{.poison_allocations = true});
  auto model = load_language_model(gc.dir, ops, {});
  const int64_t V = model->info().vocab_size;
  double worst_prefill = 0, worst_steps = 0;
  auto max_abs = [V](double& worst) {
    return [&worst, V](const float* got, const float* ref) {
      for (int64_t v = 0; v < V; ++v) worst = std::max<double>(worst, std::abs(got[v] - ref[v]));
    };
  };
  const int recomputes = test::run_golden(*model, gc, max_abs(worst_prefill), max_abs(worst_steps));
  std::printf("%s: prefill max_abs %.2e, steps max_abs %.2e, %d recomputed\n", gc.name().c_str(), worst_prefill,
              worst_steps, recomputes);
  RecordProperty("prefill_max_abs", std::to_string(worst_prefill));
  RecordProperty("steps_max_abs", std::to_string(worst_steps));
  EXPECT_LE(worst_prefill, kMaxAbs) << "prefill";
  EXPECT_LE(worst_steps, kMaxAbs) << "decode steps";
  EXPECT_EQ(recomputes, gc.recomputes);
}

INSTANTIATE_TEST_SUITE_P(BothFamilies, GoldenParity, ::testing::ValuesIn(test::all_golden_cases()),
                         [](const auto& info) { return info.param.name(); });

}  // namespace
}  // namespace sambay
