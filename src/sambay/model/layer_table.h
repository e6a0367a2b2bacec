#pragma once
// The SambaY layer schedule, built once from the config; the forward pass walks this table.
//
//   i < n/2, even      MAMBA          Mamba-1 with its own conv + SSM state
//   i < n/2, odd       SWA_ATTN       differential attention over a sliding window (own K/V ring)
//   i = n/2            MAMBA_MEMORY   Mamba-1 whose pre-gate scan output is the GMU memory
//   i = n/2 + 1        FULL_ATTN_KV   differential attention, no window; its K/V are the shared cache
//   i > n/2 + 1, even  GMU            gated memory unit over the memory
//   i > n/2 + 1, odd   CROSS_ATTN     differential attention with own Q over the shared K/V
#include <cstdint>
#include <string_view>
#include <vector>

#include "sambay/model/config.h"

namespace sambay {

enum class LayerKind { Mamba, SwaAttn, MambaMemory, FullAttnKv, Gmu, CrossAttn };

std::string_view layer_kind_name(LayerKind k);

struct LayerInfo {
  LayerKind kind;
  int index;         // global layer index
  int state_index;   // index among the layers that keep state of this kind (Mamba/memory; SWA); else -1
  double lambda_init;  // differential attention: 0.8 - 0.6 exp(-0.3 i)
};

struct LayerTable {
  std::vector<LayerInfo> layers;
  int num_mamba_states = 0;  // Mamba + Mamba-memory layers
  int num_swa_rings = 0;
  int first_cross_decoder_layer = 0;  // n/2 + 2: from here on only rows that need logits are computed
};

LayerTable build_layer_table(const SambaConfig& c);

inline bool is_attention(LayerKind k) {
  return k == LayerKind::SwaAttn || k == LayerKind::FullAttnKv || k == LayerKind::CrossAttn;
}

}  // namespace sambay
