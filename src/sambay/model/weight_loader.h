#pragma once
// Reads parameters from a WeightSource (validating names and shapes) and places them on a backend:
// large matrices in their stored dtype, vectors and small tensors as float32.
#include <string>
#include <vector>

#include "sambay/io/weight_source.h"
#include "sambay/ops/ops.h"

namespace sambay {

class WeightLoader {
 public:
  // Placed tensors are kept alive in `storage`.
  WeightLoader(WeightSource& source, Ops& ops, std::vector<OwnedTensor>& storage)
      : src_(source), ops_(ops), storage_(storage) {}

  // A large matrix in its stored dtype (F64 is narrowed to F32: no kernel reads doubles).
  Tensor matrix(const std::string& name, int64_t rows, int64_t cols);
  // Any tensor as float32 [rows, cols] (a fresh copy), optionally transformed element-wise.
  Tensor f32(const std::string& name, const std::vector<int64_t>& shape, int64_t rows, int64_t cols,
             float (*fn)(float) = nullptr);
  // A tensor's values as float32 on the host.
  std::vector<float> values(const std::string& name, const std::vector<int64_t>& shape);
  // Host float32 values placed on the backend as a [rows, cols] vector-like tensor.
  Tensor place(const std::vector<float>& v, int64_t rows, int64_t cols);

 private:
  WeightSource& src_;
  Ops& ops_;
  std::vector<OwnedTensor>& storage_;
};

}  // namespace sambay
