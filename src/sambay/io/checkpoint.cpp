#include "sambay/io/checkpoint.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"

namespace sambay {
namespace {

constexpr const char* kSingle = "model.safetensors";
constexpr const char* kIndex = "model.safetensors.index.json";

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path.string(), e.what());
  }
}

// A shard name from the index must stay inside the model folder.
void check_shard_name(const std::filesystem::path& index, const std::string& tensor, const std::string& file) {
  std::filesystem::path p(file);
  bool bad = file.empty() || p.is_absolute();
  for (const auto& part : p)
    if (part == "..") bad = true;
  if (bad) fail("{}: tensor '{}' maps to '{}', which is not a file inside the model folder", index.string(), tensor, file);
}

}  // namespace

bool has_checkpoint(const std::filesystem::path& dir) {
  return std::filesystem::exists(dir / kSingle) || std::filesystem::exists(dir / kIndex);
}

Checkpoint::Checkpoint(const std::filesystem::path& dir) {
  if (std::filesystem::exists(dir / kSingle)) {
    files_.push_back(std::make_unique<SafetensorsFile>(dir / kSingle));
    for (const auto& t : files_.back()->tensors()) entries_[t.name] = Entry{&t, files_.back().get()};
    return;
  }
  const auto index_path = dir / kIndex;
  if (!std::filesystem::exists(index_path))
    fail("{}: no weights: neither {} nor {} exists (use --dummy for random weights)", dir.string(), kSingle, kIndex);

  const auto index = read_json_file(index_path);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail("{}: field 'weight_map' is missing or not an object", index_path.string());

  std::map<std::string, SafetensorsFile*> opened;
  for (const auto& [tensor, file_json] : index["weight_map"].items()) {
    if (!file_json.is_string()) fail("{}: weight_map entry '{}' is not a string", index_path.string(), tensor);
    const auto file = file_json.get<std::string>();
    check_shard_name(index_path, tensor, file);
    auto it = opened.find(file);
    if (it == opened.end()) {
      if (!std::filesystem::exists(dir / file))
        fail("{}: tensor '{}' is in shard '{}', which is missing from {}", index_path.string(), tensor, file,
             dir.string());
      files_.push_back(std::make_unique<SafetensorsFile>(dir / file));
      it = opened.emplace(file, files_.back().get()).first;
    }
    const TensorInfo* info = it->second->find(tensor);
    if (!info) fail("{}: tensor '{}' is mapped to '{}', but that file does not contain it", index_path.string(), tensor, file);
    entries_[tensor] = Entry{info, it->second};
  }
}

std::optional<Checkpoint::Entry> Checkpoint::find(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : entries_) out.push_back(name);
  return out;
}

uint64_t Checkpoint::total_bytes() const {
  uint64_t n = 0;
  for (const auto& [_, e] : entries_) n += e.info->end - e.info->begin;
  return n;
}

}  // namespace sambay
