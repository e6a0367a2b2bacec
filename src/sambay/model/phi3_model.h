#pragma once
// A Phi-3-family transformer (Phi3ForCausalLM: Phi-4-mini) on one backend: pre-norm layers of
// grouped-query attention with partial LongRoPE rotary embedding and a SwiGLU MLP, RMSNorm, tied
// LM head. Every layer keeps its K/V in pages of the state cache.
//
// LongRoPE: a sequence uses the short factor set while it is at most original_max_position_embeddings
// long, and the long set once it is longer — for every position, as a cache-free forward over the
// sequence would (the design document's "recompute" semantics, chosen per sequence). Keys cached
// with the short set are not valid for the long one, so a sequence that crosses the boundary after
// its prefill must be run again from position 0: forward() refuses such a step (needs_recompute()
// tells the caller beforehand).
#include <filesystem>
#include <memory>

#include "sambay/cache/state_cache.h"
#include "sambay/io/weight_source.h"
#include "sambay/model/load_options.h"
#include "sambay/model/phi3_config.h"
#include "sambay/model/phi3_weights.h"
#include "sambay/model/step_batch.h"
#include "sambay/ops/ops.h"

namespace sambay {

StateLayout phi3_state_layout(const Phi3Config& config);

class Phi3Model {
 public:
  Phi3Model(Phi3Config config, std::unique_ptr<WeightSource> source, Ops& ops);

  // Reads config.json and the weights (or makes dummy ones) of a Hugging Face model folder.
  static std::unique_ptr<Phi3Model> load(const std::filesystem::path& dir, Ops& ops, const LoadOptions& options);

  const Phi3Config& config() const { return config_; }
  Ops& ops() const { return ops_; }
  uint64_t weight_bytes() const { return source_->bytes(); }

  StateCache make_cache(const StateCacheOptions& options) const {
    return StateCache(phi3_state_layout(config_), ops_, options);
  }

  // Whether a sequence with `cached` positions must be run again from position 0 before it takes
  // `new_tokens` more: its cached keys use the short factor set and it is about to pass the length
  // where the long set takes over.
  bool needs_recompute(int64_t cached, int64_t new_tokens) const;

  // Runs the new tokens of every sequence in `batch`, continuing from and advancing each sequence's
  // K/V in `cache`. Returns the logits, [batch.logit_rows(), vocab] F32 on the backend. Throws
  // (leaving the cache unchanged) on an invalid token, an unknown slot, a cache that cannot hold
  // the new positions, or a sequence that needs_recompute().
  OwnedTensor forward(const StepBatch& batch, StateCache& cache);

 private:
  Phi3Config config_;
  std::unique_ptr<WeightSource> source_;
  Ops& ops_;
  Phi3Weights w_;
};

}  // namespace sambay
