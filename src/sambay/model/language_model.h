#pragma once
// A language model of any supported family, as the engine, the CLI and the server use it: its
// shape, its per-sequence state, one forward step over a batch of sequences, and the cost figures
// of the benchmarks. SambaModel (Phi4FlashForCausalLM) and Phi3Model (Phi3ForCausalLM) implement
// it; load_language_model() picks the family from config.json.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "sambay/cache/state_cache.h"
#include "sambay/model/load_options.h"
#include "sambay/model/model_info.h"
#include "sambay/model/step_batch.h"
#include "sambay/ops/ops.h"

namespace sambay {

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  virtual const ModelInfo& info() const = 0;
  virtual Ops& ops() const = 0;
  virtual uint64_t weight_bytes() const = 0;

  // What the model keeps per sequence, and a state cache of that shape.
  virtual StateLayout state_layout() const = 0;
  StateCache make_cache(const StateCacheOptions& options) const { return StateCache(state_layout(), ops(), options); }

  // Runs the new tokens of every sequence in `batch` through the model, continuing from and
  // advancing each sequence's state in `cache`. Returns the logits, [batch.logit_rows(), vocab] F32
  // on the backend, valid until the next forward call. Throws (leaving every sequence's length
  // unchanged) on an invalid token, an unknown slot, a cache that cannot hold the new positions, or
  // a sequence that needs_recompute().
  virtual OwnedTensor forward(const StepBatch& batch, StateCache& cache) = 0;

  // Decode steps replayed from captured graphs where the backend has them (on by default).
  virtual void set_use_graphs(bool on) = 0;

  // Whether the state of the sequence in `slot` is unfit for reading its logits at `length`
  // positions, so that the sequence must be run again from position 0 (StateCache::clear, then all
  // its tokens in one or more chunks whose StepBatch length is `length`). Only a model whose
  // position encoding depends on the sequence's length says yes: LongRoPE's short-to-long switch.
  virtual bool needs_recompute(const StateCache& cache, int slot, int64_t length) const { return false; }

  // The least a decode step moves: bytes read (and, for state, written) per step for `batch`
  // sequences at a given context, with K/V of `kv_bytes_per_value` bytes.
  virtual double decode_bytes_per_step(int batch, double context, int kv_bytes_per_value) const = 0;
  // Matrix FLOPs of a prefill of `prompt` tokens from an empty state, with logits for the last token
  // only or for every one.
  virtual double prefill_flops(int64_t prompt, bool all_logits) const = 0;
  // Working memory of a forward step per token fed (activations), in bytes, for budgeting.
  virtual size_t activation_bytes_per_token() const = 0;
};

// The family and the info of a model folder, from its config.json alone (no weights read). An
// `architectures` entry that names no supported family is an error naming the file and the value.
ModelInfo read_model_info(const std::filesystem::path& dir);

// Reads config.json and the weights (or makes dummy ones) of a Hugging Face model folder, as the
// family that config.json's `architectures` names.
std::unique_ptr<LanguageModel> load_language_model(const std::filesystem::path& dir, Ops& ops,
                                                   const LoadOptions& options);

}  // namespace sambay
