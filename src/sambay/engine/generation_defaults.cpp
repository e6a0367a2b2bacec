#include "sambay/engine/generation_defaults.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"

namespace sambay {
namespace {

nlohmann::json read_optional(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return nlohmann::json::object();
  std::ifstream in(path, std::ios::binary);
  try {
    auto j = nlohmann::json::parse(in);
    if (!j.is_object()) fail("{}: not a JSON object", path.string());
    return j;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path.string(), e.what());
  }
}

template <class T>
void take(const nlohmann::json& j, const char* field, T& value, const std::filesystem::path& source) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_number()) fail("{}: field '{}' must be a number", source.string(), field);
  value = it->get<T>();
}

}  // namespace

GenerationDefaults load_generation_defaults(const std::filesystem::path& dir, const ModelInfo& model) {
  GenerationDefaults d;
  const auto gen_path = dir / "generation_config.json";
  const auto gen = read_optional(gen_path);
  if (auto it = gen.find("eos_token_id"); it != gen.end() && !it->is_null()) {
    auto add = [&](const nlohmann::json& v) {
      if (!v.is_number_integer()) fail("{}: field 'eos_token_id' must be a token id or a list of them", gen_path.string());
      d.eos_ids.push_back(v.get<int32_t>());
    };
    if (it->is_array())
      for (const auto& v : *it) add(v);
    else
      add(*it);
  } else {
    for (int64_t id : model.eos_token_ids) d.eos_ids.push_back(static_cast<int32_t>(id));
  }
  take(gen, "temperature", d.sampling.temperature, gen_path);
  take(gen, "top_p", d.sampling.top_p, gen_path);
  take(gen, "top_k", d.sampling.top_k, gen_path);
  take(gen, "min_p", d.sampling.min_p, gen_path);
  take(gen, "repetition_penalty", d.sampling.repetition_penalty, gen_path);
  if (auto it = gen.find("do_sample"); it != gen.end() && it->is_boolean() && !it->get<bool>()) d.sampling.greedy = true;
  d.sampling.validate();

  d.context_length = model.max_position_embeddings;
  const auto tok_path = dir / "tokenizer_config.json";
  const auto tok = read_optional(tok_path);
  if (auto it = tok.find("model_max_length"); it != tok.end() && it->is_number_integer() && it->get<int64_t>() > 0)
    d.context_length = std::min<int64_t>(it->get<int64_t>(), int64_t{1} << 24);
  return d;
}

}  // namespace sambay
