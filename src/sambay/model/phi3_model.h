#pragma once
// A Phi-3-family transformer (Phi3ForCausalLM: Phi-4-mini) on one backend: pre-norm layers of
// grouped-query attention with partial LongRoPE rotary embedding and a SwiGLU MLP, RMSNorm, tied
// LM head. Every layer keeps its K/V in pages of the state cache.
//
// LongRoPE: a sequence uses the short factor set while it is at most original_max_position_embeddings
// long, and the long set once it is longer — for every position, as a cache-free forward over the
// sequence would (the design document's "recompute" semantics, chosen per sequence). The set is
// chosen at a sequence's first chunk from the length at which its logits will be read (the
// StepBatch's read length: a prompt known to be long starts on the long set, also when it is
// prefilled in chunks) and recorded with the slot. Keys cached with the short set are not valid for
// the long one, so a sequence that grows past the boundary later must be run again from position 0:
// forward() refuses such a step, and needs_recompute() tells the caller beforehand.
#include <filesystem>
#include <memory>

#include "sambay/cache/state_cache.h"
#include "sambay/io/weight_source.h"
#include "sambay/model/decode_graphs.h"
#include "sambay/model/language_model.h"
#include "sambay/model/load_options.h"
#include "sambay/model/phi3_config.h"
#include "sambay/model/phi3_weights.h"
#include "sambay/model/step_batch.h"
#include "sambay/ops/ops.h"

namespace sambay {

StateLayout phi3_state_layout(const Phi3Config& config);

class Phi3Model : public LanguageModel {
 public:
  Phi3Model(Phi3Config config, std::unique_ptr<WeightSource> source, Ops& ops);

  // Reads config.json and the weights (or makes dummy ones) of a Hugging Face model folder.
  static std::unique_ptr<Phi3Model> load(const std::filesystem::path& dir, Ops& ops, const LoadOptions& options);

  const Phi3Config& config() const { return config_; }

  const ModelInfo& info() const override { return info_; }
  Ops& ops() const override { return ops_; }
  uint64_t weight_bytes() const override { return source_->bytes(); }
  StateLayout state_layout() const override { return phi3_state_layout(config_); }

  // A sequence whose cached keys use the short factor set, read at more than
  // original_max_position_embeddings positions.
  bool needs_recompute(const StateCache& cache, int slot, int64_t length) const override;

  // See LanguageModel::forward.
  OwnedTensor forward(const StepBatch& batch, StateCache& cache) override;
  void set_use_graphs(bool on) override { graphs_.set_enabled(on); }

  double decode_bytes_per_step(int batch, double context, int kv_bytes_per_value) const override;
  double prefill_flops(int64_t prompt, bool all_logits) const override;
  size_t activation_bytes_per_token() const override;

 private:
  // The factor set of a chunk of the sequence in `slot` whose logits are read at `length`.
  int32_t rope_set(const StateCache& cache, int slot, int64_t length) const;
  // Embedding, layers, final norm and LM head over a step's chunks (pos0 and rope_set filled in).
  OwnedTensor run_layers(std::span<const int32_t> tokens, std::span<const SeqChunk> chunks,
                         std::span<const uint8_t> all_logits, const StateCache& cache);

  Phi3Config config_;
  ModelInfo info_;
  std::unique_ptr<WeightSource> source_;
  Ops& ops_;
  Phi3Weights w_;
  DecodeGraphs graphs_;
};

}  // namespace sambay
