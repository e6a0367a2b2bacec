#include "sambay/model/language_model.h"

#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/model/config_fields.h"
#include "sambay/model/phi3_model.h"
#include "sambay/model/sambay_model.h"

namespace sambay {
namespace {

enum class Family { SambaY, Phi3 };

constexpr const char* kSupported = "Phi4FlashForCausalLM (SambaY) or Phi3ForCausalLM (Phi-3, Phi-4-mini)";

// The family config.json names: by `architectures`, else (as transformers' Auto classes do) by
// `model_type`.
Family family_of(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) fail("{}: not a JSON object", path);
  const ConfigFields f(j, path);
  if (const nlohmann::json* arch = f.find("architectures")) {
    if (!arch->is_array()) f.bad("architectures", fmt::format("must be a list of strings (got {})", arch->dump()));
    for (const auto& a : *arch) {
      if (a == "Phi4FlashForCausalLM") return Family::SambaY;
      if (a == "Phi3ForCausalLM") return Family::Phi3;
    }
    f.bad("architectures", fmt::format("is {}; supported: {}", arch->dump(), kSupported));
  }
  if (const nlohmann::json* type = f.find("model_type")) {
    if (*type == "phi4flash") return Family::SambaY;
    if (*type == "phi3") return Family::Phi3;
    f.bad("model_type", fmt::format("is {} and 'architectures' is missing; supported: {}", type->dump(), kSupported));
  }
  f.bad("architectures", fmt::format("is missing; supported: {}", kSupported));
}

}  // namespace

ModelInfo read_model_info(const std::filesystem::path& dir) {
  std::string path;
  const nlohmann::json j = read_config_json(dir, path);
  switch (family_of(j, path)) {
    case Family::SambaY: return model_info(parse_samba_config(j, path));
    case Family::Phi3: return model_info(parse_phi3_config(j, path));
  }
  fail("{}: unknown model family", path);
}

std::unique_ptr<LanguageModel> load_language_model(const std::filesystem::path& dir, Ops& ops,
                                                   const LoadOptions& options) {
  std::string path;
  const nlohmann::json j = read_config_json(dir, path);
  switch (family_of(j, path)) {
    case Family::SambaY: return SambaModel::load(dir, ops, options);
    case Family::Phi3: return Phi3Model::load(dir, ops, options);
  }
  fail("{}: unknown model family", path);
}

}  // namespace sambay
