#include "sambay/ops/cuda/cuda_check.h"

#include "sambay/base/error.h"

namespace sambay::cuda {

void fail_cuda(const char* expr, cudaError_t err, const char* file, int line) {
  fail("cuda: {} failed: {} ({}:{})", expr, cudaGetErrorString(err), file, line);
}

void fail_cublas(const char* expr, cublasStatus_t err, const char* file, int line) {
  fail("cublas: {} failed: status {} ({}:{})", expr, static_cast<int>(err), file, line);
}

void fail_message(const char* message, const char* file, int line) { fail("cuda: {} ({}:{})", message, file, line); }

}  // namespace sambay::cuda
