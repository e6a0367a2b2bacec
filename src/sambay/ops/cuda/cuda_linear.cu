// out = in · wᵀ (+ bias) with BF16 operands and float32 accumulation.
//
// Up to 8 input rows (decode) a GEMV kernel streams the weights once with 16-byte loads: the cost is
// the weight bytes (also in the SwiGLU form, gate and up rows side by side). Matrices with few output rows (Mamba x_proj: 192 rows) give each row a whole
// block, so the grid still fills the GPU. From 9 to 16 rows a tensor-core GEMV does the same
// (cuda_linear_mma.cu); above that cuBLAS runs the GEMM on tensor cores.
//
// The GEMV also folds an RMSNorm into the GEMVs on either side of it (Ops::linear_residual, then
// Ops::rms_linear), so a decode step runs no norm kernels of its own, whose cost is almost all
// latency: the GEMV before the norm adds its rows to the residual stream x and writes x ⊙ norm_w;
// the GEMV after it streams its weights against that and sums the squares of x alongside, then
// scales each output by 1 / rms(x). Mathematically the norm; only the roundings differ (x ⊙ norm_w
// is rounded to BF16 before the 1 / rms factor is applied instead of after).
#include <algorithm>
#include <string>

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

// What the GEMV does besides out = in · wᵀ (see the top of the file).
enum class Fold {
  kNone,
  kResidual,  // x[t][row] += bf16(sum); scaled[t][row] = bf16(x[t][row] * norm_w[row]); no `out`
  kRmsIn,     // `in` is scaled = x ⊙ norm_w; out = sum * rsqrt(mean(x[t]²) + eps)
};
struct FoldArgs {
  float* x = nullptr;  // the residual stream, float32 [T, K] (kRmsIn) or [T, N] (kResidual)
  int64_t x_stride = 0;
  bf16* scaled = nullptr;  // kResidual's second output
  int64_t scaled_stride = 0;
  const float* norm_w = nullptr;  // kResidual: the next norm's weights
  float eps = 0;                  // kRmsIn
};

// Adds the squares of the eight float32 values at p (16-byte aligned) to s.
__device__ __forceinline__ void add_squares8(const float* p, float& s) {
  const float4 a = __ldg(reinterpret_cast<const float4*>(p)), b = __ldg(reinterpret_cast<const float4*>(p) + 1);
  s = fmaf(a.x, a.x, fmaf(a.y, a.y, fmaf(a.z, a.z, fmaf(a.w, a.w, s))));
  s = fmaf(b.x, b.x, fmaf(b.y, b.y, fmaf(b.z, b.z, fmaf(b.w, b.w, s))));
}

// WPR warps cooperate on one output row (1: eight rows per block; 8: one row per block). GATED: w is
// [gate; up] with 2N rows and the output row is silu(x · gate_row) * (x · up_row), each product
// rounded to BF16 first as the unfused linear + silu_mul would (the SwiGLU MLP in one launch).
// F: see Fold.
template <int TT, int WPR, bool VEC, bool GATED, class Out, Fold F>
__device__ __forceinline__ void gemv_rows(Out* out, int64_t out_stride, const bf16* x, int64_t x_stride,
                                          const bf16* w, int64_t w_stride, const float* bias, int T, int N, int K,
                                          const FoldArgs& fold) {
  constexpr int kRowsPerBlock = 8 / WPR;
  constexpr int R = GATED ? 2 : 1;  // weight rows per output row
  static_assert(F != Fold::kRmsIn || VEC, "the squares are summed in the 16-byte load loop");
  static_assert(F != Fold::kResidual || !GATED, "the residual fold has one weight row per output");
  enter_dependent_kernel();
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int part = warp % WPR;
  const bool writer = part == 0 && lane == 0;
  // kRmsIn: Σ x² per input row while the first row block streams, then 1 / rms for all of them (every
  // row block walks the same columns).
  float rms_scale[TT];
#pragma unroll
  for (int t = 0; t < TT; ++t) rms_scale[t] = 0.0f;
  bool first_pass = true;
  // A grid sized to the GPU walks all row blocks: no tail wave, every warp streams weights.
  const int row_blocks = (N + kRowsPerBlock - 1) / kRowsPerBlock;
  for (int rb = blockIdx.x; rb < row_blocks; rb += gridDim.x) {
  const int row = rb * kRowsPerBlock + warp / WPR;
  float acc[R][TT];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < TT; ++t) acc[r][t] = 0.0f;
  // kResidual: the residual and the norm weight this row's writer updates, loaded now so that their
  // latency hides behind the weight stream.
  float x_old[TT], norm_w = 0.0f;
  if constexpr (F == Fold::kResidual) {
    if (writer && row < N) {
      norm_w = fold.norm_w[row];
#pragma unroll
      for (int t = 0; t < TT; ++t) x_old[t] = t < T ? fold.x[t * fold.x_stride + row] : 0.0f;
    }
  }
  const bool squares = F == Fold::kRmsIn && first_pass;

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
              if (squares) add_squares8(fold.x + t * fold.x_stride + (g + u * step) * 8, rms_scale[t]);
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
            if (squares) add_squares8(fold.x + t * fold.x_stride + g * 8, rms_scale[t]);
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
  if constexpr (F == Fold::kRmsIn) {
    if (first_pass) {
      __shared__ float squares_partial[8][TT];
#pragma unroll
      for (int t = 0; t < TT; ++t) rms_scale[t] = warp_sum(rms_scale[t]);
      if constexpr (WPR > 1) {
        if (lane == 0)
#pragma unroll
          for (int t = 0; t < TT; ++t) squares_partial[warp][t] = rms_scale[t];
        __syncthreads();
#pragma unroll
        for (int t = 0; t < TT; ++t) {
          float s = 0.0f;
          for (int p = 0; p < WPR; ++p) s += squares_partial[warp - part + p][t];
          rms_scale[t] = s;
        }
      }
#pragma unroll
      for (int t = 0; t < TT; ++t) rms_scale[t] = rsqrtf(rms_scale[t] / K + fold.eps);
    }
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int t = 0; t < TT; ++t) acc[r][t] *= rms_scale[t];
  }
  first_pass = false;
  if (writer && row < N) {
    const float b = bias ? bias[row] : 0.0f;
#pragma unroll
    for (int t = 0; t < TT; ++t) {
      if (t >= T) continue;
      if constexpr (GATED) {
        const float gate = to_float(from_float<bf16>(acc[0][t])), up = to_float(from_float<bf16>(acc[R - 1][t]));
        out[t * out_stride + row] = from_float<Out>(silu(gate) * up);
      } else if constexpr (F == Fold::kResidual) {
        const float xn = x_old[t] + to_float(from_float<bf16>(acc[0][t] + b));
        fold.x[t * fold.x_stride + row] = xn;
        fold.scaled[t * fold.scaled_stride + row] = from_float<bf16>(xn * norm_w);
      } else {
        out[t * out_stride + row] = from_float<Out>(acc[0][t] + b);
      }
    }
  }
  }
}

#define SAMBAY_GEMV_PARAMS                                                                                   \
  Out *out, int64_t out_stride, const bf16 *x, int64_t x_stride, const bf16 *w, int64_t w_stride, const float *bias, \
      int T, int N, int K, FoldArgs fold
template <int TT, int WPR, bool VEC, bool GATED, class Out, Fold F>
__global__ void __launch_bounds__(kGemvThreads) gemv_kernel(SAMBAY_GEMV_PARAMS) {
  gemv_rows<TT, WPR, VEC, GATED, Out, F>(out, out_stride, x, x_stride, w, w_stride, bias, T, N, K, fold);
}
// The same held to five blocks per SM, as the plain gated form gets, for the gated kRmsIn form of one
// input row: it would otherwise take 52 registers a thread, and an SM only four blocks.
template <int TT, int WPR, bool VEC, bool GATED, class Out, Fold F>
__global__ void __launch_bounds__(kGemvThreads, 5) gemv_kernel_5_per_sm(SAMBAY_GEMV_PARAMS) {
  gemv_rows<TT, WPR, VEC, GATED, Out, F>(out, out_stride, x, x_stride, w, w_stride, bias, T, N, K, fold);
}
#undef SAMBAY_GEMV_PARAMS

template <class Out>
__global__ void add_bias_kernel(Out* out, int64_t out_stride, const float* bias, int rows, int cols) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<int64_t>(rows) * cols) return;
  const int64_t r = i / cols, c = i % cols;
  Out* p = out + r * out_stride + c;
  *p = from_float<Out>(to_float(*p) + bias[c]);
}

// out [T, N] (null for Fold::kResidual) = in [T, K] · w [N (2N when GATED), K]ᵀ.
template <class Out>
struct GemvArgs {
  Out* out;
  int64_t out_stride;
  const Tensor& in;
  const Tensor& w;
  const float* bias;
  int N;
  FoldArgs fold;
};

template <int TT, int WPR, bool VEC, bool GATED, class Out, Fold F>
void launch_gemv(cudaStream_t s, const GemvArgs<Out>& a, int sms) {
  const unsigned blocks = std::min<unsigned>(blocks_for(a.N, 8 / WPR), 8u * sms);  // 8 blocks of 256 fill an SM
  auto launch = [&](auto kernel) {
    launch_overlapped(s, dim3(blocks), dim3(kGemvThreads), 0, kernel, a.out, a.out_stride,
                      a.in.template ptr<const bf16>(), a.in.stride, a.w.template ptr<const bf16>(), a.w.stride,
                      a.bias, static_cast<int>(a.in.rows), a.N, static_cast<int>(a.w.cols), a.fold);
  };
  if constexpr (TT == 1 && GATED && F == Fold::kRmsIn) launch(gemv_kernel_5_per_sm<TT, WPR, VEC, GATED, Out, F>);
  else launch(gemv_kernel<TT, WPR, VEC, GATED, Out, F>);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Whether the 16-byte loads apply: BF16 rows of whole 8-value groups (and float32 ones for kRmsIn's x).
bool gemv_vectorizable(const Tensor& in, const Tensor& w, const Tensor* rms_x) {
  return w.cols % 8 == 0 && w.stride % 8 == 0 && in.stride % 8 == 0 && aligned16(w.data) && aligned16(in.data) &&
         (!rms_x || (rms_x->stride % 4 == 0 && aligned16(rms_x->data)));
}

template <int TT, bool GATED, class Out, Fold F>
void gemv_dispatch(cudaStream_t s, const GemvArgs<Out>& a, int sms) {
  // The fewest warps per row that still give every SM four blocks (256 threads each). More warps
  // per row would even out the last round of the grid, but measured slower: each row then costs a
  // cross-warp reduction and its loads come in shorter runs.
  // Output rows (a gated row reads two weight rows, but the warps per row are chosen by outputs).
  const int64_t rows = a.N, want_blocks = 4 * static_cast<int64_t>(sms);
  const int wpr = rows >= want_blocks * 8 ? 1 : rows >= want_blocks * 4 ? 2 : rows >= want_blocks * 2 ? 4 : 8;
  if (F == Fold::kRmsIn || gemv_vectorizable(a.in, a.w, nullptr)) {
    if (wpr == 1) return launch_gemv<TT, 1, true, GATED, Out, F>(s, a, sms);
    if (wpr == 2) return launch_gemv<TT, 2, true, GATED, Out, F>(s, a, sms);
    if (wpr == 4) return launch_gemv<TT, 4, true, GATED, Out, F>(s, a, sms);
    return launch_gemv<TT, 8, true, GATED, Out, F>(s, a, sms);
  }
  if constexpr (F != Fold::kRmsIn) {
    if (wpr <= 2) return launch_gemv<TT, 1, false, GATED, Out, F>(s, a, sms);
    launch_gemv<TT, 8, false, GATED, Out, F>(s, a, sms);
  }
}

// For Fold::kRmsIn the caller has checked gemv_vectorizable().
template <bool GATED, class Out, Fold F = Fold::kNone>
void gemv(cudaStream_t s, const GemvArgs<Out>& a, int sms) {
  const int64_t T = a.in.rows;
  if constexpr (F != Fold::kNone) {
    gemv_dispatch<1, GATED, Out, F>(s, a, sms);  // one row (folds_norm())
  } else {
    if (T == 1) return gemv_dispatch<1, GATED, Out, F>(s, a, sms);
    if (T == 2) return gemv_dispatch<2, GATED, Out, F>(s, a, sms);
    if (T <= 4) return gemv_dispatch<4, GATED, Out, F>(s, a, sms);
    gemv_dispatch<8, GATED, Out, F>(s, a, sms);
  }
}

template <bool GATED, class Out>
void gemv(cudaStream_t s, const Tensor& out, const Tensor& in, const Tensor& w, const float* bias, int sms) {
  gemv<GATED, Out>(s, GemvArgs<Out>{out.ptr<Out>(), out.stride, in, w, bias, static_cast<int>(out.cols), {}}, sms);
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

namespace {
void require_fold_shapes(const char* op, const Tensor& x, const Tensor& normed, const Tensor& norm_w) {
  SAMBAY_CUDA_REQUIRE(x.dtype == DType::F32 && normed.dtype == DType::BF16 && norm_w.dtype == DType::F32 &&
                          normed.rows == x.rows && normed.cols == x.cols && norm_w.numel() == x.cols,
                      (std::string(op) + ": x, normed or norm_w mismatch").c_str());
}

// linear_residual() leaves x ⊙ norm_w in `normed` for these row counts, and rms_linear() expects it.
// One row only: with more, the squares' loads for every row would cost the multi-row GEMV registers
// (72 instead of 48 a thread at four rows: three blocks per SM instead of five), and the norm kernel
// is a smaller share of a step that streams the same weights for more tokens.
bool folds_norm(const Tensor& x) { return x.rows == 1; }

// rms_linear() and rms_linear_swiglu(): false where the default composition has to run.
template <bool GATED, class Out>
bool rms_gemv(cudaStream_t s, const Tensor& out, const Tensor& x, const Tensor& normed, float eps, const Tensor& w,
              int sms) {
  if (!folds_norm(x) || !gemv_vectorizable(normed, w, &x)) return false;
  FoldArgs fold;
  fold.x = x.ptr<float>();
  fold.x_stride = x.stride;
  fold.eps = eps;
  gemv<GATED, Out, Fold::kRmsIn>(s, GemvArgs<Out>{out.ptr<Out>(), out.stride, normed, w, nullptr,
                                                  static_cast<int>(out.cols), fold}, sms);
  return true;
}
}  // namespace

void CudaOps::linear_residual(const Tensor& x, const Tensor& in, const Tensor& w, const Tensor& normed,
                              const Tensor& norm_w) {
  require_fold_shapes("linear_residual", x, normed, norm_w);
  SAMBAY_CUDA_REQUIRE(in.cols == w.cols && in.rows == x.rows && w.rows == x.cols && in.dtype == DType::BF16 &&
                          w.dtype == DType::BF16,
                      "linear_residual: shape mismatch");
  if (!folds_norm(x)) return Ops::linear_residual(x, in, w, normed, norm_w);
  FoldArgs fold;
  fold.x = x.ptr<float>();
  fold.x_stride = x.stride;
  fold.scaled = normed.ptr<bf16>();
  fold.scaled_stride = normed.stride;
  fold.norm_w = norm_w.ptr<const float>();
  gemv<false, bf16, Fold::kResidual>(stream_, GemvArgs<bf16>{nullptr, 0, in, w, nullptr, static_cast<int>(w.rows), fold},
                                     props_.multiProcessorCount);
  SAMBAY_CUDA_LAUNCHED();
}

void CudaOps::rms_linear(const Tensor& out, const Tensor& x, const Tensor& normed, const Tensor& norm_w, float eps,
                         const Tensor& w) {
  require_fold_shapes("rms_linear", x, normed, norm_w);
  SAMBAY_CUDA_REQUIRE(w.cols == x.cols && out.rows == x.rows && out.cols == w.rows && w.dtype == DType::BF16 &&
                          (out.dtype == DType::BF16 || out.dtype == DType::F32),
                      "rms_linear: shape mismatch");
  const int sms = props_.multiProcessorCount;
  const bool fused = out.dtype == DType::BF16 ? rms_gemv<false, bf16>(stream_, out, x, normed, eps, w, sms)
                                              : rms_gemv<false, float>(stream_, out, x, normed, eps, w, sms);
  if (!fused) return Ops::rms_linear(out, x, normed, norm_w, eps, w);
  SAMBAY_CUDA_LAUNCHED();
}

void CudaOps::rms_linear_swiglu(const Tensor& out, const Tensor& x, const Tensor& normed, const Tensor& norm_w,
                                float eps, const Tensor& w) {
  require_fold_shapes("rms_linear_swiglu", x, normed, norm_w);
  SAMBAY_CUDA_REQUIRE(w.cols == x.cols && out.rows == x.rows && 2 * out.cols == w.rows && w.dtype == DType::BF16 &&
                          out.dtype == DType::BF16,
                      "rms_linear_swiglu: shape mismatch");
  if (!rms_gemv<true, bf16>(stream_, out, x, normed, eps, w, props_.multiProcessorCount))
    return Ops::rms_linear_swiglu(out, x, normed, norm_w, eps, w);
  SAMBAY_CUDA_LAUNCHED();
}

}  // namespace sambay
