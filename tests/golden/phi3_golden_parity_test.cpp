// Parity of the Phi-3 (Phi-4-mini) float32 CPU path with the reference implementation: the `fp32.*`
// logits of every case in tests/data/golden-phi3, max_abs <= 1e-3 over all real prompt positions and
// every teacher-forced decode step (tests/data/golden-phi3/README.md). The switch case crosses
// original_max_position_embeddings during decode: the crossing sequence is run again from position
// 0 with the long factors (the "recompute" behaviour, `fp32.step_logits`).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sambay/base/error.h"
#include "sambay/io/safetensors.h"
#include "sambay/model/phi3_model.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "test_util.h"

namespace sambay {
namespace {

constexpr double kMaxAbs = 1e-3;  // documented bound for a float32 path against fp32.*

class Phi3GoldenParity : public ::testing::TestWithParam<std::string> {};

TEST_P(Phi3GoldenParity, Fp32Logits) {
  const auto dir = test::phi3_golden_dir() / GetParam();
  CpuOps ops(CpuOpsOptions{.poison_allocations = true});
  auto model = Phi3Model::load(dir, ops, {});
  SafetensorsFile golden(dir / "golden.safetensors");
  const auto ids = test::read_array(golden, "input_ids");
  const auto mask = test::read_array(golden, "attention_mask");
  const auto tokens = test::read_array(golden, "tokens");
  const auto ref_prefill = test::read_array(golden, "fp32.prefill_logits");
  const auto ref_steps = test::read_array(golden, "fp32.step_logits");
  const int64_t B = ids.dim(0), P = ids.dim(1), N = tokens.dim(1), V = model->config().vocab_size;
  ASSERT_EQ(ref_prefill.dim(2), V);

  StateCache cache = model->make_cache({static_cast<int>(B), P + N, 4, 0});
  test::GoldenPrompts prompts = test::golden_prompts(ids, mask);
  std::vector<std::vector<int32_t>>& seq = prompts.rows;  // each row's real tokens so far
  const std::vector<int64_t>& first = prompts.first;
  std::vector<int> slots;
  StepBatch prefill;
  for (int64_t b = 0; b < B; ++b) {
    slots.push_back(cache.acquire());
    prefill.add(slots.back(), seq[b], true);
  }

  std::vector<float> host;
  auto run = [&](const StepBatch& batch) {
    OwnedTensor t = model->forward(batch, cache);
    host.resize(t->numel());
    ops.to_host(*t, host.data());
  };
  auto diff = [&](int64_t row, const std::vector<float>& ref, int64_t ref_row) {
    double worst = 0;
    for (int64_t v = 0; v < V; ++v) worst = std::max<double>(worst, std::abs(host[row * V + v] - ref[ref_row * V + v]));
    return worst;
  };

  double worst_prefill = 0, worst_steps = 0;
  run(prefill);
  int64_t r = 0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t p = first[b]; p < P; ++p, ++r) worst_prefill = std::max(worst_prefill, diff(r, ref_prefill.f, b * P + p));
    worst_steps = std::max(worst_steps, diff(r - 1, ref_steps.f, b * N));  // step 0: the last prompt row
  }

  int recomputed = 0;
  for (int64_t t = 1; t < N; ++t) {
    StepBatch step;
    std::vector<int64_t> stepping;
    for (int64_t b = 0; b < B; ++b) {
      seq[b].push_back(static_cast<int32_t>(tokens.i[b * N + t - 1]));
      if (model->needs_recompute(cache, slots[b], static_cast<int64_t>(seq[b].size()))) {
        // The sequence crosses into the long factor set: run it again from position 0.
        cache.clear(slots[b]);
        StepBatch again;
        again.add(slots[b], seq[b], false);
        run(again);
        worst_steps = std::max(worst_steps, diff(0, ref_steps.f, b * N + t));
        ++recomputed;
        continue;
      }
      step.add(slots[b], std::span<const int32_t>(&seq[b].back(), 1), false);
      stepping.push_back(b);
    }
    if (stepping.empty()) continue;
    run(step);
    for (size_t i = 0; i < stepping.size(); ++i)
      worst_steps = std::max(worst_steps, diff(static_cast<int64_t>(i), ref_steps.f, stepping[i] * N + t));
  }
  std::printf("%s: prefill max_abs %.2e, steps max_abs %.2e, %d recomputed\n", GetParam().c_str(), worst_prefill,
              worst_steps, recomputed);
  EXPECT_LE(worst_prefill, kMaxAbs) << "prefill";
  EXPECT_LE(worst_steps, kMaxAbs) << "decode steps";
  EXPECT_EQ(recomputed, GetParam() == "switch-l4-h192-o48" ? 1 : 0);  // the README's schedule
  for (int b = 0; b < B; ++b) cache.release(slots[b]);
  EXPECT_EQ(cache.free_pages(), cache.options().num_pages);
}

// Dummy weights at a case's shapes: the same tensors as the checkpoint, finite logits, and a
// sequence refused when it would cross into the long factor set with short-rotated keys cached.
TEST(Phi3Model, DummyWeightsAndTheRecomputeRule) {
  const auto dir = test::phi3_golden_dir() / "switch-l4-h192-o48";
  CpuOps ops;
  auto model = Phi3Model::load(dir, ops, {.dummy = true, .seed = 3, .progress = {}});
  SafetensorsFile checkpoint(dir / "model.safetensors");
  EXPECT_EQ(count_phi3_tensors(model->config()), static_cast<int>(checkpoint.tensors().size()));
  const int64_t limit = model->config().original_max_position_embeddings;  // 48
  StateCache cache = model->make_cache({1, 2 * limit, 4, 0});
  const int slot = cache.acquire();
  std::vector<int32_t> prompt(limit);
  for (int64_t i = 0; i < limit; ++i) prompt[i] = static_cast<int32_t>((i * 37) % model->config().vocab_size);
  StepBatch pre;
  pre.add(slot, prompt, false);
  OwnedTensor logits = model->forward(pre, cache);
  for (int64_t v = 0; v < logits->cols; ++v) ASSERT_TRUE(std::isfinite(logits->row<float>(0)[v]));
  EXPECT_EQ(cache.rope_set(slot), 0);
  EXPECT_FALSE(model->needs_recompute(cache, slot, limit));
  EXPECT_TRUE(model->needs_recompute(cache, slot, limit + 1));
  StepBatch step;
  step.add(slot, std::span<const int32_t>(prompt.data(), 1), false);
  EXPECT_THROW(model->forward(step, cache), Error);
  EXPECT_EQ(cache.length(slot), limit);
  cache.clear(slot);
  EXPECT_FALSE(model->needs_recompute(cache, slot, limit + 1));  // a fresh sequence starts with the long set
}

INSTANTIATE_TEST_SUITE_P(AllCases, Phi3GoldenParity, ::testing::ValuesIn(test::phi3_golden_cases()),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

}  // namespace
}  // namespace sambay
