#pragma once
// Error checks for CUDA runtime and cuBLAS calls. Kept free of fmt so that .cu files can include it.
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace sambay::cuda {

[[noreturn]] void fail_cuda(const char* expr, cudaError_t err, const char* file, int line);
[[noreturn]] void fail_cublas(const char* expr, cublasStatus_t err, const char* file, int line);
[[noreturn]] void fail_message(const char* message, const char* file, int line);

}  // namespace sambay::cuda

#define SAMBAY_CUDA_CHECK(expr)                                                              \
  do {                                                                                       \
    cudaError_t sambay_err_ = (expr);                                                        \
    if (sambay_err_ != cudaSuccess) ::sambay::cuda::fail_cuda(#expr, sambay_err_, __FILE__, __LINE__); \
  } while (0)

#define SAMBAY_CUBLAS_CHECK(expr)                                                                  \
  do {                                                                                             \
    cublasStatus_t sambay_st_ = (expr);                                                            \
    if (sambay_st_ != CUBLAS_STATUS_SUCCESS) ::sambay::cuda::fail_cublas(#expr, sambay_st_, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: reports a bad launch configuration at once.
#define SAMBAY_CUDA_LAUNCHED() SAMBAY_CUDA_CHECK(cudaGetLastError())

#define SAMBAY_CUDA_REQUIRE(cond, message)                                    \
  do {                                                                        \
    if (!(cond)) ::sambay::cuda::fail_message(message, __FILE__, __LINE__);   \
  } while (0)
