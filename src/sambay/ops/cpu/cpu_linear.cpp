// out = in · wᵀ (+ bias) with float32 activations and weights in their stored dtype.
//
// Few input rows (decode): the weights are streamed once from memory and widened in registers; the
// cost is the weight bytes, so BF16 weights run twice as fast as F32 ones. Many input rows
// (prefill): blocks of weight rows are widened to float32 into a scratch buffer and multiplied
// with OpenBLAS sgemm, where the arithmetic dominates.
#include <cblas.h>
// GCC 12's AVX-512 headers trip its own uninitialized-value warnings (_mm512_setzero_ps internals).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>

#include "sambay/base/error.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "sambay/ops/cpu/cpu_util.h"

namespace sambay {
namespace {

constexpr int64_t kStreamingMaxRows = 16;  // input rows up to which weights are streamed
constexpr int kTokenGroup = 4;              // input rows sharing one pass over a weight row
constexpr int64_t kRowBlock = 16;           // weight rows per task (stay in L1/L2 across token groups)

enum class Isa { Scalar, Avx2, Avx512 };

Isa detect_isa() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return Isa::Avx512;
  // Every CPU with AVX2 and FMA also has F16C (clang cannot query it through this builtin).
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

template <DType WT>
inline float widen(const void* w, int64_t k) {
  const auto* p = static_cast<const uint16_t*>(w);
  if constexpr (WT == DType::F32) return static_cast<const float*>(w)[k];
  if constexpr (WT == DType::BF16) return bf16_to_f32(p[k]);
  if constexpr (WT == DType::F16) return f16_to_f32(p[k]);
}

// Scalar tail and fallback: acc[t] += sum_k w[k] * x[t][k] for k in [k0, K).
template <DType WT, int TT>
inline void dot_tail(const void* w, const float* const* x, int64_t k0, int64_t K, float* acc) {
  for (int64_t k = k0; k < K; ++k) {
    const float wk = widen<WT>(w, k);
    for (int t = 0; t < TT; ++t) acc[t] += wk * x[t][k];
  }
}

#if defined(__x86_64__)
template <DType WT>
__attribute__((target("avx512f,avx512bw"))) inline __m512 load16(const void* w, int64_t k) {
  if constexpr (WT == DType::F32) {
    return _mm512_loadu_ps(static_cast<const float*>(w) + k);
  } else {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(w) + k));
    if constexpr (WT == DType::BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    else return _mm512_cvtph_ps(h);
  }
}

template <DType WT, int TT>
__attribute__((target("avx512f,avx512bw"))) void dot_avx512(const void* w, const float* const* x, int64_t K,
                                                            float* result) {
  __m512 a0[TT], a1[TT];
  for (int t = 0; t < TT; ++t) a0[t] = a1[t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    const __m512 w0 = load16<WT>(w, k), w1 = load16<WT>(w, k + 16);
    for (int t = 0; t < TT; ++t) {
      a0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[t] + k), a0[t]);
      a1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x[t] + k + 16), a1[t]);
    }
  }
  for (; k + 16 <= K; k += 16) {
    const __m512 w0 = load16<WT>(w, k);
    for (int t = 0; t < TT; ++t) a0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x[t] + k), a0[t]);
  }
  for (int t = 0; t < TT; ++t) result[t] = _mm512_reduce_add_ps(_mm512_add_ps(a0[t], a1[t]));
  dot_tail<WT, TT>(w, x, k, K, result);
}

template <DType WT>
__attribute__((target("avx2,fma,f16c"))) inline __m256 load8(const void* w, int64_t k) {
  if constexpr (WT == DType::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(w) + k);
  } else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(w) + k));
    if constexpr (WT == DType::BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    else return _mm256_cvtph_ps(h);
  }
}

__attribute__((target("avx2,fma"))) inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

template <DType WT, int TT>
__attribute__((target("avx2,fma,f16c"))) void dot_avx2(const void* w, const float* const* x, int64_t K,
                                                       float* result) {
  __m256 a0[TT], a1[TT];
  for (int t = 0; t < TT; ++t) a0[t] = a1[t] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    const __m256 w0 = load8<WT>(w, k), w1 = load8<WT>(w, k + 8);
    for (int t = 0; t < TT; ++t) {
      a0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[t] + k), a0[t]);
      a1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[t] + k + 8), a1[t]);
    }
  }
  for (int t = 0; t < TT; ++t) result[t] = hsum256(_mm256_add_ps(a0[t], a1[t]));
  dot_tail<WT, TT>(w, x, k, K, result);
}
#endif

template <DType WT, int TT>
void dot_scalar(const void* w, const float* const* x, int64_t K, float* result) {
  for (int t = 0; t < TT; ++t) result[t] = 0;
  dot_tail<WT, TT>(w, x, 0, K, result);
}

using DotFn = void (*)(const void*, const float* const*, int64_t, float*);

template <DType WT, int TT>
DotFn pick_dot(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::Avx512) return dot_avx512<WT, TT>;
  if (isa == Isa::Avx2) return dot_avx2<WT, TT>;
#endif
  return dot_scalar<WT, TT>;
}

template <DType WT>
std::array<DotFn, kTokenGroup> dot_table(Isa isa) {
  return {pick_dot<WT, 1>(isa), pick_dot<WT, 2>(isa), pick_dot<WT, 3>(isa), pick_dot<WT, 4>(isa)};
}

void linear_streaming(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* bias) {
  static const Isa isa = detect_isa();
  static const auto bf16 = dot_table<DType::BF16>(isa);
  static const auto f16 = dot_table<DType::F16>(isa);
  static const auto f32 = dot_table<DType::F32>(isa);
  const auto& table = w.dtype == DType::BF16 ? bf16 : w.dtype == DType::F16 ? f16 : f32;

  const int64_t T = in.rows, N = w.rows, K = w.cols;
  const size_t elem = dtype_size(w.dtype);
  const float* b = bias ? bias->ptr<const float>() : nullptr;
  std::array<const float*, kStreamingMaxRows> x{};
  for (int64_t t = 0; t < T; ++t) x[t] = in.row<const float>(t);
  const int64_t blocks = (N + kRowBlock - 1) / kRowBlock;

#pragma omp parallel for schedule(static) if (T * N * K > kParallelWork)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t n_end = std::min(N, (blk + 1) * kRowBlock);
    for (int64_t t0 = 0; t0 < T; t0 += kTokenGroup) {
      const int tt = static_cast<int>(std::min<int64_t>(kTokenGroup, T - t0));
      for (int64_t n = blk * kRowBlock; n < n_end; ++n) {
        float r[kTokenGroup];
        table[tt - 1](static_cast<const char*>(w.data) + n * w.stride * elem, x.data() + t0, K, r);
        for (int t = 0; t < tt; ++t) out.row<float>(t0 + t)[n] = b ? r[t] + b[n] : r[t];
      }
    }
  }
}

}  // namespace

std::vector<float>& CpuOps::scratch(size_t n) {
  if (scratch_.size() < n) scratch_.resize(n);
  return scratch_;
}

void cpu_linear(CpuOps& ops, const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* bias) {
  SAMBAY_CHECK(in.cols == w.cols && out.rows == in.rows && out.cols == w.rows,
               "cpu linear: [{}, {}] · [{}, {}]ᵀ does not fit an output of [{}, {}]", in.rows, in.cols, w.rows, w.cols,
               out.rows, out.cols);
  SAMBAY_CHECK(in.dtype == DType::F32 && out.dtype == DType::F32, "cpu linear: activations must be F32");
  SAMBAY_CHECK(w.dtype == DType::BF16 || w.dtype == DType::F16 || w.dtype == DType::F32,
               "cpu linear: weights of dtype {} are not supported", dtype_name(w.dtype));
  SAMBAY_CHECK(!bias || (bias->cols == w.rows && bias->dtype == DType::F32), "cpu linear: bad bias");
  const int64_t T = in.rows, N = w.rows, K = w.cols;
  if (T == 0 || N == 0) return;
  if (K == 0) {
    for (int64_t t = 0; t < T; ++t)
      for (int64_t n = 0; n < N; ++n) out.row<float>(t)[n] = bias ? bias->ptr<const float>()[n] : 0.0f;
    return;
  }
  if (T <= kStreamingMaxRows) return linear_streaming(out, in, w, bias);

  if (w.dtype == DType::F32) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, N, K, 1.0f, in.ptr<const float>(), in.stride,
                w.ptr<const float>(), w.stride, 0.0f, out.ptr<float>(), out.stride);
  } else {
    // Widen up to ~16M weights (64 MB) at a time.
    const int64_t block = std::max<int64_t>(64, std::min<int64_t>(N, (int64_t{16} << 20) / K));
    std::lock_guard lock(ops.scratch_mutex_);
    float* wf = ops.scratch(static_cast<size_t>(block * K)).data();
    for (int64_t n0 = 0; n0 < N; n0 += block) {
      const int64_t nb = std::min(block, N - n0);
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < nb; ++i) widen_row(w, n0 + i, wf + i * K);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, nb, K, 1.0f, in.ptr<const float>(), in.stride, wf, K,
                  0.0f, out.ptr<float>() + n0, out.stride);
    }
  }
  if (bias) {
    const float* b = bias->ptr<const float>();
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t n = 0; n < N; ++n) out.row<float>(t)[n] += b[n];
  }
}

void CpuOps::linear(const Tensor& out, const Tensor& in, const Tensor& w, const Tensor* bias) {
  cpu_linear(*this, out, in, w, bias);
}

}  // namespace sambay
