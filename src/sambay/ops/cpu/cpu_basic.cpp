// Allocation, copies and the element-wise ops of the CPU backend.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "sambay/base/error.h"
#include "sambay/base/half.h"
#include "sambay/base/host_memory.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "sambay/ops/cpu/cpu_util.h"

namespace sambay {

OwnedTensor CpuOps::empty(int64_t rows, int64_t cols, DType dtype) {
  SAMBAY_CHECK(rows >= 0 && cols >= 0, "cpu: cannot allocate a [{}, {}] tensor", rows, cols);
  const size_t bytes = static_cast<size_t>(rows * cols) * dtype_size(dtype);
  std::shared_ptr<void> mem = alloc_host(bytes);
  if (options_.poison_allocations && mem) {
    if (dtype == DType::F32)
      std::fill_n(static_cast<float*>(mem.get()), rows * cols, std::numeric_limits<float>::quiet_NaN());
    else
      std::memset(mem.get(), 0xff, bytes);  // NaN in every float format
  }
  return OwnedTensor{Tensor(mem.get(), dtype, rows, cols, Device::Cpu), mem};
}

void CpuOps::zero(const Tensor& t) {
  const size_t row_bytes = static_cast<size_t>(t.cols) * dtype_size(t.dtype);
  if (row_bytes == 0) return;
  for (int64_t r = 0; r < t.rows; ++r) std::memset(t.row<char>(0) + r * t.stride * dtype_size(t.dtype), 0, row_bytes);
}

OwnedTensor CpuOps::place(const Tensor& host, std::shared_ptr<void> keep, Placement) {
  return OwnedTensor{host, std::move(keep)};
}

void CpuOps::from_host(const Tensor& t, const void* src) {
  const size_t row_bytes = static_cast<size_t>(t.cols) * dtype_size(t.dtype);
  if (row_bytes == 0) return;
  for (int64_t r = 0; r < t.rows; ++r)
    std::memcpy(static_cast<char*>(t.data) + r * t.stride * dtype_size(t.dtype),
                static_cast<const char*>(src) + r * row_bytes, row_bytes);
}

void CpuOps::to_host(const Tensor& t, void* dst) {
  const size_t row_bytes = static_cast<size_t>(t.cols) * dtype_size(t.dtype);
  if (row_bytes == 0) return;
  for (int64_t r = 0; r < t.rows; ++r)
    std::memcpy(static_cast<char*>(dst) + r * row_bytes,
                static_cast<const char*>(t.data) + r * t.stride * dtype_size(t.dtype), row_bytes);
}

void CpuOps::copy(const Tensor& dst, const Tensor& src) {
  SAMBAY_CHECK(dst.dtype == src.dtype && dst.rows == src.rows && dst.cols == src.cols, "cpu copy: shape mismatch");
  const size_t elem = dtype_size(src.dtype), row_bytes = static_cast<size_t>(src.cols) * elem;
  if (row_bytes == 0) return;
  for (int64_t r = 0; r < src.rows; ++r)
    std::memcpy(static_cast<char*>(dst.data) + r * dst.stride * elem,
                static_cast<const char*>(src.data) + r * src.stride * elem, row_bytes);
}

void CpuOps::embedding(const Tensor& out, std::span<const int32_t> ids, const Tensor& table) {
  SAMBAY_CHECK(out.rows == static_cast<int64_t>(ids.size()) && out.cols == table.cols && out.dtype == DType::F32,
               "cpu embedding: shape mismatch");
#pragma omp parallel for schedule(static) if (out.numel() > kParallelWork)
  for (int64_t r = 0; r < out.rows; ++r) widen_row(table, ids[r], out.row<float>(r));
}

void CpuOps::layer_norm(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor& b, float eps) {
  SAMBAY_CHECK(out.rows == in.rows && out.cols == in.cols && w.cols == in.cols && b.cols == in.cols,
               "cpu layer_norm: shape mismatch");
  const int64_t n = in.cols;
  const float* wp = w.ptr<float>();
  const float* bp = b.ptr<float>();
#pragma omp parallel for schedule(static) if (in.numel() > kParallelWork)
  for (int64_t r = 0; r < in.rows; ++r) {
    const float* x = in.row<float>(r);
    float* y = out.row<float>(r);
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += x[i];
    mean /= static_cast<double>(n);
    double var = 0;
    for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
    var /= static_cast<double>(n);
    const float m = static_cast<float>(mean);
    const float rstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * rstd * wp[i] + bp[i];
  }
}

void CpuOps::add(const Tensor& x, const Tensor& y) {
  SAMBAY_CHECK(x.rows == y.rows && x.cols == y.cols, "cpu add: shape mismatch");
#pragma omp parallel for schedule(static) if (x.numel() > kParallelWork)
  for (int64_t r = 0; r < x.rows; ++r) {
    float* a = x.row<float>(r);
    const float* c = y.row<float>(r);
    for (int64_t i = 0; i < x.cols; ++i) a[i] += c[i];
  }
}

void CpuOps::silu_mul(const Tensor& out, const Tensor& gate, const Tensor& x) {
  SAMBAY_CHECK(out.rows == gate.rows && out.rows == x.rows && out.cols == gate.cols && out.cols == x.cols,
               "cpu silu_mul: shape mismatch");
#pragma omp parallel for schedule(static) if (out.numel() > kParallelWork)
  for (int64_t r = 0; r < out.rows; ++r) {
    const float* g = gate.row<float>(r);
    const float* v = x.row<float>(r);
    float* o = out.row<float>(r);
    for (int64_t i = 0; i < out.cols; ++i) o[i] = silu(g[i]) * v[i];
  }
}

void CpuOps::gather_rows(const Tensor& out, const Tensor& in, std::span<const int32_t> rows) {
  SAMBAY_CHECK(out.rows == static_cast<int64_t>(rows.size()) && out.cols == in.cols && out.dtype == in.dtype,
               "cpu gather_rows: shape mismatch");
  const size_t row_bytes = static_cast<size_t>(in.cols) * dtype_size(in.dtype);
  for (int64_t i = 0; i < out.rows; ++i) {
    SAMBAY_CHECK(rows[i] >= 0 && rows[i] < in.rows, "cpu gather_rows: row {} out of range", rows[i]);
    std::memcpy(out.row<char>(0) + i * out.stride * dtype_size(out.dtype),
                in.row<char>(0) + rows[i] * in.stride * dtype_size(in.dtype), row_bytes);
  }
}

void CpuOps::argmax_rows(const Tensor& logits, std::span<int32_t> ids) {
  SAMBAY_CHECK(logits.dtype == DType::F32 && static_cast<int64_t>(ids.size()) == logits.rows,
               "cpu argmax_rows: shape mismatch");
  for (int64_t r = 0; r < logits.rows; ++r) {
    const float* x = logits.row<const float>(r);
    int64_t best = 0;
    for (int64_t i = 1; i < logits.cols; ++i)
      if (x[i] > x[best]) best = i;
    ids[r] = static_cast<int32_t>(best);
  }
}

}  // namespace sambay
