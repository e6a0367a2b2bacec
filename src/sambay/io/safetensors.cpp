#include "sambay/io/safetensors.h"

#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "sambay/base/error.h"

namespace sambay {
namespace {

using json = nlohmann::json;

// Large enough for any real checkpoint header (the released model's is ~40 KB), small enough that a
// corrupt length cannot make us allocate gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

TensorInfo parse_entry(const std::string& source, const std::string& name, const json& e, uint64_t data_size) {
  if (!e.is_object()) fail("{}: tensor '{}': header entry is not a JSON object", source, name);
  TensorInfo t;
  t.name = name;
  for (const auto& [key, _] : e.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail("{}: tensor '{}': unknown header field '{}'", source, name, key);

  auto dt = e.find("dtype");
  if (dt == e.end() || !dt->is_string()) fail("{}: tensor '{}': missing or non-string 'dtype'", source, name);
  auto parsed = dtype_from_name(dt->get<std::string>());
  if (!parsed) fail("{}: tensor '{}': unsupported dtype '{}'", source, name, dt->get<std::string>());
  t.dtype = *parsed;

  auto shape = e.find("shape");
  if (shape == e.end() || !shape->is_array()) fail("{}: tensor '{}': missing or non-array 'shape'", source, name);
  if (shape->size() > 8) fail("{}: tensor '{}': rank {} is more than 8", source, name, shape->size());
  uint64_t numel = 1;
  for (const auto& d : *shape) {
    if (!d.is_number_unsigned()) fail("{}: tensor '{}': shape entries must be non-negative integers", source, name);
    uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("{}: tensor '{}': shape entry {} is too large", source, name, v);
    t.shape.push_back(static_cast<int64_t>(v));
    if (v != 0 && numel > std::numeric_limits<uint64_t>::max() / v)
      fail("{}: tensor '{}': shape {} overflows", source, name, shape->dump());
    numel *= v;
  }

  auto off = e.find("data_offsets");
  if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    fail("{}: tensor '{}': 'data_offsets' must be two non-negative integers", source, name);
  t.begin = (*off)[0].get<uint64_t>();
  t.end = (*off)[1].get<uint64_t>();
  if (t.begin > t.end) fail("{}: tensor '{}': data_offsets [{}, {}] are reversed", source, name, t.begin, t.end);
  if (t.end > data_size)
    fail("{}: tensor '{}': data_offsets [{}, {}] run past the end of the data ({} bytes; file truncated?)", source,
         name, t.begin, t.end, data_size);
  const uint64_t elem = dtype_size(t.dtype);
  if (numel > std::numeric_limits<uint64_t>::max() / elem)
    fail("{}: tensor '{}': byte size overflows", source, name);
  if (numel * elem != t.end - t.begin)
    fail("{}: tensor '{}': {} needs {} bytes but data_offsets [{}, {}] hold {}", source, name, t.describe(),
         numel * elem, t.begin, t.end, t.end - t.begin);
  return t;
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorInfo::describe() const { return fmt::format("{} [{}]", dtype_name(dtype), fmt::join(shape, ", ")); }

SafetensorsHeader parse_safetensors(std::span<const uint8_t> file, const std::string& source) {
  if (file.size() < 8) fail("{}: too short for a safetensors file ({} bytes)", source, file.size());
  const uint64_t n = read_le64(file.data());
  if (n > kMaxHeaderBytes) fail("{}: header length {} is larger than the {}-byte limit", source, n, kMaxHeaderBytes);
  if (n > file.size() - 8) fail("{}: header length {} runs past the end of the file ({} bytes)", source, n, file.size());

  json header;
  try {
    header = json::parse(file.begin() + 8, file.begin() + 8 + static_cast<ptrdiff_t>(n));
  } catch (const json::exception& e) {
    fail("{}: header is not valid JSON: {}", source, e.what());
  }
  if (!header.is_object()) fail("{}: header is not a JSON object", source);

  SafetensorsHeader out;
  out.data_offset = 8 + n;
  const uint64_t data_size = file.size() - out.data_offset;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("{}: '__metadata__' is not a JSON object", source);
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) fail("{}: '__metadata__' value of '{}' is not a string", source, k);
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    out.tensors.push_back(parse_entry(source, name, entry, data_size));
  }

  std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < out.tensors.size(); ++i) {
    const auto& prev = out.tensors[i - 1];
    const auto& cur = out.tensors[i];
    // Empty tensors occupy no bytes and may sit anywhere.
    if (cur.begin < prev.end && cur.begin != cur.end && prev.begin != prev.end)
      fail("{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", source, prev.name, prev.begin, prev.end, cur.name,
           cur.begin, cur.end);
  }
  return out;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path)
    : map_(path), header_(parse_safetensors(map_.bytes(), path.string())) {
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

std::span<const uint8_t> SafetensorsFile::data(const TensorInfo& t) const {
  return map_.bytes().subspan(header_.data_offset + t.begin, t.end - t.begin);
}

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                            std::span<const uint8_t> data) {
  uint64_t numel = 1;
  for (int64_t d : shape) {
    SAMBAY_CHECK(d >= 0, "safetensors writer: tensor '{}' has a negative dimension", name);
    numel *= static_cast<uint64_t>(d);
  }
  SAMBAY_CHECK(numel * dtype_size(dtype) == data.size(), "safetensors writer: tensor '{}' has {} bytes, expected {}",
               name, data.size(), numel * dtype_size(dtype));
  SAMBAY_CHECK(name != "__metadata__", "safetensors writer: '__metadata__' is not a tensor name");
  entries_[name] = Entry{dtype, std::move(shape), data};
}

void SafetensorsWriter::write(const std::filesystem::path& path) const {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, e] : entries_) {
    header[name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.data.size()}}};
    offset += e.data.size();
  }
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned

  const std::filesystem::path tmp = path.string() + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail("{}: cannot open for writing: {}", tmp.string(), std::strerror(errno));
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const auto& [name, e] : entries_)
    ok = ok && (e.data.empty() || std::fwrite(e.data.data(), 1, e.data.size(), f) == e.data.size());
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::filesystem::remove(tmp);
    fail("{}: write failed (disk full?)", path.string());
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace sambay
