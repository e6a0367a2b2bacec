// Measures the two ceilings benchmark results are reported against: device memory bandwidth (a
// large device-to-device copy, bytes read + written) and dense BF16 GEMM throughput (cuBLAS).
#include <cuda_bf16.h>
#include <cuda_profiler_api.h>

#include <algorithm>
#include <vector>

#include "sambay/ops/cuda/cuda_check.h"
#include "sambay/ops/cuda/cuda_ceilings.h"
#include "sambay/ops/cuda/cuda_ops.h"

namespace sambay {
namespace {

__global__ void fill_kernel(__nv_bfloat16* p, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    p[i] = __float2bfloat16(static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f);  // not zeros
}

template <class F>
float median_ms(cudaStream_t s, int reps, F&& f) {
  cudaEvent_t a, b;
  SAMBAY_CUDA_CHECK(cudaEventCreate(&a));
  SAMBAY_CUDA_CHECK(cudaEventCreate(&b));
  f();  // warm-up
  std::vector<float> ms;
  for (int i = 0; i < reps; ++i) {
    SAMBAY_CUDA_CHECK(cudaEventRecord(a, s));
    f();
    SAMBAY_CUDA_CHECK(cudaEventRecord(b, s));
    SAMBAY_CUDA_CHECK(cudaEventSynchronize(b));
    float t = 0;
    SAMBAY_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

DeviceCeilings measure_device_ceilings(CudaOps& ops) {
  DeviceCeilings c;
  c.name = ops.properties().name;
  cudaStream_t s = ops.stream();
  {
    const int64_t bytes = int64_t{2} << 30;
    OwnedTensor src = ops.empty(1, bytes / 2, DType::BF16), dst = ops.empty(1, bytes / 2, DType::BF16);
    fill_kernel<<<1024, 256, 0, s>>>(src->ptr<__nv_bfloat16>(), bytes / 2);
    SAMBAY_CUDA_LAUNCHED();
    const float ms = median_ms(s, 10, [&] { SAMBAY_CUDA_CHECK(cudaMemcpyAsync(dst->data, src->data, bytes, cudaMemcpyDeviceToDevice, s)); });
    c.copy_bytes_per_s = 2.0 * bytes / (ms * 1e-3);
  }
  {
    const int n = 8192;
    OwnedTensor a = ops.empty(n, n, DType::BF16), b = ops.empty(n, n, DType::BF16), d = ops.empty(n, n, DType::BF16);
    fill_kernel<<<1024, 256, 0, s>>>(a->ptr<__nv_bfloat16>(), int64_t{n} * n);
    fill_kernel<<<1024, 256, 0, s>>>(b->ptr<__nv_bfloat16>(), int64_t{n} * n);
    SAMBAY_CUDA_LAUNCHED();
    const float one = 1, zero = 0;
    const float ms = median_ms(s, 10, [&] {
      SAMBAY_CUBLAS_CHECK(cublasGemmEx(ops.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, a->data, CUDA_R_16BF, n,
                                       b->data, CUDA_R_16BF, n, &zero, d->data, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                                       CUBLAS_GEMM_DEFAULT));
    });
    c.gemm_flops_per_s = 2.0 * n * n * static_cast<double>(n) / (ms * 1e-3);
  }
  ops.synchronize();
  return c;
}

void cuda_profiler_range(bool start) {
  if (start) SAMBAY_CUDA_CHECK(cudaProfilerStart());
  else SAMBAY_CUDA_CHECK(cudaProfilerStop());
}

}  // namespace sambay
