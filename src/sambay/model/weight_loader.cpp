#include "sambay/model/weight_loader.h"

#include <cstring>
#include <memory>

#include "sambay/base/error.h"
#include "sambay/base/half.h"

namespace sambay {
namespace {

float to_f32(DType t, const void* p, int64_t i) {
  switch (t) {
    case DType::F32: return static_cast<const float*>(p)[i];
    case DType::F64: return static_cast<float>(static_cast<const double*>(p)[i]);
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
    default: fail("unsupported weight dtype {}", dtype_name(t));
  }
}

}  // namespace

Tensor WeightLoader::matrix(const std::string& name, int64_t rows, int64_t cols) {
  HostTensor h = src_.get(name, {rows, cols});
  if (h.dtype == DType::F64) return f32(name, {rows, cols}, rows, cols);
  Tensor view(const_cast<void*>(h.data), h.dtype, rows, cols);
  storage_.push_back(ops_.place(view, nullptr, Ops::Placement::Matrix));
  return storage_.back().view;
}

Tensor WeightLoader::f32(const std::string& name, const std::vector<int64_t>& shape, int64_t rows, int64_t cols,
                         float (*fn)(float)) {
  std::vector<float> v = values(name, shape);
  if (fn)
    for (float& x : v) x = fn(x);
  return place(v, rows, cols);
}

std::vector<float> WeightLoader::values(const std::string& name, const std::vector<int64_t>& shape) {
  HostTensor h = src_.get(name, shape);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = to_f32(h.dtype, h.data, i);
  return v;
}

Tensor WeightLoader::place(const std::vector<float>& v, int64_t rows, int64_t cols) {
  auto mem = std::shared_ptr<float[]>(new float[v.size()]);
  std::memcpy(mem.get(), v.data(), v.size() * sizeof(float));
  Tensor view(mem.get(), DType::F32, rows, cols);
  storage_.push_back(ops_.place(view, mem, Ops::Placement::Vector));
  return storage_.back().view;
}

}  // namespace sambay
