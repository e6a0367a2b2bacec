#include "sambay/ops/backend.h"

#include "sambay/base/error.h"
#include "sambay/ops/cpu/cpu_ops.h"

namespace sambay {

bool cuda_available() { return false; }

std::unique_ptr<Ops> make_backend(const std::string& device) {
  if (device == "cpu" || ((device.empty() || device == "auto") && !cuda_available())) return std::make_unique<CpuOps>();
  if (device == "cuda") fail("--device cuda: this build has no CUDA backend");
  fail("--device '{}': expected cpu or cuda", device);
}

}  // namespace sambay
