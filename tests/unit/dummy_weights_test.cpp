// Dummy weights: deterministic, finite, at the checkpoint's dtypes, and usable at full size.
#include <gtest/gtest.h>

#include <cmath>

#include "sambay/io/weight_source.h"
#include "sambay/model/sambay_model.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "test_util.h"

namespace sambay {
namespace {

std::vector<float> logits_of(SambaModel& m, Ops& ops, const std::vector<int32_t>& ids) {
  StateCache cache = m.make_cache({1, 64, 16, 0});
  StepBatch b;
  b.add(cache.acquire(), ids, false);
  OwnedTensor t = m.forward(b, cache);
  std::vector<float> out(t->numel());
  ops.to_host(*t, out.data());
  return out;
}

TEST(DummyWeights, DeterministicPerSeedAndRealisticDtypes) {
  auto src = make_dummy_source(DType::BF16, 42);
  EXPECT_EQ(src->get("model.layers.0.attn.A_log", {8, 4}).dtype, DType::F32);
  EXPECT_EQ(src->get("model.layers.1.attn.inner_cross_attn.lambda_q1", {16}).dtype, DType::F32);
  const HostTensor a_log = src->get("model.layers.2.attn.A_log", {3, 4});
  EXPECT_FLOAT_EQ(static_cast<const float*>(a_log.data)[5], std::log(2.0f));  // A = -(n + 1)
  EXPECT_EQ(src->get("model.layers.0.mlp.fc1.weight", {4, 4}).dtype, DType::BF16);

  const auto dir = test::source_dir() / "models/tiny-flash";
  CpuOps ops;
  auto m1 = SambaModel::load(dir, ops, {.dummy = true, .seed = 1, .progress = {}});
  auto m2 = SambaModel::load(dir, ops, {.dummy = true, .seed = 1, .progress = {}});
  auto m3 = SambaModel::load(dir, ops, {.dummy = true, .seed = 2, .progress = {}});
  const std::vector<int32_t> ids = {200021, 12194, 0, 200020, 200019};
  const auto l1 = logits_of(*m1, ops, ids), l2 = logits_of(*m2, ops, ids), l3 = logits_of(*m3, ops, ids);
  EXPECT_EQ(l1, l2);
  EXPECT_NE(l1, l3);
  double sq = 0;
  for (float v : l1) {
    ASSERT_TRUE(std::isfinite(v));
    sq += v * v;
  }
  const double rms = std::sqrt(sq / l1.size());
  EXPECT_GT(rms, 1e-3);  // non-degenerate: random weights give varied logits
  EXPECT_LT(rms, 100);
}

// The released model's folder (no weight files) runs with --dummy: 7.7 GB of BF16 weights.
TEST(DummyWeights, FullSizeReleasedModel) {
  CpuOps ops;
  auto m = SambaModel::load(test::source_dir() / "models/phi4-mini-flash-reasoning", ops,
                            {.dummy = true, .seed = 0, .progress = {}});
  EXPECT_EQ(m->weight_bytes(), 7706608640u);  // the checkpoint's total_size: same tensors, same dtypes
  const auto logits = logits_of(*m, ops, {200021, 12194, 0});
  ASSERT_EQ(logits.size(), 200064u);
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace sambay
