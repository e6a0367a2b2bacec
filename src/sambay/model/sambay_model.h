#pragma once
// A SambaY language model (Phi4FlashForCausalLM) on one backend.
#include <filesystem>
#include <memory>

#include "sambay/cache/state_cache.h"
#include "sambay/io/progress_source.h"
#include "sambay/io/weight_source.h"
#include "sambay/model/config.h"
#include "sambay/model/decode_graphs.h"
#include "sambay/model/language_model.h"
#include "sambay/model/layer_table.h"
#include "sambay/model/load_options.h"
#include "sambay/model/sambay_weights.h"
#include "sambay/model/step_batch.h"
#include "sambay/ops/ops.h"

namespace sambay {

class SambaModel : public LanguageModel {
 public:
  SambaModel(SambaConfig config, std::unique_ptr<WeightSource> source, Ops& ops);

  // Reads config.json and the weights (or makes dummy ones) of a Hugging Face model folder.
  static std::unique_ptr<SambaModel> load(const std::filesystem::path& dir, Ops& ops, const LoadOptions& options);

  const SambaConfig& config() const { return config_; }
  const LayerTable& layer_table() const { return table_; }

  const ModelInfo& info() const override { return info_; }
  Ops& ops() const override { return ops_; }
  uint64_t weight_bytes() const override { return source_->bytes(); }
  StateLayout state_layout() const override { return samba_state_layout(config_, table_); }

  // See LanguageModel::forward. The self-decoder runs every new token; the cross-decoder and the
  // LM head only the rows whose logits were asked for.
  OwnedTensor forward(const StepBatch& batch, StateCache& cache) override;
  void set_use_graphs(bool on) override { graphs_.set_enabled(on); }

  double decode_bytes_per_step(int batch, double context, int kv_bytes_per_value) const override;
  double prefill_flops(int64_t prompt, bool all_logits) const override;
  size_t activation_bytes_per_token() const override;

 private:
  struct Step;  // the activations and bookkeeping of one forward call
  OwnedTensor run_layers(Step& s, std::span<const int32_t> tokens);
  // Each sub-block returns its output; the caller adds it to the residual stream (fused with the
  // next norm).
  OwnedTensor mamba(const LayerInfo& L, const LayerWeights& w, Step& s);
  OwnedTensor attention(const LayerInfo& L, const LayerWeights& w, Step& s);
  OwnedTensor gmu(const LayerWeights& w, Step& s);
  OwnedTensor mlp(const LayerWeights& w, Step& s);
  void keep_logit_rows(Step& s);

  SambaConfig config_;
  ModelInfo info_;
  LayerTable table_;
  std::unique_ptr<WeightSource> source_;
  Ops& ops_;
  SambaWeights w_;
  DecodeGraphs graphs_;
};

}  // namespace sambay
