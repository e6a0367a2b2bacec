#pragma once
// Small helpers shared by the CPU kernels.
#include <cmath>
#include <cstdint>

#include "sambay/base/error.h"
#include "sambay/base/half.h"
#include "sambay/ops/tensor.h"

namespace sambay {

// Below this many scalar operations an op runs on one thread: forking and joining the thread team
// costs more than it saves, and spinning workers hurt when cores are shared.
constexpr int64_t kParallelWork = int64_t{1} << 16;

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

// softplus with PyTorch's threshold: x above 20 is returned as is.
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

// Row r of a weight-like tensor (BF16, F16 or F32) widened to float32.
inline void widen_row(const Tensor& t, int64_t r, float* dst) {
  switch (t.dtype) {
    case DType::F32: {
      const float* s = t.row<const float>(r);
      for (int64_t i = 0; i < t.cols; ++i) dst[i] = s[i];
      return;
    }
    case DType::BF16: {
      const uint16_t* s = t.row<const uint16_t>(r);
      for (int64_t i = 0; i < t.cols; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case DType::F16: {
      const uint16_t* s = t.row<const uint16_t>(r);
      for (int64_t i = 0; i < t.cols; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    default:
      fail("cpu: weights of dtype {} are not supported", dtype_name(t.dtype));
  }
}

}  // namespace sambay
