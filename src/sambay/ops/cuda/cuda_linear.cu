// out = in · wᵀ (+ bias) with BF16 operands and float32 accumulation.
//
// Up to 8 input rows (decode) a GEMV kernel streams the weights once with 16-byte loads: the cost is
// the weight bytes (also in the SwiGLU form, gate and up rows side by side). Matrices with few output rows (Mamba x_proj: 192 rows) give each row a whole
// block, so the grid still fills the GPU. From 9 to 16 rows a tensor-core GEMV does the same
// (cuda_linear_mma.cu); above that cuBLAS runs the GEMM on tensor cores.
#include <algorithm>

#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"
#include "sambay/ops/cuda/cuda_linear_mma.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {
namespace cuda {
namespace {

constexpr int kGemvMaxRows = 8;
constexpr int kGemvThreads = 256;  // 8 warps

// WPR warps cooperate on one output row (1: eight rows per block; 8: one row per block). GATED: w is
// [gate; up] with 2N rows and the output row is silu(x · gate_row) * (x · up_row), each product
// rounded to BF16 first as the unfused linear + silu_mul would (the SwiGLU MLP in one launch).
template <int TT, int WPR, bool VEC, bool GATED, class Out>
__global__ void __launch_bounds__(kGemvThreads) gemv_kernel(Out* out, int64_t out_stride, const bf16* x,
                                                            int64_t x_stride, const bf16* w, int64_t w_stride,
                                                            const float* bias, int T, int N, int K) {
  constexpr int kRowsPerBlock = 8 / WPR;
  constexpr int R = GATED ? 2 : 1;  // weight rows per output row
  enter_dependent_kernel();
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int part = warp % WPR;
  // A grid sized to the GPU walks all row blocks: no tail wave, every warp streams weights.
  const int row_blocks = (N + kRowsPerBlock - 1) / kRowsPerBlock;
  for (int rb = blockIdx.x; rb < row_blocks; rb += gridDim.x) {
  const int row = rb * kRowsPerBlock + warp / WPR;
  float acc[R][TT];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < TT; ++t) acc[r][t] = 0.0f;

  if (row < N) {
    const bf16* wr[R];
#pragma unroll
    for (int r = 0; r < R; ++r) wr[r] = w + static_cast<int64_t>(row + r * N) * w_stride;
    if constexpr (VEC) {
      // Several independent 16-byte weight loads in flight per lane before they are used.
      constexpr int U = (TT == 1 ? 8 : TT == 2 ? 4 : 2) / R;
      const int groups = K / 8, step = 32 * WPR;
      int g = part * 32 + lane;
      for (; g + (U - 1) * step < groups; g += U * step) {
        float wf[R][U][8];
#pragma unroll
        for (int r = 0; r < R; ++r)
#pragma unroll
          for (int u = 0; u < U; ++u) load8_stream(wr[r] + (g + u * step) * 8, wf[r][u]);
#pragma unroll
        for (int t = 0; t < TT; ++t) {
          if (t < T) {
#pragma unroll
            for (int u = 0; u < U; ++u) {
              float xf[8];
              load8(x + t * x_stride + (g + u * step) * 8, xf);
#pragma unroll
              for (int r = 0; r < R; ++r)
#pragma unroll
                for (int i = 0; i < 8; ++i) acc[r][t] = fmaf(wf[r][u][i], xf[i], acc[r][t]);
            }
          }
        }
      }
      for (; g < groups; g += step) {
        float wf[R][8];
#pragma unroll
        for (int r = 0; r < R; ++r) load8_stream(wr[r] + g * 8, wf[r]);
#pragma unroll
        for (int t = 0; t < TT; ++t) {
          if (t < T) {
            float xf[8];
            load8(x + t * x_stride + g * 8, xf);
#pragma unroll
            for (int r = 0; r < R; ++r)
#pragma unroll
              for (int i = 0; i < 8; ++i) acc[r][t] = fmaf(wf[r][i], xf[i], acc[r][t]);
          }
        }
      }
    } else {
      for (int k = part * 32 + lane; k < K; k += 32 * WPR) {
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const float wk = to_float(wr[r][k]);
#pragma unroll
          for (int t = 0; t < TT; ++t)
            if (t < T) acc[r][t] = fmaf(wk, to_float(x[t * x_stride + k]), acc[r][t]);
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < TT; ++t) acc[r][t] = warp_sum(acc[r][t]);
  if constexpr (WPR > 1) {
    __shared__ float partial[8][R][TT];
    if (lane == 0)
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int t = 0; t < TT; ++t) partial[warp][r][t] = acc[r][t];
    __syncthreads();
    if (part == 0) {
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int t = 0; t < TT; ++t) {
          acc[r][t] = 0.0f;
          for (int p = 0; p < WPR; ++p) acc[r][t] += partial[warp + p][r][t];
        }
    }
    __syncthreads();  // partial is reused by the next row block
  }
  if (part == 0 && lane == 0 && row < N) {
    const float b = bias ? bias[row] : 0.0f;
#pragma unroll
    for (int t = 0; t < TT; ++t) {
      if (t >= T) continue;
      if constexpr (GATED) {
        const float gate = to_float(from_float<bf16>(acc[0][t])), up = to_float(from_float<bf16>(acc[R - 1][t]));
        out[t * out_stride + row] = from_float<Out>(silu(gate) * up);
      } else {
        out[t * out_stride + row] = from_float<Out>(acc[0][t] + b);
      }
    }
  }
  }
}

template <class Out>
__global__ void add_bias_kernel(Out* out, int64_t out_stride, const float* bias, int rows, int cols) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(rows) * cols) return;
  const int64_t r = i / cols, c = i % cols;
  Out* p = out + r * out_stride + c;
  *p = from_float<Out>(to_float(*p) + bias[c]);
}

// N = out.cols: w's rows, or half of them when GATED.
template <int TT, int WPR, bool VEC, bool GATED, class Out>
void launch_gemv(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms) {
  const int N = static_cast<int>(out.cols);
  const unsigned blocks = std::min<unsigned>(blocks_for(N, 8 / WPR), 8u * sms);  // 8 blocks of 256 fill an SM
  launch_overlapped(s, dim3(blocks), dim3(kGemvThreads), 0, gemv_kernel<TT, WPR, VEC, GATED, Out>, out.ptr<Out>(),
                    out.stride, in.ptr<const bf16>(), in.stride, w.ptr<const bf16>(), w.stride, bias,
                    static_cast<int>(in.rows), N, static_cast<int>(w.cols));
}

template <int TT, bool GATED, class Out>
void gemv_dispatch(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias,
                   int sms) {
  const bool vec = w.cols % 8 == 0 && w.stride % 8 == 0 && in.stride % 8 == 0 &&
                   reinterpret_cast<uintptr_t>(w.data) % 16 == 0 && reinterpret_cast<uintptr_t>(in.data) % 16 == 0;
  // The fewest warps per row that still give every SM four blocks (256 threads each). More warps
  // per row would even out the last round of the grid, but measured slower: each row then costs a
  // cross-warp reduction and its loads come in shorter runs.
  // Output rows (a gated row reads two weight rows, but the warps per row are chosen by outputs).
  const int64_t rows = out.cols, want_blocks = 4 * static_cast<int64_t>(sms);
  const int wpr = rows >= want_blocks * 8 ? 1 : rows >= want_blocks * 4 ? 2 : rows >= want_blocks * 2 ? 4 : 8;
  if (vec) {
    if (wpr == 1) return launch_gemv<TT, 1, true, GATED, Out>(s, out, in, w, bias, sms);
    if (wpr == 2) return launch_gemv<TT, 2, true, GATED, Out>(s, out, in, w, bias, sms);
    if (wpr == 4) return launch_gemv<TT, 4, true, GATED, Out>(s, out, in, w, bias, sms);
    return launch_gemv<TT, 8, true, GATED, Out>(s, out, in, w, bias, sms);
  }
  if (wpr <= 2) return launch_gemv<TT, 1, false, GATED, Out>(s, out, in, w, bias, sms);
  launch_gemv<TT, 8, false, GATED, Out>(s, out, in, w, bias, sms);
}

template <bool GATED, class Out>
void gemv(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms) {
  if (in.rows == 1) return gemv_dispatch<1, GATED, Out>(s, out, in, w, bias, sms);
  if (in.rows == 2) return gemv_dispatch<2, GATED, Out>(s, out, in, w, bias, sms);
  if (in.rows <= 4) return gemv_dispatch<4, GATED, Out>(s, out, in, w, bias, sms);
  gemv_dispatch<8, GATED, Out>(s, out, in, w, bias, sms);
}

}  // namespace
}  // namespace cuda

using namespace cuda;

void CudaOps::linear(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* bias) {
  SAMBAY_CUDA_REQUIRE(in.cols == w.cols && out.rows == in.rows && out.cols == w.rows, "linear: shape mismatch");
  SAMBAY_CUDA_REQUIRE(in.dtype == DType::BF16 && w.dtype == DType::BF16, "linear: operands must be BF16");
  SAMBAY_CUDA_REQUIRE(out.dtype == DType::BF16 || out.dtype == DType::F32, "linear: output must be BF16 or F32");
  SAMBAY_CUDA_REQUIRE(!bias || (bias->dtype == DType::F32 && bias->cols == w.rows), "linear: bad bias");
  if (in.rows == 0 || w.rows == 0) return;
  const float* b = bias ? bias->ptr<const float>() : nullptr;
  if (in.rows <= kGemvMaxRows) {
    if (out.dtype == DType::BF16) gemv<false, bf16>(stream_, out, in, w, b, props_.multiProcessorCount);
    else gemv<false, float>(stream_, out, in, w, b, props_.multiProcessorCount);
    SAMBAY_CUDA_LAUNCHED();
    return;
  }
  if (linear_mma(stream_, out, in, w, b, props_.multiProcessorCount)) {
    SAMBAY_CUDA_LAUNCHED();
    return;
  }
  // Row-major out[T, N] = in[T, K] · w[N, K]ᵀ is column-major outᵀ[N, T] = w · inᵀ.
  const float one = 1.0f, zero = 0.0f;
  const cudaDataType out_type = out.dtype == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F;
  SAMBAY_CUBLAS_CHECK(cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(w.rows),
                                   static_cast<int>(in.rows), static_cast<int>(w.cols), &one, w.data, CUDA_R_16BF,
                                   static_cast<int>(w.stride), in.data, CUDA_R_16BF, static_cast<int>(in.stride),
                                   &zero, out.data, out_type, static_cast<int>(out.stride), CUBLAS_COMPUTE_32F,
                                   CUBLAS_GEMM_DEFAULT));
  if (b) {
    const int64_t n = out.numel();
    if (out.dtype == DType::BF16)
      add_bias_kernel<<<blocks_for(n, 256), 256, 0, stream_>>>(out.ptr<bf16>(), out.stride, b,
                                                               static_cast<int>(out.rows), static_cast<int>(out.cols));
    else
      add_bias_kernel<<<blocks_for(n, 256), 256, 0, stream_>>>(out.ptr<float>(), out.stride, b,
                                                               static_cast<int>(out.rows), static_cast<int>(out.cols));
    SAMBAY_CUDA_LAUNCHED();
  }
}

void CudaOps::linear_swiglu(const Tensor& out, const Tensor& in, const Tensor& w) {
  SAMBAY_CUDA_REQUIRE(in.cols == w.cols && out.rows == in.rows && 2 * out.cols == w.rows && in.dtype == DType::BF16 &&
                          w.dtype == DType::BF16 && out.dtype == DType::BF16,
                      "linear_swiglu: shape mismatch");
  if (in.rows == 0 || w.rows == 0) return;
  if (in.rows <= kGemvMaxRows) {
    gemv<true, bf16>(stream_, out, in, w, nullptr, props_.multiProcessorCount);
    SAMBAY_CUDA_LAUNCHED();
    return;
  }
  if (linear_swiglu_mma(stream_, out, in, w, props_.multiProcessorCount)) return;
  Ops::linear_swiglu(out, in, w);
}

}  // namespace sambay
