#pragma once
// Tensor-core GEMV for decode batches (see cuda_linear_mma.cu).
#include <cuda_runtime.h>

#include "sambay/ops/tensor.h"

namespace sambay::cuda {

constexpr int64_t kLinearMmaMaxRows = 16;

// out = in · wᵀ (+ bias) with BF16 operands, float32 accumulation, BF16 or F32 out. Returns false,
// launching nothing, for shapes it does not take: more than 16 rows of `in`, in_features not a
// multiple of 32, or operands not 16-byte aligned.
bool linear_mma(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms);

// out = silu(in · gateᵀ) * (in · upᵀ) with w = [gate; up] (2 * out.cols rows), BF16 out; the two
// products are rounded to BF16 before the gate, as linear() and silu_mul() would. Same limits as
// linear_mma (false: nothing launched).
bool linear_swiglu_mma(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, int sms);

}  // namespace sambay::cuda
