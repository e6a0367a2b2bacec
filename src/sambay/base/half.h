#pragma once
// bfloat16 and IEEE half conversions (bit-exact, round to nearest even), usable on the host.
#include <bit>
#include <cstdint>

namespace sambay {

inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (man << 13));  // inf / nan
  if (exp == 0) {
    if (man == 0) return std::bit_cast<float>(sign);
    // subnormal: value = man * 2^-24
    float v = static_cast<float>(man) * 0x1p-24f;
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
}

inline uint16_t f32_to_f16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return sign | 0x7e00u;                     // NaN
  if (u >= 0x477ff000u) return sign | 0x7c00u;                    // overflow to inf (>= 65520)
  if (u < 0x38800000u) {                                          // subnormal or zero in half
    float a = std::bit_cast<float>(u);
    uint32_t m = static_cast<uint32_t>(a * 0x1p24f + 0.5f);      // round half up, then fix ties
    float back = static_cast<float>(m) - a * 0x1p24f;
    if (back == 0.5f && (m & 1u)) m -= 1;                         // tie: round to even
    return sign | static_cast<uint16_t>(m);
  }
  uint32_t rounded = u + 0xfffu + ((u >> 13) & 1u);
  return sign | static_cast<uint16_t>((rounded - 0x38000000u) >> 13);
}

}  // namespace sambay
