#pragma once
// Pairs of tensors with equal values on the CPU reference backend (F32) and the CUDA backend
// (BF16 or F32), so every CUDA op can be compared with the CPU op on the same inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "sambay/base/half.h"
#include "sambay/ops/backend.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay::test {

struct Pair {
  OwnedTensor cpu, gpu;
};

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no usable CUDA device";
    gpu = std::make_unique<CudaOps>();
  }

  // Random values rounded to BF16 (so both sides see the same numbers); the GPU copy is in
  // `gpu_dtype`. `extra` columns make the tensors column slices with a wider row stride.
  Pair random(int64_t rows, int64_t cols, float scale = 1, DType gpu_dtype = DType::BF16, int64_t extra = 0) {
    std::vector<float> v(static_cast<size_t>(rows * (cols + extra)));
    for (auto& x : v) x = bf16_to_f32(f32_to_bf16(std::uniform_real_distribution<float>(-scale, scale)(rng)));
    return from_values(v, rows, cols + extra, gpu_dtype, cols);
  }

  Pair from_values(const std::vector<float>& v, int64_t rows, int64_t cols, DType gpu_dtype, int64_t view_cols = -1) {
    Pair p{cpu.empty(rows, cols, DType::F32), gpu->empty(rows, cols, gpu_dtype)};
    std::copy(v.begin(), v.end(), p.cpu->ptr<float>());
    upload(p.gpu.view, v);
    if (view_cols >= 0) p.cpu.view.cols = p.gpu.view.cols = view_cols;
    return p;
  }

  // An output pair, poisoned with NaN on both sides.
  Pair output(int64_t rows, int64_t cols, DType gpu_dtype = DType::BF16) {
    Pair p{cpu.empty(rows, cols, DType::F32), gpu->empty(rows, cols, gpu_dtype)};
    std::vector<float> nan(static_cast<size_t>(rows * cols), NAN);
    upload(p.gpu.view, nan);
    return p;
  }

  void upload(const Tensor& t, const std::vector<float>& v) {
    if (t.dtype == DType::F32) return gpu->from_host(t, v.data());
    std::vector<uint16_t> b(v.size());
    for (size_t i = 0; i < v.size(); ++i) b[i] = f32_to_bf16(v[i]);
    gpu->from_host(t, b.data());
  }

  std::vector<float> download(const Tensor& t) {
    std::vector<float> out(static_cast<size_t>(t.numel()));
    if (t.dtype == DType::F32) {
      gpu->to_host(t, out.data());
      return out;
    }
    std::vector<uint16_t> b(out.size());
    gpu->to_host(t, b.data());
    for (size_t i = 0; i < b.size(); ++i) out[i] = bf16_to_f32(b[i]);
    return out;
  }

  std::vector<float> values(const Tensor& t) {
    std::vector<float> out(static_cast<size_t>(t.numel()));
    cpu.to_host(t, out.data());
    return out;
  }

  // ||gpu - cpu|| / ||cpu||; fails on any non-finite GPU value.
  double rel_error(const Pair& p) {
    const auto g = download(p.gpu.view), c = values(p.cpu.view);
    double num = 0, den = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      EXPECT_TRUE(std::isfinite(g[i])) << "element " << i << " not written or not finite";
      if (!std::isfinite(g[i])) return INFINITY;
      num += (g[i] - c[i]) * static_cast<double>(g[i] - c[i]);
      den += c[i] * static_cast<double>(c[i]);
    }
    return std::sqrt(num / std::max(den, 1e-30));
  }

  // Random K/V pages for two sequences of up to pages_per_seq pages each, on both backends, with a
  // page table that gives slot 0 the last pages (so the table is exercised).
  struct Pages {
    Pair k, v;
    std::vector<int32_t> table;
    OwnedTensor table_device;
    KvPagesRef cpu, gpu;
  };
  std::unique_ptr<Pages> paged_kv(int64_t kv_row, int64_t page, int64_t pages_per_seq, int64_t head_dim,
                                  int64_t group_heads) {
    auto p = std::make_unique<Pages>();
    p->k = random(2 * pages_per_seq, page * kv_row);
    p->v = random(2 * pages_per_seq, page * kv_row);
    p->table.resize(static_cast<size_t>(2 * pages_per_seq));
    std::iota(p->table.rbegin(), p->table.rend(), 0);
    p->table_device = gpu->empty(2, pages_per_seq, DType::I32);
    gpu->from_host(*p->table_device, p->table.data());
    p->cpu = {*p->k.cpu, *p->v.cpu, page, p->table.data(), Tensor(p->table.data(), DType::I32, 2, pages_per_seq),
              pages_per_seq, head_dim, group_heads};
    p->gpu = {*p->k.gpu, *p->v.gpu, page, p->table.data(), *p->table_device, pages_per_seq, head_dim, group_heads};
    return p;
  }

  CpuOps cpu{CpuOpsOptions{.poison_allocations = true}};
  std::unique_ptr<CudaOps> gpu;
  std::mt19937_64 rng{std::random_device{}()};
};

}  // namespace sambay::test
