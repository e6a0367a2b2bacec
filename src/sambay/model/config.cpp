#include "sambay/model/config.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"

namespace sambay {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxDimension = int64_t{1} << 24;
constexpr int64_t kMaxLayers = 4096;

class Fields {
 public:
  Fields(const json& j, const std::string& source) : j_(j), source_(source) {}

  // A positive integer field up to `max`; an absent field keeps `value`. The bound keeps every
  // derived size (products of a few dimensions) inside 64-bit arithmetic.
  void positive(const char* name, int64_t& value, int64_t max = kMaxDimension) const {
    auto it = j_.find(name);
    if (it == j_.end() || it->is_null()) return;
    if (!it->is_number_integer() || it->get<int64_t>() <= 0)
      fail("{}: field '{}' must be a positive integer (got {})", source_, name, it->dump());
    if (it->get<int64_t>() > max) fail("{}: field '{}' is {}, more than the supported {}", source_, name, it->dump(), max);
    value = it->get<int64_t>();
  }
  void number(const char* name, double& value) const {
    auto it = j_.find(name);
    if (it == j_.end() || it->is_null()) return;
    if (!it->is_number()) fail("{}: field '{}' must be a number (got {})", source_, name, it->dump());
    value = it->get<double>();
  }
  void boolean(const char* name, bool& value) const {
    auto it = j_.find(name);
    if (it == j_.end() || it->is_null()) return;
    if (!it->is_boolean()) fail("{}: field '{}' must be true or false (got {})", source_, name, it->dump());
    value = it->get<bool>();
  }
  void string(const char* name, std::string& value) const {
    auto it = j_.find(name);
    if (it == j_.end() || it->is_null()) return;
    if (!it->is_string()) fail("{}: field '{}' must be a string (got {})", source_, name, it->dump());
    value = it->get<std::string>();
  }
  const json* find(const char* name) const {
    auto it = j_.find(name);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  [[noreturn]] void bad(const char* name, const std::string& why) const {
    fail("{}: field '{}' {}", source_, name, why);
  }

 private:
  const json& j_;
  const std::string& source_;
};

void check_architecture(const Fields& f) {
  constexpr const char* kArch = "Phi4FlashForCausalLM";
  constexpr const char* kType = "phi4flash";
  const json* arch = f.find("architectures");
  const json* type = f.find("model_type");
  if (!arch && !type) f.bad("architectures", fmt::format("is missing (expected [\"{}\"])", kArch));
  if (arch) {
    if (!arch->is_array() || arch->empty() || !(*arch)[0].is_string())
      f.bad("architectures", "must be a non-empty list of strings");
    bool found = false;
    for (const auto& a : *arch) found = found || (a.is_string() && a.get<std::string>() == kArch);
    if (!found) f.bad("architectures", fmt::format("is {}; this engine runs {}", arch->dump(), kArch));
  }
  if (type && (!type->is_string() || type->get<std::string>() != kType))
    f.bad("model_type", fmt::format("is {}; expected \"{}\"", type->dump(), kType));
}

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
  check_architecture(f);

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

  if (const json* eos = f.find("eos_token_id")) {
    auto add = [&](const json& v) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) f.bad("eos_token_id", "must be a token id or a list of them");
      c.eos_token_ids.push_back(v.get<int64_t>());
    };
    if (eos->is_array())
      for (const auto& v : *eos) add(v);
    else
      add(*eos);
  }
  validate(f, c);
  return c;
}

SambaConfig load_samba_config(const std::filesystem::path& model_dir) {
  const auto path = model_dir / "config.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open (is {} a model folder?)", path.string(), model_dir.string());
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", path.string(), e.what());
  }
  return parse_samba_config(j, path.string());
}

}  // namespace sambay
