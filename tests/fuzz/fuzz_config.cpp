// libFuzzer target: any byte string given as config.json either fails with an Error (bad JSON
// included) or yields a config whose derived quantities are consistent, for each model family.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/cache/state_cache.h"
#include "sambay/model/config.h"
#include "sambay/model/layer_table.h"
#include "sambay/model/phi3_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sambay;
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    const SambaConfig c = parse_samba_config(j, "fuzz/config.json");
    if (c.hidden_size % c.num_attention_heads != 0 || c.num_hidden_layers % 4 != 0) std::abort();
    if (c.diff_pairs() % c.kv_pairs() != 0 || c.d_inner <= 0 || c.sliding_window <= 0) std::abort();
    const LayerTable t = build_layer_table(c);
    if (static_cast<int64_t>(t.layers.size()) != c.num_hidden_layers) std::abort();
    (void)StateCache::sizes(c, t, DType::BF16);
  } catch (const Error&) {
  }
  try {
    const Phi3Config c = parse_phi3_config(j, "fuzz/config.json");
    if (c.hidden_size % c.num_attention_heads != 0 || c.num_attention_heads % c.num_key_value_heads != 0) std::abort();
    if (c.rotary_dim() < 2 || c.rotary_dim() % 2 != 0 || c.rotary_dim() > c.head_dim()) std::abort();
    if (c.long_factor.size() != c.short_factor.size() || !(c.attention_factor > 0)) std::abort();
    if (c.longrope() && static_cast<int64_t>(c.long_factor.size()) * 2 != c.rotary_dim()) std::abort();
  } catch (const Error&) {
  }
  return 0;
}
