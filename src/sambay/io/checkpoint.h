#pragma once
// The weights of a Hugging Face model folder: `model.safetensors`, or the shards that
// `model.safetensors.index.json` names. Other *.safetensors files in the folder are never read.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sambay/io/safetensors.h"

namespace sambay {

class Checkpoint {
 public:
  struct Entry {
    const TensorInfo* info = nullptr;
    const SafetensorsFile* file = nullptr;
    std::span<const uint8_t> bytes() const { return file->data(*info); }
  };

  explicit Checkpoint(const std::filesystem::path& dir);

  std::optional<Entry> find(const std::string& name) const;
  std::vector<std::string> names() const;
  // The file a tensor comes from, for error messages.
  std::string source(const Entry& e) const { return e.file->path().string(); }
  uint64_t total_bytes() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry> entries_;
};

// True if the folder holds weights in a layout Checkpoint can read.
bool has_checkpoint(const std::filesystem::path& dir);

}  // namespace sambay
