#pragma once
#include <string>

namespace sambay {

class CudaOps;

struct DeviceCeilings {
  std::string name;
  double copy_bytes_per_s = 0;   // device-to-device copy, bytes read + written
  double gemm_flops_per_s = 0;   // BF16 GEMM 8192^3 through cuBLAS
};

DeviceCeilings measure_device_ceilings(CudaOps& ops);

// Starts / stops the range that an external profiler started with --profile-from-start off records.
void cuda_profiler_range(bool start);

}  // namespace sambay
