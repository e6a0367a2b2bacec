#pragma once
// Helpers shared by the tests: fixture paths, reading reference tensors, scratch folders.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "sambay/base/half.h"
#include "sambay/io/safetensors.h"

namespace sambay::test {

inline std::filesystem::path source_dir() { return SAMBAY_SOURCE_DIR; }
inline std::filesystem::path golden_dir() { return source_dir() / "tests/data/golden"; }
inline std::filesystem::path phi3_golden_dir() { return source_dir() / "tests/data/golden-phi3"; }
inline std::vector<std::string> phi3_golden_cases() {
  return {"switch-l4-h192-o48", "batch2-l3-h144-o64", "long-l2-h96-o32"};
}
inline std::vector<std::string> golden_cases() {
  return {"tiny-l8-h64-w8", "small-l12-h128-w16", "batch2-l8-h96-w12", "short-l8-h64-w16"};
}

// A tensor of a safetensors file as float32 / int64 values (row-major), with its shape.
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int64_t> i;
  int64_t dim(size_t k) const { return shape.at(k); }
};

inline Array read_array(const SafetensorsFile& file, const std::string& name) {
  const TensorInfo* t = file.find(name);
  if (!t) throw std::runtime_error(file.path().string() + ": no tensor " + name);
  Array a;
  a.shape = t->shape;
  const auto bytes = file.data(*t);
  const int64_t n = t->numel();
  if (t->dtype == DType::I64) {
    a.i.resize(n);
    std::memcpy(a.i.data(), bytes.data(), n * 8);
  } else if (t->dtype == DType::F32) {
    a.f.resize(n);
    std::memcpy(a.f.data(), bytes.data(), n * 4);
  } else if (t->dtype == DType::BF16) {
    a.f.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * k, 2);
      a.f[k] = bf16_to_f32(h);
    }
  } else {
    throw std::runtime_error("read_array: unsupported dtype");
  }
  return a;
}

// The prompts of a golden case: each row's real tokens (where attention_mask is 1) and the column
// of the left-padded layout where they start.
struct GoldenPrompts {
  std::vector<std::vector<int32_t>> rows;
  std::vector<int64_t> first;
};

inline GoldenPrompts golden_prompts(const Array& ids, const Array& mask) {
  const int64_t B = ids.dim(0), P = ids.dim(1);
  GoldenPrompts g{std::vector<std::vector<int32_t>>(B), std::vector<int64_t>(B, P)};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < P; ++p)
      if (mask.i[b * P + p]) {
        g.first[b] = std::min(g.first[b], p);
        g.rows[b].push_back(static_cast<int32_t>(ids.i[b * P + p]));
      }
  return g;
}

// A fresh empty folder under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sambay-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace sambay::test
