#include "sambay/model/layer_table.h"

#include <cmath>

namespace sambay {

std::string_view layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::Mamba: return "mamba";
    case LayerKind::SwaAttn: return "swa_diff_attn";
    case LayerKind::MambaMemory: return "mamba_memory";
    case LayerKind::FullAttnKv: return "full_diff_attn_kv";
    case LayerKind::Gmu: return "gmu";
    case LayerKind::CrossAttn: return "cross_diff_attn";
  }
  return "?";
}

LayerTable build_layer_table(const SambaConfig& c) {
  LayerTable t;
  const int n = static_cast<int>(c.num_hidden_layers);
  t.first_cross_decoder_layer = n / 2 + 2;
  for (int i = 0; i < n; ++i) {
    LayerKind kind;
    if (i < n / 2)
      kind = i % 2 == 0 ? LayerKind::Mamba : LayerKind::SwaAttn;
    else if (i == n / 2)
      kind = LayerKind::MambaMemory;
    else if (i == n / 2 + 1)
      kind = LayerKind::FullAttnKv;
    else
      kind = i % 2 == 0 ? LayerKind::Gmu : LayerKind::CrossAttn;

    int state_index = -1;
    if (kind == LayerKind::Mamba || kind == LayerKind::MambaMemory) state_index = t.num_mamba_states++;
    if (kind == LayerKind::SwaAttn) state_index = t.num_swa_rings++;
    t.layers.push_back({kind, i, state_index, 0.8 - 0.6 * std::exp(-0.3 * i)});
  }
  return t;
}

}  // namespace sambay
