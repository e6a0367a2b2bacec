#pragma once
// Kernel launches that may overlap the kernel before them (programmatic dependent launch, sm_90).
//
// A decode step is ~300 short kernels in a row; each would otherwise pay its launch and its first
// memory round trip with the GPU idle. A kernel launched with launch_overlapped() may start while
// the previous kernel in the stream is still running. Its contract (device side, cuda_kernels.cuh):
//   1. before grid_dependency_wait() it only reads weights (nothing any kernel writes while a
//      forward pass runs);
//   2. grid_dependency_wait() returns once the previous kernel has finished and its writes are
//      visible; since that kernel waited for its own predecessor, every earlier kernel has too;
//   3. after the wait it calls allow_dependent_launch(), so at most one kernel waits ahead of the
//      one running (the next one's blocks then hold SM slots only briefly).
// Activation buffers may therefore be reused between kernels exactly as with plain launches: every
// write happens after the wait, when all earlier readers are done.
#include <cuda_runtime.h>

#include <utility>

#include "sambay/ops/cuda/cuda_check.h"

namespace sambay::cuda {

// On by default on devices that support it (compute capability 9.0+); SAMBAY_OVERLAP=0 turns it off
// to measure what it buys. Set by CudaOps when it opens the device.
bool overlapped_launch_enabled();
void set_overlapped_launch(bool enabled);

template <class... Params, class... Args>
void launch_overlapped(cudaStream_t stream, dim3 grid, dim3 block, size_t shared_bytes, void (*kernel)(Params...),
                       Args&&... args) {
  cudaLaunchAttribute overlap{};
  overlap.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  overlap.val.programmaticStreamSerializationAllowed = overlapped_launch_enabled() ? 1 : 0;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  config.attrs = &overlap;
  config.numAttrs = 1;
  SAMBAY_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...));
}

}  // namespace sambay::cuda
