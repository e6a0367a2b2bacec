#pragma once
// A non-owning 2-D view [rows, cols] with a row stride (in elements), on the host or a device.
// Everything the forward pass touches is a matrix: activations [tokens, features], weights
// [out, in], vectors [1, n]. Column slices share memory with their parent (stride > cols).
#include <cstdint>
#include <memory>

#include "sambay/base/dtype.h"

namespace sambay {

enum class Device : uint8_t { Cpu, Cuda };

struct Tensor {
  void* data = nullptr;
  DType dtype = DType::F32;
  Device device = Device::Cpu;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t stride = 0;  // elements from one row to the next

  Tensor() = default;
  Tensor(void* d, DType t, int64_t r, int64_t c, Device dev = Device::Cpu)
      : data(d), dtype(t), device(dev), rows(r), cols(c), stride(c) {}

  int64_t numel() const { return rows * cols; }
  bool contiguous() const { return stride == cols || rows <= 1; }
  explicit operator bool() const { return data != nullptr; }

  template <class T>
  T* ptr() const { return static_cast<T*>(data); }
  template <class T>
  T* row(int64_t r) const { return static_cast<T*>(data) + r * stride; }

  // Columns [c0, c0 + n) of every row.
  Tensor cols_slice(int64_t c0, int64_t n) const {
    Tensor t = *this;
    t.data = static_cast<char*>(data) + c0 * static_cast<int64_t>(dtype_size(dtype));
    t.cols = n;
    return t;
  }
  // Rows [r0, r0 + n).
  Tensor rows_slice(int64_t r0, int64_t n) const {
    Tensor t = *this;
    t.data = static_cast<char*>(data) + r0 * stride * static_cast<int64_t>(dtype_size(dtype));
    t.rows = n;
    return t;
  }
};

// A tensor that owns its memory (released by the backend that allocated it).
struct OwnedTensor {
  Tensor view;
  std::shared_ptr<void> memory;

  const Tensor& operator*() const { return view; }
  const Tensor* operator->() const { return &view; }
};

}  // namespace sambay
