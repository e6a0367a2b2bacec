#pragma once
// Element types of tensors, named as safetensors names them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sambay {

enum class DType : uint8_t {
  BOOL,
  U8,
  I8,
  F8_E4M3,
  F8_E5M2,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  I64,
  U64,
  F64,
};

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);
inline bool is_float(DType t) {
  return t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::F64 ||
         t == DType::F8_E4M3 || t == DType::F8_E5M2;
}

}  // namespace sambay
