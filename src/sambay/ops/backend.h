#pragma once
// Chooses and creates a backend by name.
#include <memory>
#include <string>

#include "sambay/ops/ops.h"

namespace sambay {

// True when this build has a CUDA backend and a usable GPU.
bool cuda_available();

// "cpu", "cuda", or "" / "auto" (cuda when available, else cpu).
std::unique_ptr<Ops> make_backend(const std::string& device);

}  // namespace sambay
