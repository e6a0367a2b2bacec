#pragma once
// A SambaY language model (Phi4FlashForCausalLM) on one backend.
#include <filesystem>
#include <map>
#include <memory>

#include "sambay/cache/state_cache.h"
#include "sambay/io/progress_source.h"
#include "sambay/io/weight_source.h"
#include "sambay/model/config.h"
#include "sambay/model/layer_table.h"
#include "sambay/model/load_options.h"
#include "sambay/model/sambay_weights.h"
#include "sambay/model/step_batch.h"
#include "sambay/ops/ops.h"

namespace sambay {

class SambaModel {
 public:
  SambaModel(SambaConfig config, std::unique_ptr<WeightSource> source, Ops& ops);

  // Reads config.json and the weights (or makes dummy ones) of a Hugging Face model folder.
  static std::unique_ptr<SambaModel> load(const std::filesystem::path& dir, Ops& ops, const LoadOptions& options);

  const SambaConfig& config() const { return config_; }
  const LayerTable& layer_table() const { return table_; }
  Ops& ops() const { return ops_; }
  uint64_t weight_bytes() const { return source_->bytes(); }

  // A state cache shaped for this model.
  StateCache make_cache(const StateCacheOptions& options) const { return StateCache(config_, table_, ops_, options); }

  // Runs the new tokens of every sequence in `batch` through the model, continuing from and
  // advancing each sequence's state in `cache`. Returns the logits, [batch.logit_rows(), vocab] F32
  // on the backend, valid until the next forward call. Throws (leaving the cache unchanged) on an
  // invalid token, an unknown slot, or a cache that cannot hold the new positions.
  // On a backend with graphs, a decode step (one token per sequence, last logits only) is captured
  // once per (cache, batch size) and replayed afterwards.
  OwnedTensor forward(const StepBatch& batch, StateCache& cache);

  void set_use_graphs(bool on) { use_graphs_ = on; }

 private:
  struct Step;  // the activations and bookkeeping of one forward call
  OwnedTensor run_layers(Step& s, std::span<const int32_t> tokens);
  OwnedTensor replay_decode(Step& s, std::span<const int32_t> tokens, const StateCache& cache);
  // Each sub-block returns its output; the caller adds it to the residual stream (fused with the
  // next norm).
  OwnedTensor mamba(const LayerInfo& L, const LayerWeights& w, Step& s);
  OwnedTensor attention(const LayerInfo& L, const LayerWeights& w, Step& s);
  OwnedTensor gmu(const LayerWeights& w, Step& s);
  OwnedTensor mlp(const LayerWeights& w, Step& s);
  void keep_logit_rows(Step& s);

  SambaConfig config_;
  LayerTable table_;
  std::unique_ptr<WeightSource> source_;
  Ops& ops_;
  SambaWeights w_;
  bool use_graphs_ = true;
  struct DecodeGraph {
    std::shared_ptr<void> graph;
    OwnedTensor logits;  // written by every replay
  };
  std::map<std::pair<uint64_t, int>, DecodeGraph> graphs_;  // (cache id, batch size)
};

}  // namespace sambay
