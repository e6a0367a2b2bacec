#include "sambay/model/config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/model/config_fields.h"

namespace sambay {
namespace {

using json = nlohmann::json;
using Fields = ConfigFields;

constexpr int64_t kMaxDimension = ConfigFields::kMaxDimension;
constexpr int64_t kMaxLayers = ConfigFields::kMaxLayers;

// config.json stores an int; a config re-saved by the reference class stores one entry per layer
// (null except on the sliding-window layers). Accept both.
int64_t read_sliding_window(const Fields& f, const SambaConfig& c, int64_t value) {
  const json* w = f.find("sliding_window");
  if (!w) return value;
  if (w->is_number_integer()) {
    if (w->get<int64_t>() <= 0 || w->get<int64_t>() > kMaxDimension)
      f.bad("sliding_window", fmt::format("must be a positive integer up to {} (got {})", kMaxDimension, w->dump()));
    return w->get<int64_t>();
  }
  if (!w->is_array()) f.bad("sliding_window", fmt::format("must be an integer (got {})", w->dump()));
  if (static_cast<int64_t>(w->size()) != c.num_hidden_layers)
    f.bad("sliding_window", fmt::format("has {} entries for {} layers", w->size(), c.num_hidden_layers));
  std::optional<int64_t> found;
  for (int64_t i = 1; i < c.num_hidden_layers / 2; i += 2) {
    const json& e = (*w)[i];
    if (!e.is_number_integer() || e.get<int64_t>() <= 0 || e.get<int64_t>() > kMaxDimension ||
        (found && *found != e.get<int64_t>()))
      f.bad("sliding_window", fmt::format("entry {} must be the same positive window as the other sliding layers", i));
    found = e.get<int64_t>();
  }
  return found.value_or(value);
}

void validate(const Fields& f, const SambaConfig& c) {
  if (c.num_hidden_layers % 4 != 0)
    f.bad("num_hidden_layers", fmt::format("is {}; SambaY needs a multiple of 4", c.num_hidden_layers));
  if (c.hidden_size % c.num_attention_heads != 0)
    f.bad("num_attention_heads",
          fmt::format("({}) must divide hidden_size ({})", c.num_attention_heads, c.hidden_size));
  if (c.num_attention_heads % 2 != 0)
    f.bad("num_attention_heads", fmt::format("is {}; differential attention pairs heads, so it must be even",
                                             c.num_attention_heads));
  if (c.num_key_value_heads % 2 != 0)
    f.bad("num_key_value_heads", fmt::format("is {}; differential attention pairs heads, so it must be even",
                                             c.num_key_value_heads));
  if (c.diff_pairs() % c.kv_pairs() != 0)
    f.bad("num_key_value_heads", fmt::format("({}) must divide num_attention_heads ({}) in pairs",
                                             c.num_key_value_heads, c.num_attention_heads));
  if (!(c.layer_norm_eps > 0) || !std::isfinite(c.layer_norm_eps))
    f.bad("layer_norm_eps", "must be a positive number");
}

}  // namespace

SambaConfig parse_samba_config(const json& j, const std::string& source) {
  if (!j.is_object()) fail("{}: not a JSON object", source);
  Fields f(j, source);
  f.require_architecture("Phi4FlashForCausalLM", {"phi4flash"});

  SambaConfig c;
  f.positive("vocab_size", c.vocab_size);
  f.positive("hidden_size", c.hidden_size);
  f.positive("intermediate_size", c.intermediate_size);
  f.positive("num_hidden_layers", c.num_hidden_layers, kMaxLayers);
  f.positive("num_attention_heads", c.num_attention_heads);
  f.positive("num_key_value_heads", c.num_key_value_heads);
  f.positive("mamba_d_state", c.mamba_d_state);
  f.positive("mamba_d_conv", c.mamba_d_conv);
  f.positive("max_position_embeddings", c.max_position_embeddings, int64_t{1} << 40);
  f.number("layer_norm_eps", c.layer_norm_eps);
  f.boolean("tie_word_embeddings", c.tie_word_embeddings);
  f.string("torch_dtype", c.torch_dtype);
  c.sliding_window = read_sliding_window(f, c, c.sliding_window);

  double expand = 2;
  f.number("mamba_expand", expand);
  const double inner = expand * static_cast<double>(c.hidden_size);
  if (!(expand > 0) || inner != std::floor(inner) || inner < 1 || inner > kMaxDimension)
    f.bad("mamba_expand", fmt::format("({}) times hidden_size must be a positive integer", expand));
  c.d_inner = static_cast<int64_t>(inner);

  int64_t mb_per_layer = 2;
  f.positive("mb_per_layer", mb_per_layer);
  if (mb_per_layer != 2)
    f.bad("mb_per_layer", fmt::format("is {}; the SambaY layer schedule (Mamba on even layers) needs 2", mb_per_layer));

  std::string act = "silu";
  f.string("hidden_act", act);
  if (act != "silu") f.bad("hidden_act", fmt::format("is \"{}\"; only \"silu\" (SwiGLU MLP) is supported", act));

  c.eos_token_ids = f.token_ids("eos_token_id");
  validate(f, c);
  return c;
}

SambaConfig load_samba_config(const std::filesystem::path& model_dir) {
  std::string path;
  const json j = read_config_json(model_dir, path);
  return parse_samba_config(j, path);
}

}  // namespace sambay
