#pragma once
// Where a model's parameters come from: a checkpoint on disk, or seeded random "dummy" values at the
// checkpoint's shapes. The model asks for each tensor by its checkpoint name and expected shape.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sambay/base/dtype.h"

namespace sambay {

class Checkpoint;

// A host tensor in its stored dtype. `data` stays valid as long as the source lives.
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::string origin;  // "file.safetensors: name" for messages
};

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // The tensor `name`; throws an Error naming it when it is missing, has another shape, or is not a
  // floating-point tensor.
  virtual HostTensor get(const std::string& name, const std::vector<int64_t>& shape) = 0;
  // Tensors the source holds that no get() asked for.
  virtual std::vector<std::string> unused() const = 0;
  virtual uint64_t bytes() const = 0;
};

std::unique_ptr<WeightSource> open_checkpoint_source(const std::filesystem::path& model_dir);

// `dtype` is the element type of the matrices and vectors (A_log and lambda_* are always F32, as in
// the released checkpoint). Values are a pure function of (seed, name, index).
std::unique_ptr<WeightSource> make_dummy_source(DType dtype, uint64_t seed);

}  // namespace sambay
