#include "sambay/ops/ops.h"

#include "sambay/base/error.h"

namespace sambay {

void Ops::unsupported(const char* op) const {
  fail("op '{}' is not available on the {} backend yet", op, device() == Device::Cpu ? "CPU" : "CUDA");
}

}  // namespace sambay
