#pragma once
// Reading a Hugging Face config.json: typed fields with bounds, and errors that name the file and
// the field. Shared by the model families' config parsers.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sambay {

class ConfigFields {
 public:
  using json = nlohmann::json;
  static constexpr int64_t kMaxDimension = int64_t{1} << 24;
  static constexpr int64_t kMaxLayers = 4096;

  ConfigFields(const json& j, const std::string& source) : j_(j), source_(source) {}

  // A positive integer field up to `max`; an absent field keeps `value`. The bound keeps every
  // derived size (products of a few dimensions) inside 64-bit arithmetic.
  void positive(const char* name, int64_t& value, int64_t max = kMaxDimension) const;
  void number(const char* name, double& value) const;
  void boolean(const char* name, bool& value) const;
  void string(const char* name, std::string& value) const;
  // The field, or null when it is absent or JSON null.
  const json* find(const char* name) const;
  // config.json's eos_token_id: an id or a list of ids (absent: empty).
  std::vector<int64_t> token_ids(const char* name) const;
  // Fails unless `architectures` lists `arch` and `model_type` (when present) is one of `types`.
  void require_architecture(const char* arch, std::initializer_list<const char*> types) const;
  [[noreturn]] void bad(const char* name, const std::string& why) const;
  const std::string& source() const { return source_; }

 private:
  const json& j_;
  const std::string& source_;
};

// config.json of a model folder, parsed; `path` receives the file's path for error messages.
nlohmann::json read_config_json(const std::filesystem::path& model_dir, std::string& path);

}  // namespace sambay
