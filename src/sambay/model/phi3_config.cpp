#include "sambay/model/phi3_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/model/config_fields.h"

namespace sambay {
namespace {

using json = nlohmann::json;

std::vector<float> factor_list(const ConfigFields& f, const json& rope, const char* key, int64_t pairs) {
  auto it = rope.find(key);
  if (it == rope.end() || it->is_null()) f.bad("rope_scaling", fmt::format("has no '{}' list", key));
  if (!it->is_array() || static_cast<int64_t>(it->size()) != pairs)
    f.bad("rope_scaling", fmt::format("'{}' must list {} numbers (rotary_dim / 2)", key, pairs));
  std::vector<float> v;
  for (const json& e : *it) {
    if (!e.is_number() || !(e.get<double>() > 0) || !std::isfinite(e.get<double>()))
      f.bad("rope_scaling", fmt::format("'{}' must hold positive numbers (got {})", key, e.dump()));
    v.push_back(static_cast<float>(e.get<double>()));
  }
  return v;
}

// A number that may sit at the top level or inside the rotary settings (transformers 5 nests it).
void nested_number(const ConfigFields& f, const json* rope, const char* name, double& value) {
  f.number(name, value);
  if (!rope) return;
  auto it = rope->find(name);
  if (it == rope->end() || it->is_null()) return;
  if (!it->is_number()) f.bad(name, fmt::format("inside the rotary settings must be a number (got {})", it->dump()));
  value = it->get<double>();
}

void read_rope(const ConfigFields& f, Phi3Config& c) {
  const json* rope = f.find("rope_parameters");
  const char* type_key = "rope_type";
  if (!rope) {
    rope = f.find("rope_scaling");
    type_key = "type";
  }
  if (rope && !rope->is_object()) f.bad("rope_scaling", "must be an object");
  std::string type = "default";
  if (rope) {
    auto it = rope->find(type_key);
    if (it == rope->end()) it = rope->find(type_key == std::string("type") ? "rope_type" : "type");
    if (it != rope->end() && !it->is_null()) {
      if (!it->is_string()) f.bad("rope_scaling", "has a non-string type");
      type = it->get<std::string>();
    }
  }
  nested_number(f, rope, "rope_theta", c.rope_theta);
  nested_number(f, rope, "partial_rotary_factor", c.partial_rotary_factor);
  double original = static_cast<double>(c.max_position_embeddings);
  nested_number(f, rope, "original_max_position_embeddings", original);
  if (!(original >= 1) || original != std::floor(original) || original > double(int64_t{1} << 40))
    f.bad("original_max_position_embeddings", "must be a positive integer");
  c.original_max_position_embeddings = static_cast<int64_t>(original);
  if (!(c.rope_theta > 0) || !std::isfinite(c.rope_theta)) f.bad("rope_theta", "must be a positive number");
  if (!(c.partial_rotary_factor > 0 && c.partial_rotary_factor <= 1))
    f.bad("partial_rotary_factor", "must be in (0, 1]");
  const int64_t rotary = c.rotary_dim();
  if (rotary < 2 || rotary % 2 != 0)
    f.bad("partial_rotary_factor", fmt::format("gives a rotary dim of {}; it must be even and at least 2", rotary));

  if (type == "default") return;
  // transformers reads the Phi-3 names "su" and "yarn" as LongRoPE.
  if (type != "longrope" && type != "su" && type != "yarn")
    f.bad("rope_scaling", fmt::format("has type \"{}\"; supported: longrope (su, yarn) and default", type));
  c.short_factor = factor_list(f, *rope, "short_factor", rotary / 2);
  c.long_factor = factor_list(f, *rope, "long_factor", rotary / 2);
  // Magnitude: an explicit attention_factor, else from the context extension s = factor or
  // max / original: sqrt(1 + ln s / ln original) when s > 1.
  double scale = static_cast<double>(c.max_position_embeddings) / static_cast<double>(c.original_max_position_embeddings);
  if (auto it = rope->find("factor"); it != rope->end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() > 0)) f.bad("rope_scaling", "'factor' must be a positive number");
    scale = it->get<double>();
  }
  c.attention_factor = scale <= 1 ? 1.0 : std::sqrt(1 + std::log(scale) / std::log(static_cast<double>(c.original_max_position_embeddings)));
  if (auto it = rope->find("attention_factor"); it != rope->end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() > 0)) f.bad("rope_scaling", "'attention_factor' must be a positive number");
    c.attention_factor = it->get<double>();
  }
}

}  // namespace

Phi3Config parse_phi3_config(const json& j, const std::string& source) {
  if (!j.is_object()) fail("{}: not a JSON object", source);
  ConfigFields f(j, source);
  f.require_architecture("Phi3ForCausalLM", {"phi3"});

  Phi3Config c;
  f.positive("vocab_size", c.vocab_size);
  f.positive("hidden_size", c.hidden_size);
  f.positive("intermediate_size", c.intermediate_size);
  f.positive("num_hidden_layers", c.num_hidden_layers, ConfigFields::kMaxLayers);
  f.positive("num_attention_heads", c.num_attention_heads);
  c.num_key_value_heads = c.num_attention_heads;
  f.positive("num_key_value_heads", c.num_key_value_heads);
  f.positive("max_position_embeddings", c.max_position_embeddings, int64_t{1} << 40);
  f.number("rms_norm_eps", c.rms_norm_eps);
  f.boolean("tie_word_embeddings", c.tie_word_embeddings);
  f.string("torch_dtype", c.torch_dtype);
  c.eos_token_ids = f.token_ids("eos_token_id");

  if (c.hidden_size % c.num_attention_heads != 0)
    f.bad("num_attention_heads", fmt::format("({}) must divide hidden_size ({})", c.num_attention_heads, c.hidden_size));
  if (const json* hd = f.find("head_dim"); hd && (!hd->is_number_integer() || hd->get<int64_t>() != c.head_dim()))
    f.bad("head_dim", fmt::format("is {}; only hidden_size / num_attention_heads ({}) is supported", hd->dump(), c.head_dim()));
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    f.bad("num_key_value_heads",
          fmt::format("({}) must divide num_attention_heads ({})", c.num_key_value_heads, c.num_attention_heads));
  if (!(c.rms_norm_eps > 0) || !std::isfinite(c.rms_norm_eps)) f.bad("rms_norm_eps", "must be a positive number");
  std::string act = "silu";
  f.string("hidden_act", act);
  if (act != "silu") f.bad("hidden_act", fmt::format("is \"{}\"; only \"silu\" (SwiGLU MLP) is supported", act));
  for (const char* bias : {"attention_bias", "mlp_bias", "lm_head_bias"}) {
    bool on = false;
    f.boolean(bias, on);
    if (on) f.bad(bias, "is true; Phi-3 models without biases only");
  }
  read_rope(f, c);
  return c;
}

Phi3Config load_phi3_config(const std::filesystem::path& model_dir) {
  std::string path;
  const json j = read_config_json(model_dir, path);
  return parse_phi3_config(j, path);
}

}  // namespace sambay
