#include "sambay/ops/backend.h"

#include "sambay/base/error.h"
#include "sambay/ops/cpu/cpu_ops.h"
#ifdef SAMBAY_HAVE_CUDA
#include "sambay/ops/cuda/cuda_ops.h"
#endif

namespace sambay {

bool cuda_available() {
#ifdef SAMBAY_HAVE_CUDA
  return cuda_device_usable();
#else
  return false;
#endif
}

std::unique_ptr<Ops> make_backend(const std::string& device) {
  const bool automatic = device.empty() || device == "auto";
  if (device == "cpu" || (automatic && !cuda_available())) return std::make_unique<CpuOps>();
  if (device != "cuda" && !automatic) fail("--device '{}': expected cpu, cuda or auto", device);
#ifdef SAMBAY_HAVE_CUDA
  if (!cuda_available()) fail("--device cuda: no usable CUDA device (driver missing, no GPU, or kernels not built for it)");
  return std::make_unique<CudaOps>();
#else
  fail("--device cuda: this build has no CUDA backend (configure with -DSAMBAY_CUDA=ON)");
#endif
}

}  // namespace sambay
