// bfloat16 / float16 conversions against definitions in double precision.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "sambay/base/half.h"

namespace sambay {
namespace {

// The value of a binary16 bit pattern, from the IEEE 754 definition.
double f16_value(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
  double v;
  if (exp == 31) v = man ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else if (exp == 0) v = std::ldexp(man, -24);
  else v = std::ldexp(1024 + man, exp - 25);
  return sign ? -v : v;
}

TEST(Half, F16ToF32IsExactForEveryPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const double want = f16_value(static_cast<uint16_t>(h));
    const float got = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(want)) EXPECT_TRUE(std::isnan(got)) << h;
    else EXPECT_EQ(static_cast<double>(got), want) << h;
  }
}

// Round to nearest, ties to even, by brute force over the representable neighbours.
template <class ToBits, class Value>
uint16_t nearest(float f, ToBits, Value value_of) {
  uint16_t best = 0;
  double best_err = INFINITY;
  for (uint32_t h = 0; h < 65536; ++h) {
    const double v = value_of(static_cast<uint16_t>(h));
    if (std::isnan(v)) continue;
    const double err = std::abs(v - static_cast<double>(f));
    if (err < best_err || (err == best_err && (h & 1) == 0 && std::signbit(v) == std::signbit(f))) {
      best = static_cast<uint16_t>(h);
      best_err = err;
    }
  }
  return best;
}

TEST(Half, F32ToF16RoundsToNearestEven) {
  std::mt19937 rng(7);
  std::vector<float> samples = {0.0f, -0.0f, 1.0f, 65504.0f, 65519.0f, 1e-8f, 6e-5f, 2.98e-8f, -3.0e-5f, 0.1f, 1.0009765625f};
  for (int i = 0; i < 300; ++i) samples.push_back(std::ldexp(std::uniform_real_distribution<float>(-1, 1)(rng), i % 40 - 26));
  for (float f : samples) {
    const uint16_t want = nearest(f, 0, f16_value);
    EXPECT_EQ(f32_to_f16(f), want) << f;
  }
  EXPECT_EQ(f32_to_f16(70000.0f), 0x7c00);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(NAN))));
}

TEST(Half, Bf16RoundTripAndRounding) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = bf16_to_f32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) {
      EXPECT_EQ(f32_to_bf16(f), h);
    }
  }
  // 1 + 2^-8 is exactly between 1 and 1 + 2^-7: ties go to the even pattern (1.0).
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f), f32_to_bf16(1.0f));
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), f32_to_bf16(1.0f + 0x1p-7f));
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

}  // namespace
}  // namespace sambay
