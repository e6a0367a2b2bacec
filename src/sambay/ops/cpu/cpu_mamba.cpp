// Mamba-1 token mixing on the CPU: the causal depthwise conv and the selective scan, each continuing
// from the sequence's state and leaving the updated state behind. Channels are independent, so the
// work is split into (chunk, channel block) tasks that walk their tokens in order.
#include <algorithm>
#include <vector>

#include "sambay/base/error.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "sambay/ops/cpu/cpu_util.h"

namespace sambay {
namespace {
constexpr int64_t kConvBlock = 64;
constexpr int64_t kScanBlock = 16;
}  // namespace

void CpuOps::mamba_conv(const Tensor& out, const Tensor& xs, const Tensor& w, const Tensor& b,
                        const MambaStateRef& state, std::span<const SeqChunk> chunks) {
  const int64_t E = xs.cols, Kc = state.d_conv, H = Kc - 1;
  SAMBAY_CHECK(out.cols == E && out.rows == xs.rows && w.rows == E && w.cols == Kc && b.cols == E &&
                   state.conv.cols == E * H,
               "cpu mamba_conv: shape mismatch");
  const int64_t blocks = (E + kConvBlock - 1) / kConvBlock;
  const int64_t tasks = static_cast<int64_t>(chunks.size()) * blocks;
  const float* wp = w.ptr<const float>();
  const float* bp = b.ptr<const float>();

  const int64_t rows = static_cast<int64_t>(xs.rows);
#pragma omp parallel for schedule(static) if (rows * E * Kc > kParallelWork)
  for (int64_t task = 0; task < tasks; ++task) {
    const SeqChunk& c = chunks[task / blocks];
    const int64_t e0 = (task % blocks) * kConvBlock, e1 = std::min(E, e0 + kConvBlock);
    float* conv_state = state.conv.row<float>(c.slot);
    // hist[j][e - e0] = input at t - H + j (oldest first)
    std::vector<float> hist(static_cast<size_t>(std::max<int64_t>(H, 1) * kConvBlock));
    for (int64_t e = e0; e < e1; ++e)
      for (int64_t j = 0; j < H; ++j) hist[j * kConvBlock + (e - e0)] = conv_state[e * H + j];

    for (int64_t t = 0; t < c.len; ++t) {
      const float* x = xs.row<const float>(c.row0 + t);
      float* y = out.row<float>(c.row0 + t);
      for (int64_t e = e0; e < e1; ++e) {
        const float* we = wp + e * Kc;
        float acc = bp[e];
        for (int64_t j = 0; j < H; ++j) acc += we[j] * hist[j * kConvBlock + (e - e0)];
        acc += we[H] * x[e];
        y[e] = silu(acc);
        for (int64_t j = 0; j + 1 < H; ++j) hist[j * kConvBlock + (e - e0)] = hist[(j + 1) * kConvBlock + (e - e0)];
        if (H > 0) hist[(H - 1) * kConvBlock + (e - e0)] = x[e];
      }
    }
    for (int64_t e = e0; e < e1; ++e)
      for (int64_t j = 0; j < H; ++j) conv_state[e * H + j] = hist[j * kConvBlock + (e - e0)];
  }
}

void CpuOps::mamba_scan(const Tensor& y, const Tensor& x, const Tensor& dt, const Tensor& A, const Tensor& B,
                        const Tensor& C, const Tensor& D, const Tensor& dt_bias, const Tensor* z,
                        const MambaStateRef& state, std::span<const SeqChunk> chunks) {
  const int64_t E = x.cols, N = state.d_state;
  SAMBAY_CHECK(y.cols == E && dt.cols == E && A.rows == E && A.cols == N && B.cols == N && C.cols == N &&
                   D.cols == E && dt_bias.cols == E && state.ssm.cols == E * N && (!z || z->cols == E),
               "cpu mamba_scan: shape mismatch");
  const int64_t blocks = (E + kScanBlock - 1) / kScanBlock;
  const int64_t tasks = static_cast<int64_t>(chunks.size()) * blocks;
  const float* Ap = A.ptr<const float>();
  const float* Dp = D.ptr<const float>();
  const float* bias = dt_bias.ptr<const float>();

#pragma omp parallel for schedule(static) if (x.rows * E * N > kParallelWork / 4)
  for (int64_t task = 0; task < tasks; ++task) {
    const SeqChunk& c = chunks[task / blocks];
    const int64_t e0 = (task % blocks) * kScanBlock, e1 = std::min(E, e0 + kScanBlock);
    float* s = state.ssm.row<float>(c.slot);  // [E, N], updated in place
    for (int64_t t = 0; t < c.len; ++t) {
      const int64_t r = c.row0 + t;
      const float* xr = x.row<const float>(r);
      const float* dtr = dt.row<const float>(r);
      const float* Br = B.row<const float>(r);
      const float* Cr = C.row<const float>(r);
      float* yr = y.row<float>(r);
      for (int64_t e = e0; e < e1; ++e) {
        const float delta = softplus(dtr[e] + bias[e]);
        const float dx = delta * xr[e];
        float* se = s + e * N;
        const float* Ae = Ap + e * N;
        float acc = 0;
        for (int64_t n = 0; n < N; ++n) {
          se[n] = std::exp(delta * Ae[n]) * se[n] + dx * Br[n];
          acc += se[n] * Cr[n];
        }
        float out = acc + Dp[e] * xr[e];
        if (z) out *= silu(z->row<const float>(r)[e]);
        yr[e] = out;
      }
    }
  }
}

}  // namespace sambay
