// Google Benchmark of the CPU linear op at the released model's decode and prefill shapes.
// Reports achieved weight bandwidth (decode) and FLOP rate (prefill).
#include <benchmark/benchmark.h>

#include <vector>

#include "sambay/base/half.h"
#include "sambay/base/random.h"
#include "sambay/ops/cpu/cpu_ops.h"

namespace {

using namespace sambay;

void BM_Linear(benchmark::State& state) {
  const int64_t T = state.range(0), N = state.range(1), K = state.range(2);
  CpuOps ops;
  OwnedTensor w = ops.empty(N, K, DType::BF16);
  OwnedTensor x = ops.empty(T, K, DType::F32);
  OwnedTensor y = ops.empty(T, N, DType::F32);
  for (int64_t i = 0; i < N * K; ++i) w->ptr<uint16_t>()[i] = f32_to_bf16(random_unit(1, 2, i) - 0.5f);
  for (int64_t i = 0; i < T * K; ++i) x->ptr<float>()[i] = random_unit(1, 3, i) - 0.5f;
  for (auto _ : state) {
    ops.linear(*y, *x, *w, nullptr);
    benchmark::DoNotOptimize(y->data);
  }
  state.counters["weight_GB/s"] =
      benchmark::Counter(static_cast<double>(N * K * 2), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * T * N * K, benchmark::Counter::kIsIterationInvariantRate);
}

// T (input rows), N (out features), K (in features): MLP fc1, fc2, Mamba in_proj, LM head.
BENCHMARK(BM_Linear)
    ->Args({1, 20480, 2560})
    ->Args({1, 2560, 10240})
    ->Args({4, 20480, 2560})
    ->Args({16, 20480, 2560})
    ->Args({128, 20480, 2560})
    ->Args({1, 200064, 2560})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
