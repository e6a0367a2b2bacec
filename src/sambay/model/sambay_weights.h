#pragma once
// The parameters of a SambaY model as typed views on the backend, one struct per layer kind.
// Shapes use the symbols of the design document: h hidden, I MLP width, E Mamba inner width,
// N state size, Kc conv width, R dt rank, H / Hkv query / key-value heads, dh head dim.
// Large matrices keep their stored dtype; small vectors are float32. Everything that can be
// computed once is computed at load: A = -exp(A_log), the differential-attention lambda.
#include <memory>
#include <vector>

#include "sambay/io/weight_source.h"
#include "sambay/model/config.h"
#include "sambay/model/layer_table.h"
#include "sambay/ops/ops.h"

namespace sambay {

struct MambaWeights {
  Tensor in_proj;   // [2E, h]   rows 0..E-1 -> x, E..2E-1 -> z
  Tensor conv_w;    // [E, Kc]   f32; tap k multiplies the input at t - Kc + 1 + k
  Tensor conv_b;    // [1, E]    f32
  Tensor x_proj;    // [R + 2N, E]   rows -> [dt_low | B | C]
  Tensor dt_proj;   // [E, R]
  Tensor dt_bias;   // [1, E]    f32, added inside the scan before softplus
  Tensor A;         // [E, N]    f32, -exp(A_log)
  Tensor D;         // [1, E]    f32
  Tensor out_proj;  // [h, E]
};

struct AttentionWeights {
  Tensor wqkv;      // [(H + 2 Hkv) dh, h]; cross-attention layers: [H dh, h] (Q only)
  Tensor bqkv;      // [1, rows of wqkv] f32
  Tensor out_proj;  // [h, H dh]
  Tensor out_bias;  // [1, h] f32
  Tensor subln;     // [1, 2 dh] f32
  float lambda = 0;       // exp(lq1 · lk1) - exp(lq2 · lk2) + lambda_init
  float lambda_init = 0;  // 0.8 - 0.6 exp(-0.3 i)
};

struct GmuWeights {
  Tensor in_proj;   // [E, h]
  Tensor out_proj;  // [h, E]
};

struct LayerWeights {
  Tensor ln_in_w, ln_in_b;      // [1, h] f32
  Tensor ln_post_w, ln_post_b;  // [1, h] f32
  Tensor fc1;                   // [2I, h]  rows 0..I-1 gate, I..2I-1 up
  Tensor fc2;                   // [h, I]
  MambaWeights mamba;           // Mamba and Mamba-memory layers
  AttentionWeights attn;        // SWA, full and cross attention layers
  GmuWeights gmu;               // GMU layers
};

struct SambaWeights {
  Tensor embed;                 // [V, h]
  Tensor final_ln_w, final_ln_b;
  Tensor lm_head;               // [V, h], the embedding when tied
  std::vector<LayerWeights> layers;
  std::vector<OwnedTensor> storage;  // keeps every placed tensor alive
};

// Tensors a checkpoint of this config holds (434 for the released model).
int count_samba_tensors(const SambaConfig& c, const LayerTable& table);

// Reads every parameter from `source` (validating names and shapes) and places it on the backend.
SambaWeights load_samba_weights(const SambaConfig& c, const LayerTable& table, WeightSource& source, Ops& ops);

}  // namespace sambay
