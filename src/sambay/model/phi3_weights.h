#pragma once
// The parameters of a Phi-3-family transformer as typed views on the backend. h hidden, I MLP
// width, H / Hkv query / key-value heads, dh head dim, V vocabulary.
#include <vector>

#include "sambay/io/weight_source.h"
#include "sambay/model/phi3_config.h"
#include "sambay/ops/ops.h"

namespace sambay {

struct Phi3LayerWeights {
  Tensor norm_in;    // [1, h] f32, RMSNorm gain before attention
  Tensor qkv;        // [(H + 2 Hkv) dh, h]: Q heads, then K heads, then V heads
  Tensor out;        // [h, H dh]
  Tensor norm_post;  // [1, h] f32, RMSNorm gain before the MLP
  Tensor gate_up;    // [2I, h]: rows 0..I-1 gate, I..2I-1 up
  Tensor down;       // [h, I]
};

struct Phi3Weights {
  Tensor embed;       // [V, h]
  Tensor final_norm;  // [1, h] f32
  Tensor lm_head;     // [V, h], the embedding when tied
  Tensor inv_freq;    // [2, rotary_dim / 2] f32: rotary frequencies of the short and the long factor set
  std::vector<Phi3LayerWeights> layers;
  std::vector<OwnedTensor> storage;  // keeps every placed tensor alive
};

// Tensors a checkpoint of this config holds (290 for Phi-4-mini).
int count_phi3_tensors(const Phi3Config& c);

// Rotary frequencies 1 / (factor[j] * theta^(2j / rotary_dim)) for both factor sets (all factors 1
// without LongRoPE), in float32 as the reference computes them.
std::vector<float> phi3_inv_freq(const Phi3Config& c);

// Reads every parameter from `source` (validating names and shapes) and places it on the backend.
Phi3Weights load_phi3_weights(const Phi3Config& c, WeightSource& source, Ops& ops);

}  // namespace sambay
