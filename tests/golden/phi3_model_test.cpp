// The Phi-3 (Phi-4-mini) model beyond golden parity (golden_parity_test.cpp): dummy weights at a
// case's shapes, and the refusal of a step that would mix short- and long-rotated keys.
#include <gtest/gtest.h>

#include <cmath>

#include "sambay/base/error.h"
#include "sambay/io/safetensors.h"
#include "sambay/model/phi3_model.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "test_util.h"

namespace sambay {
namespace {

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

}  // namespace
}  // namespace sambay
