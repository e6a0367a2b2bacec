// Row norms on the GPU: LayerNorm (SambaY) and RMSNorm (Phi-3), each optionally fused with the
// residual update x += y before it. One kernel serves both: RMSNorm is LayerNorm without the mean
// and the bias.
#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {
namespace cuda {
namespace {

// One block per row, for rows too long for the register-resident kernel below.
template <bool kRms, class Out>
__global__ void norm_kernel(Out* out, int64_t out_stride, const float* in, int64_t in_stride, const float* w,
                            const float* b, int cols, float eps) {
  __shared__ float partial[32];
  enter_dependent_kernel();
  const float* x = in + blockIdx.x * in_stride;
  auto block_sum = [&](float v) {
    v = warp_sum(v);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    float total = 0;
    for (int i = 0; i < static_cast<int>(blockDim.x >> 5); ++i) total += partial[i];
    __syncthreads();
    return total;
  };
  float mean = 0;
  if constexpr (!kRms) {
    float s = 0;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) s += x[i];
    mean = block_sum(s) / cols;
  }
  float v = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) v += (x[i] - mean) * (x[i] - mean);
  const float rstd = rsqrtf(block_sum(v) / cols + eps);
  Out* y = out + blockIdx.x * out_stride;
  for (int i = threadIdx.x; i < cols; i += blockDim.x)
    y[i] = from_float<Out>((x[i] - mean) * rstd * w[i] + (kRms ? 0.0f : b[i]));
}

// One block per row, the row held in registers (up to 256 x kPerThread values): optional x += y,
// then out = norm(x). One or two block reductions, one read and one write of the row.
constexpr int kNormThreads = 256;
constexpr int kPerThread = 16;

template <bool kRms, class Y, class Out>
__global__ void __launch_bounds__(kNormThreads) add_norm_kernel(float* __restrict__ x, int64_t x_stride,
                                                                const Y* __restrict__ y, int64_t y_stride,
                                                                Out* __restrict__ out, int64_t out_stride,
                                                                const float* __restrict__ w,
                                                                const float* __restrict__ b, int cols, float eps) {
  __shared__ float partial[kNormThreads / 32];
  float* xr = x + blockIdx.x * x_stride;
  // The norm's weights first: they do not depend on the kernels before this one.
  float wv[kPerThread], bv[kPerThread];
#pragma unroll
  for (int i = 0; i < kPerThread; ++i) {
    const int c = threadIdx.x + i * kNormThreads;
    wv[i] = c < cols ? w[c] : 0.0f;
    bv[i] = c < cols && !kRms ? b[c] : 0.0f;
  }
  enter_dependent_kernel();
  float v[kPerThread];
  // All loads first, then the residual stores: interleaved, each store would wait on a load.
#pragma unroll
  for (int i = 0; i < kPerThread; ++i) {
    const int c = threadIdx.x + i * kNormThreads;
    v[i] = c < cols ? xr[c] : 0.0f;
  }
  if (y) {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int c = threadIdx.x + i * kNormThreads;
      if (c < cols) v[i] += to_float(y[blockIdx.x * y_stride + c]);
    }
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int c = threadIdx.x + i * kNormThreads;
      if (c < cols) xr[c] = v[i];
    }
  }
  auto block_sum = [&](float s) {
    s = warp_sum(s);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = s;
    __syncthreads();
    float t = 0;
#pragma unroll
    for (int i = 0; i < kNormThreads / 32; ++i) t += partial[i];
    __syncthreads();
    return t;
  };
  float mean = 0;
  if constexpr (!kRms) {
    float sum = 0;
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) sum += v[i];
    mean = block_sum(sum) / cols;
  }
  float var = 0;
#pragma unroll
  for (int i = 0; i < kPerThread; ++i) {
    const int c = threadIdx.x + i * kNormThreads;
    if (c < cols) var += (v[i] - mean) * (v[i] - mean);
  }
  const float rstd = rsqrtf(block_sum(var) / cols + eps);
  Out* o = out + blockIdx.x * out_stride;
#pragma unroll
  for (int i = 0; i < kPerThread; ++i) {
    const int c = threadIdx.x + i * kNormThreads;
    if (c < cols) o[c] = from_float<Out>((v[i] - mean) * rstd * wv[i] + bv[i]);
  }
}

// out = norm(x) (y null) or x += y, out = norm(x); false when the shapes need the fallback.
template <bool kRms>
bool launch_add_norm(cudaStream_t stream, const Tensor& x, const Tensor* y, const Tensor& out, const Tensor& w,
                     const Tensor* b, float eps) {
  if (x.cols > kNormThreads * kPerThread || out.dtype != DType::BF16) return false;
  if (y && y->dtype != DType::BF16 && y->dtype != DType::F32) return false;
  const int cols = static_cast<int>(x.cols);
  const float* bias = b ? b->ptr<const float>() : nullptr;
  float* xp = const_cast<float*>(x.ptr<const float>());  // written only when y is given
  if (y && y->dtype == DType::F32)
    launch_overlapped(stream, dim3(x.rows), dim3(kNormThreads), 0, add_norm_kernel<kRms, float, bf16>, xp, x.stride,
                      y->ptr<const float>(), y->stride, out.ptr<bf16>(), out.stride, w.ptr<const float>(), bias, cols,
                      eps);
  else
    launch_overlapped(stream, dim3(x.rows), dim3(kNormThreads), 0, add_norm_kernel<kRms, bf16, bf16>, xp, x.stride,
                      y ? y->ptr<const bf16>() : nullptr, y ? y->stride : 0, out.ptr<bf16>(), out.stride,
                      w.ptr<const float>(), bias, cols, eps);
  return true;
}

template <bool kRms>
void launch_norm(cudaStream_t stream, const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* b,
                 float eps) {
  if (launch_add_norm<kRms>(stream, in, nullptr, out, w, b, eps)) return;
  const int cols = static_cast<int>(in.cols);
  const float* bias = b ? b->ptr<const float>() : nullptr;
  if (out.dtype == DType::BF16)
    launch_overlapped(stream, dim3(in.rows), dim3(256), 0, norm_kernel<kRms, bf16>, out.ptr<bf16>(), out.stride,
                      in.ptr<const float>(), in.stride, w.ptr<const float>(), bias, cols, eps);
  else
    launch_overlapped(stream, dim3(in.rows), dim3(256), 0, norm_kernel<kRms, float>, out.ptr<float>(), out.stride,
                      in.ptr<const float>(), in.stride, w.ptr<const float>(), bias, cols, eps);
}

bool same_shape(const Tensor& a, const Tensor& b) { return a.rows == b.rows && a.cols == b.cols; }

}  // namespace
}  // namespace cuda

using namespace cuda;

void CudaOps::layer_norm(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor& b, float eps) {
  SAMBAY_CUDA_REQUIRE(in.dtype == DType::F32 && same_shape(out, in), "layer_norm: shape mismatch");
  if (in.rows > 0) launch_norm<false>(stream_, out, in, w, &b, eps);
}

void CudaOps::add_layer_norm(const Tensor& x, const Tensor& y, const Tensor& out, const Tensor& w, const Tensor& b,
                             float eps) {
  SAMBAY_CUDA_REQUIRE(x.dtype == DType::F32 && same_shape(x, y) && same_shape(out, x), "add_layer_norm: shape mismatch");
  if (x.rows == 0) return;
  if (!launch_add_norm<false>(stream_, x, &y, out, w, &b, eps)) Ops::add_layer_norm(x, y, out, w, b, eps);
}

void CudaOps::rms_norm(const Tensor& out, const Tensor& in, const Tensor& w, float eps) {
  SAMBAY_CUDA_REQUIRE(in.dtype == DType::F32 && same_shape(out, in), "rms_norm: shape mismatch");
  if (in.rows > 0) launch_norm<true>(stream_, out, in, w, nullptr, eps);
}

void CudaOps::add_rms_norm(const Tensor& x, const Tensor& y, const Tensor& out, const Tensor& w, float eps) {
  SAMBAY_CUDA_REQUIRE(x.dtype == DType::F32 && same_shape(x, y) && same_shape(out, x), "add_rms_norm: shape mismatch");
  if (x.rows == 0) return;
  if (!launch_add_norm<true>(stream_, x, &y, out, w, nullptr, eps)) Ops::add_rms_norm(x, y, out, w, eps);
}

}  // namespace sambay
