#include "sambay/model/config_fields.h"

#include <fstream>

#include "sambay/base/error.h"

namespace sambay {

void ConfigFields::positive(const char* name, int64_t& value, int64_t max) const {
  const json* v = find(name);
  if (!v) return;
  if (!v->is_number_integer() || v->get<int64_t>() <= 0)
    fail("{}: field '{}' must be a positive integer (got {})", source_, name, v->dump());
  if (v->get<int64_t>() > max) fail("{}: field '{}' is {}, more than the supported {}", source_, name, v->dump(), max);
  value = v->get<int64_t>();
}

void ConfigFields::number(const char* name, double& value) const {
  const json* v = find(name);
  if (!v) return;
  if (!v->is_number()) fail("{}: field '{}' must be a number (got {})", source_, name, v->dump());
  value = v->get<double>();
}

void ConfigFields::boolean(const char* name, bool& value) const {
  const json* v = find(name);
  if (!v) return;
  if (!v->is_boolean()) fail("{}: field '{}' must be true or false (got {})", source_, name, v->dump());
  value = v->get<bool>();
}

void ConfigFields::string(const char* name, std::string& value) const {
  const json* v = find(name);
  if (!v) return;
  if (!v->is_string()) fail("{}: field '{}' must be a string (got {})", source_, name, v->dump());
  value = v->get<std::string>();
}

const ConfigFields::json* ConfigFields::find(const char* name) const {
  auto it = j_.find(name);
  return it == j_.end() || it->is_null() ? nullptr : &*it;
}

std::vector<int64_t> ConfigFields::token_ids(const char* name) const {
  std::vector<int64_t> ids;
  const json* v = find(name);
  if (!v) return ids;
  auto add = [&](const json& e) {
    if (!e.is_number_integer() || e.get<int64_t>() < 0) bad(name, "must be a token id or a list of them");
    ids.push_back(e.get<int64_t>());
  };
  if (v->is_array())
    for (const auto& e : *v) add(e);
  else
    add(*v);
  return ids;
}

void ConfigFields::require_architecture(const char* arch_name, std::initializer_list<const char*> types) const {
  const json* arch = find("architectures");
  const json* type = find("model_type");
  if (!arch && !type) bad("architectures", fmt::format("is missing (expected [\"{}\"])", arch_name));
  if (arch) {
    if (!arch->is_array() || arch->empty() || !(*arch)[0].is_string())
      bad("architectures", "must be a non-empty list of strings");
    bool found = false;
    for (const auto& a : *arch) found = found || (a.is_string() && a.get<std::string>() == arch_name);
    if (!found) bad("architectures", fmt::format("is {}; expected {}", arch->dump(), arch_name));
  }
  if (type) {
    bool known = false;
    for (const char* t : types) known = known || (type->is_string() && type->get<std::string>() == t);
    if (!known) bad("model_type", fmt::format("is {}; expected \"{}\"", type->dump(), *types.begin()));
  }
}

void ConfigFields::bad(const char* name, const std::string& why) const { fail("{}: field '{}' {}", source_, name, why); }

nlohmann::json read_config_json(const std::filesystem::path& model_dir, std::string& path) {
  const auto file = model_dir / "config.json";
  path = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("{}: cannot open (is {} a model folder?)", path, model_dir.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

}  // namespace sambay
