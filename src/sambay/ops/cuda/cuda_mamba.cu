// Mamba-1 token mixing on the GPU: causal depthwise conv and selective scan per (sequence, channel),
// each continuing from and updating that sequence's float32 state.
//
// Prefill of long chunks scans in parallel over time segments: pass 1 scans every segment from a
// zero state and records its end state and total decay; pass 2 carries the true start state across
// segments (a short sequential loop per channel); pass 3 rescans each segment from its true start
// state and writes the outputs. Decode and other short chunks use one sequential pass, four lanes per
// channel when the state size allows (scan_step_kernel), else one thread per channel.
#include <algorithm>

#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_kernels.cuh"
#include "sambay/ops/cuda/cuda_launch.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {
namespace cuda {
namespace {

constexpr int kMaxConv = 8;
constexpr int kThreads = 128;
constexpr int kSegment = 128;  // tokens per parallel scan segment
constexpr int kStepMaxLen = 16;  // chunks up to this long take scan_step_kernel

__global__ void conv_kernel(bf16* out, int64_t out_stride, const bf16* xs, int64_t xs_stride, const float* w,
                            const float* b, float* state, int64_t state_stride, const SeqChunk* chunks, int E,
                            int Kc) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  const int H = Kc - 1;
  float hist[kMaxConv - 1], wk[kMaxConv];
  // The weights first: they do not depend on the kernels before this one (cuda_launch.h).
#pragma unroll
  for (int k = 0; k < kMaxConv; ++k) wk[k] = k < Kc && e < E ? w[e * Kc + k] : 0.0f;
  const float bias = e < E ? b[e] : 0.0f;
  enter_dependent_kernel();
  if (e >= E) return;
  const SeqChunk c = chunks[blockIdx.y];
  float* st = state + c.slot * state_stride + static_cast<int64_t>(e) * H;
#pragma unroll
  for (int j = 0; j < kMaxConv - 1; ++j) hist[j] = j < H ? st[j] : 0.0f;
  for (int t = 0; t < c.len; ++t) {
    const int64_t r = c.row0 + t;
    const float x = to_float(xs[r * xs_stride + e]);
    float acc = bias;
#pragma unroll
    for (int j = 0; j < kMaxConv - 1; ++j)
      if (j < H) acc = fmaf(wk[j], hist[j], acc);
    acc = fmaf(wk[H], x, acc);
    out[r * out_stride + e] = from_float<bf16>(silu(acc));
#pragma unroll
    for (int j = 0; j < kMaxConv - 2; ++j)
      if (j + 1 < H) hist[j] = hist[j + 1];
    if (H > 0) {
#pragma unroll
      for (int j = 0; j < kMaxConv - 1; ++j)
        if (j == H - 1) hist[j] = x;
    }
  }
#pragma unroll
  for (int j = 0; j < kMaxConv - 1; ++j)
    if (j < H) st[j] = hist[j];
}

// Prompts: one thread per (token, channel); inputs before the chunk come from the conv state.
__global__ void conv_tokens_kernel(bf16* out, int64_t out_stride, const bf16* xs, int64_t xs_stride, const float* w,
                                   const float* b, const float* state, int64_t state_stride, const SeqChunk* chunks,
                                   int num_chunks, int E, int Kc) {
  const int row = blockIdx.y;
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= E) return;
  const SeqChunk c = chunks[find_chunk(chunks, num_chunks, row)];
  const int t = row - c.row0, H = Kc - 1;
  const float* st = state + c.slot * state_stride + static_cast<int64_t>(e) * H;
  float acc = b[e];
  for (int k = 0; k < Kc; ++k) {
    const int i = t - H + k;  // input index within the chunk; negative: from the state
    const float x = i >= 0 ? to_float(xs[(c.row0 + i) * xs_stride + e]) : st[H + i];
    acc = fmaf(w[e * Kc + k], x, acc);
  }
  out[static_cast<int64_t>(row) * out_stride + e] = from_float<bf16>(silu(acc));
}

// After conv_tokens_kernel: the state becomes the chunk's last d_conv - 1 inputs.
__global__ void conv_state_kernel(const bf16* xs, int64_t xs_stride, float* state, int64_t state_stride,
                                  const SeqChunk* chunks, int E, int Kc) {
  const SeqChunk c = chunks[blockIdx.y];
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= E) return;
  const int H = Kc - 1;
  float* st = state + c.slot * state_stride + static_cast<int64_t>(e) * H;
  for (int j = 0; j < H; ++j) {  // ascending: st[j + len] is read before it is overwritten
    const int i = c.len - H + j;
    st[j] = i >= 0 ? to_float(xs[(c.row0 + i) * xs_stride + e]) : st[j + c.len];
  }
}

struct ScanArgs {
  bf16* y;
  int64_t y_stride;
  const bf16 *x, *dt, *B, *C, *z;
  int64_t x_stride, dt_stride, B_stride, C_stride, z_stride;
  const float *A, *D, *dt_bias;
  float* state;
  int64_t state_stride;
  const SeqChunk* chunks;
  int E;
  // Parallel segments: per (chunk, segment, channel) end state and decay, [segments, E, N] floats.
  float* seg_state;
  float* seg_decay;
  int segments_per_chunk;
};

// One token's inputs of one channel.
template <int N>
struct ScanInputs {
  float dt, x, z, B[N], C[N];
};

template <int N>
__device__ __forceinline__ void load_inputs(const ScanArgs& a, int64_t r, int e, ScanInputs<N>& in) {
  in.dt = to_float(a.dt[r * a.dt_stride + e]);
  in.x = to_float(a.x[r * a.x_stride + e]);
  in.z = a.z ? to_float(a.z[r * a.z_stride + e]) : 0.0f;
  const bf16* Br = a.B + r * a.B_stride;
  const bf16* Cr = a.C + r * a.C_stride;
#pragma unroll
  for (int n = 0; n < N; ++n) {
    in.B[n] = to_float(Br[n]);
    in.C[n] = to_float(Cr[n]);
  }
}

// Scans tokens [t0, t1) of chunk c for channel e from state s (in registers), optionally writing y.
// The next token's inputs are loaded while the current one is computed: the recurrence itself is
// cheap, the loads' latency is what a sequential scan waits on.
template <int N>
__device__ __forceinline__ void scan_range(const ScanArgs& a, const SeqChunk& c, int e, int t0, int t1, float* s,
                                           float* decay, bool write_y) {
  // exp(delta A) = 2^(delta A log2(e)): A is pre-scaled so each state costs one ex2 and one multiply.
  float A2[N];
#pragma unroll
  for (int n = 0; n < N; ++n) A2[n] = a.A[static_cast<int64_t>(e) * N + n] * 1.4426950408889634f;
  const float D = a.D[e], bias = a.dt_bias[e];
  float dsum = 0.0f;
  ScanInputs<N> cur, next;
  if (t0 < t1) load_inputs<N>(a, c.row0 + t0, e, cur);
  for (int t = t0; t < t1; ++t) {
    if (t + 1 < t1) load_inputs<N>(a, c.row0 + t + 1, e, next);
    const float delta = softplus_fast(cur.dt + bias);
    const float dx = delta * cur.x;
    float acc = 0.0f;
#pragma unroll
    for (int n = 0; n < N; ++n) {
      s[n] = fmaf(exp2_fast(delta * A2[n]), s[n], dx * cur.B[n]);
      acc = fmaf(s[n], cur.C[n], acc);
    }
    dsum += delta;
    if (write_y) {
      float out = acc + D * cur.x;
      if (a.z) out *= silu(cur.z);
      a.y[(c.row0 + t) * a.y_stride + e] = from_float<bf16>(out);
    }
    cur = next;
  }
  if (decay) {
#pragma unroll
    for (int n = 0; n < N; ++n) decay[n] = exp2_fast(dsum * A2[n]);  // prod_t exp(delta_t A) = exp(A sum_t delta_t)
  }
}

// One sequential pass per (chunk, channel).
template <int N>
__global__ void scan_kernel(ScanArgs a) {
  enter_dependent_kernel();
  const SeqChunk c = a.chunks[blockIdx.y];
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= a.E) return;
  float* st = a.state + c.slot * a.state_stride + static_cast<int64_t>(e) * N;
  float s[N];
#pragma unroll
  for (int n = 0; n < N; ++n) s[n] = st[n];
  scan_range<N>(a, c, e, 0, c.len, s, nullptr, true);
#pragma unroll
  for (int n = 0; n < N; ++n) st[n] = s[n];
}

// Decode and other short chunks, for N a multiple of 4: a channel's N states are spread over 4
// neighbouring lanes, so the warp loads and stores the state in contiguous runs (one thread per
// channel reads N words 4N bytes apart from its neighbour's: ~8x the cache transactions), and each
// lane computes a quarter of the exponentials. y sums the lanes' parts with two shuffles.
template <int N>
__global__ void __launch_bounds__(kThreads) scan_step_kernel(ScanArgs a) {
  constexpr int kLanes = 4, P = N / kLanes;  // lanes per channel, states per lane
  const int id = blockIdx.x * blockDim.x + threadIdx.x;
  const int q = id % kLanes;
  const bool active = id / kLanes < a.E;
  const int e = active ? id / kLanes : a.E - 1;  // idle lanes shadow the last channel: shuffles need every lane
  // A, D and the dt bias are weights: loaded before waiting for the previous kernel (cuda_launch.h).
  float A2[P];
#pragma unroll
  for (int p = 0; p < P; ++p) A2[p] = a.A[static_cast<int64_t>(e) * N + q * P + p] * 1.4426950408889634f;
  const float D = a.D[e], bias = a.dt_bias[e];
  enter_dependent_kernel();

  const SeqChunk c = a.chunks[blockIdx.y];
  float* st = a.state + c.slot * a.state_stride + static_cast<int64_t>(e) * N + q * P;
  float s[P];
#pragma unroll
  for (int p = 0; p < P; ++p) s[p] = st[p];
  for (int t = 0; t < c.len; ++t) {
    const int64_t r = c.row0 + t;
    const float dt = to_float(a.dt[r * a.dt_stride + e]), x = to_float(a.x[r * a.x_stride + e]);
    const float z = a.z ? to_float(a.z[r * a.z_stride + e]) : 0.0f;
    const bf16* Br = a.B + r * a.B_stride + q * P;
    const bf16* Cr = a.C + r * a.C_stride + q * P;
    const float delta = softplus_fast(dt + bias), dx = delta * x;
    float acc = 0.0f;
#pragma unroll
    for (int p = 0; p < P; ++p) {
      s[p] = fmaf(exp2_fast(delta * A2[p]), s[p], dx * to_float(Br[p]));
      acc = fmaf(s[p], to_float(Cr[p]), acc);
    }
    acc += __shfl_xor_sync(0xffffffffu, acc, 1);
    acc += __shfl_xor_sync(0xffffffffu, acc, 2);
    if (active && q == 0) {
      float out = acc + D * x;
      if (a.z) out *= silu(z);
      a.y[r * a.y_stride + e] = from_float<bf16>(out);
    }
  }
  if (active) {
#pragma unroll
    for (int p = 0; p < P; ++p) st[p] = s[p];
  }
}

// Pass 1: every segment from a zero state (grid.z = segment).
template <int N>
__global__ void scan_segments_kernel(ScanArgs a) {
  const SeqChunk c = a.chunks[blockIdx.y];
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  const int seg = blockIdx.z;
  const int t0 = seg * kSegment, t1 = min(c.len, t0 + kSegment);
  if (e >= a.E || t0 >= c.len) return;
  float s[N], decay[N];
#pragma unroll
  for (int n = 0; n < N; ++n) s[n] = 0.0f;
  scan_range<N>(a, c, e, t0, t1, s, decay, false);
  const int64_t base = ((static_cast<int64_t>(blockIdx.y) * a.segments_per_chunk + seg) * a.E + e) * N;
#pragma unroll
  for (int n = 0; n < N; ++n) {
    a.seg_state[base + n] = s[n];
    a.seg_decay[base + n] = decay[n];
  }
}

// Pass 2: start state of each segment = decay(prev) * start(prev) + end(prev); the last one is the
// sequence's new state. seg_state[seg] is replaced by the start state of segment seg. One thread
// per (channel, state): the recurrence is independent per state, and the loads are coalesced.
template <int N>
__global__ void scan_carry_kernel(ScanArgs a) {
  const SeqChunk c = a.chunks[blockIdx.y];
  const int64_t en = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;  // e * N + n
  if (en >= static_cast<int64_t>(a.E) * N) return;
  float* st = a.state + c.slot * a.state_stride + en;
  float s = *st;
  const int segments = (c.len + kSegment - 1) / kSegment;
  const int64_t stride = static_cast<int64_t>(a.E) * N;
  const int64_t base = static_cast<int64_t>(blockIdx.y) * a.segments_per_chunk * stride + en;
  // Loads of several segments are issued together; only the multiply-add chain is serial.
  constexpr int kBatch = 8;
  for (int seg0 = 0; seg0 < segments; seg0 += kBatch) {
    float end[kBatch], dec[kBatch];
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const bool ok = seg0 + b < segments;
      end[b] = ok ? a.seg_state[base + (seg0 + b) * stride] : 0.0f;
      dec[b] = ok ? a.seg_decay[base + (seg0 + b) * stride] : 1.0f;
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      if (seg0 + b < segments) a.seg_state[base + (seg0 + b) * stride] = s;
      s = dec[b] * s + end[b];
    }
  }
  *st = s;
}

// Pass 3: rescan each segment from its true start state, writing y.
template <int N>
__global__ void scan_output_kernel(ScanArgs a) {
  const SeqChunk c = a.chunks[blockIdx.y];
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  const int seg = blockIdx.z;
  const int t0 = seg * kSegment, t1 = min(c.len, t0 + kSegment);
  if (e >= a.E || t0 >= c.len) return;
  const int64_t base = ((static_cast<int64_t>(blockIdx.y) * a.segments_per_chunk + seg) * a.E + e) * N;
  float s[N];
#pragma unroll
  for (int n = 0; n < N; ++n) s[n] = a.seg_state[base + n];
  scan_range<N>(a, c, e, t0, t1, s, nullptr, true);
}

template <int N>
void launch_scan(CudaOps& ops, ScanArgs a, int chunks, int max_len) {
  const dim3 grid(blocks_for(a.E, kThreads), chunks);
  cudaStream_t s = ops.stream();
  const int segments = (max_len + kSegment - 1) / kSegment;
  // Parallel segments pay off when one pass would leave most of the GPU idle.
  const bool parallel = segments >= 4 && static_cast<int64_t>(grid.x) * chunks < 4 * ops.properties().multiProcessorCount;
  if (!parallel) {
    if constexpr (N % 4 == 0) {
      if (max_len <= kStepMaxLen) {
        const dim3 step_grid(blocks_for(static_cast<int64_t>(a.E) * 4, kThreads), chunks);
        launch_overlapped(s, step_grid, dim3(kThreads), 0, scan_step_kernel<N>, a);
        return;
      }
    }
    launch_overlapped(s, grid, dim3(kThreads), 0, scan_kernel<N>, a);
    return;
  }
  const int64_t floats = static_cast<int64_t>(chunks) * segments * a.E * N;
  OwnedTensor seg_state = ops.empty(1, floats, DType::F32), seg_decay = ops.empty(1, floats, DType::F32);
  a.seg_state = seg_state->ptr<float>();
  a.seg_decay = seg_decay->ptr<float>();
  a.segments_per_chunk = segments;
  const dim3 seg_grid(grid.x, chunks, segments);
  scan_segments_kernel<N><<<seg_grid, kThreads, 0, s>>>(a);
  SAMBAY_CUDA_LAUNCHED();
  scan_carry_kernel<N><<<dim3(blocks_for(static_cast<int64_t>(a.E) * N, 256), chunks), 256, 0, s>>>(a);
  SAMBAY_CUDA_LAUNCHED();
  scan_output_kernel<N><<<seg_grid, kThreads, 0, s>>>(a);
  SAMBAY_CUDA_LAUNCHED();
}

}  // namespace
}  // namespace cuda

using namespace cuda;

void CudaOps::mamba_conv(const Tensor& out, const Tensor& xs, const Tensor& w, const Tensor& b,
                         const MambaStateRef& state, std::span<const SeqChunk> chunks) {
  const int E = static_cast<int>(xs.cols), Kc = static_cast<int>(state.d_conv);
  SAMBAY_CUDA_REQUIRE(Kc >= 1 && Kc <= kMaxConv, "mamba_conv: d_conv must be 1..8 on CUDA");
  SAMBAY_CUDA_REQUIRE(out.dtype == DType::BF16 && xs.dtype == DType::BF16 && w.cols == Kc, "mamba_conv: bad operands");
  if (chunks.empty()) return;
  int max_len = 0;
  for (const SeqChunk& c : chunks) max_len = std::max(max_len, c.len);
  const dim3 grid(blocks_for(E, kThreads), static_cast<unsigned>(chunks.size()));
  const SeqChunk* d_chunks = device_chunks(chunks);
  if (max_len <= 8) {  // decode: one short sequential pass per channel
    launch_overlapped(stream_, grid, dim3(kThreads), 0, conv_kernel, out.ptr<bf16>(), out.stride, xs.ptr<const bf16>(),
                      xs.stride, w.ptr<const float>(), b.ptr<const float>(), state.conv.ptr<float>(),
                      state.conv.stride, d_chunks, E, Kc);
    return;
  }
  const dim3 tokens(blocks_for(E, kThreads), static_cast<unsigned>(xs.rows));
  conv_tokens_kernel<<<tokens, kThreads, 0, stream_>>>(out.ptr<bf16>(), out.stride, xs.ptr<const bf16>(), xs.stride,
                                                       w.ptr<const float>(), b.ptr<const float>(),
                                                       state.conv.ptr<const float>(), state.conv.stride, d_chunks,
                                                       static_cast<int>(chunks.size()), E, Kc);
  SAMBAY_CUDA_LAUNCHED();
  conv_state_kernel<<<grid, kThreads, 0, stream_>>>(xs.ptr<const bf16>(), xs.stride, state.conv.ptr<float>(),
                                                    state.conv.stride, d_chunks, E, Kc);
  SAMBAY_CUDA_LAUNCHED();
}

void CudaOps::mamba_scan(const Tensor& y, const Tensor& x, const Tensor& dt, const Tensor& A, const Tensor& B,
                         const Tensor& C, const Tensor& D, const Tensor& dt_bias, const Tensor* z,
                         const MambaStateRef& state, std::span<const SeqChunk> chunks) {
  SAMBAY_CUDA_REQUIRE(y.dtype == DType::BF16 && x.dtype == DType::BF16 && dt.dtype == DType::BF16 &&
                          B.dtype == DType::BF16 && C.dtype == DType::BF16 && A.dtype == DType::F32,
                      "mamba_scan: bad operand dtypes");
  if (chunks.empty()) return;
  ScanArgs a{};
  a.y = y.ptr<bf16>();
  a.y_stride = y.stride;
  a.x = x.ptr<const bf16>();
  a.x_stride = x.stride;
  a.dt = dt.ptr<const bf16>();
  a.dt_stride = dt.stride;
  a.B = B.ptr<const bf16>();
  a.B_stride = B.stride;
  a.C = C.ptr<const bf16>();
  a.C_stride = C.stride;
  a.z = z ? z->ptr<const bf16>() : nullptr;
  a.z_stride = z ? z->stride : 0;
  a.A = A.ptr<const float>();
  a.D = D.ptr<const float>();
  a.dt_bias = dt_bias.ptr<const float>();
  a.state = state.ssm.ptr<float>();
  a.state_stride = state.ssm.stride;
  a.chunks = device_chunks(chunks);
  a.E = static_cast<int>(x.cols);
  int max_len = 0;
  for (const SeqChunk& c : chunks) max_len = std::max(max_len, c.len);
  const int n = static_cast<int>(chunks.size());
  switch (state.d_state) {
    case 1: return launch_scan<1>(*this, a, n, max_len);
    case 2: return launch_scan<2>(*this, a, n, max_len);
    case 4: return launch_scan<4>(*this, a, n, max_len);
    case 8: return launch_scan<8>(*this, a, n, max_len);
    case 16: return launch_scan<16>(*this, a, n, max_len);
    case 32: return launch_scan<32>(*this, a, n, max_len);
    case 64: return launch_scan<64>(*this, a, n, max_len);
    default: SAMBAY_CUDA_REQUIRE(false, "mamba_scan: d_state must be 1, 2, 4, 8, 16, 32 or 64 on CUDA");
  }
}

}  // namespace sambay
