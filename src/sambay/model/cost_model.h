#pragma once
// What a forward step must at least move and compute, for roofline reports of the benchmarks:
// decode is bounded by bytes read, prefill by matrix FLOPs.
#include <cstdint>

#include "sambay/model/config.h"
#include "sambay/model/layer_table.h"
#include "sambay/model/phi3_config.h"

namespace sambay {

// Bytes one decode step reads (and, for state, writes) at a given context for `batch` sequences:
// every weight once, the shared K/V once per reader layer, the rings, the Mamba states.
double decode_bytes_per_step(const SambaConfig& c, const LayerTable& t, double weight_bytes, int batch,
                             double context, int kv_bytes_per_value);

// Matrix FLOPs of a prefill of `prompt` tokens from an empty state, with the cross-decoder and LM
// head run for the last token only (`all_logits` = false) or for every token, attention included.
double prefill_flops(const SambaConfig& c, const LayerTable& t, int64_t prompt, bool all_logits);

// Phi-3: every weight once (the tied embedding counted once: the LM head reads all of it, the lookup
// one row per token) and every layer's K/V over the whole context.
double decode_bytes_per_step(const Phi3Config& c, double weight_bytes, int batch, double context,
                             int kv_bytes_per_value);

// Phi-3: every layer runs every token (grouped-query attention, SwiGLU MLP); causal attention over
// the prompt; the LM head for the last token or for all.
double prefill_flops(const Phi3Config& c, int64_t prompt, bool all_logits);

}  // namespace sambay
