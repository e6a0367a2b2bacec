// RangeAllocator against a brute-force model of first fit: the live ranges kept in a sorted list,
// the lowest gap that fits searched linearly.
#include "sambay/base/range_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "sambay/base/error.h"

namespace sambay {
namespace {

struct Live {
  size_t offset, size;
};

size_t lowest_fit(std::vector<Live> live, size_t size) {
  std::sort(live.begin(), live.end(), [](const Live& a, const Live& b) { return a.offset < b.offset; });
  size_t at = 0;
  for (const Live& l : live) {
    if (l.offset >= at + size) return at;
    at = std::max(at, l.offset + l.size);
  }
  return at;
}

TEST(RangeAllocator, FirstFitAgainstBruteForce) {
  constexpr size_t kAlign = 256;
  std::mt19937 rng(7);
  RangeAllocator alloc(kAlign);
  std::vector<Live> live;
  size_t high = 0;
  for (int i = 0; i < 20000; ++i) {
    const bool grow = live.empty() || rng() % 100 < 55;
    if (grow) {
      const size_t bytes = rng() % 4 == 0 ? 0 : 1 + rng() % 5000;
      const size_t size = std::max<size_t>(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
      const size_t want = lowest_fit(live, size);
      const size_t got = alloc.allocate(bytes);
      ASSERT_EQ(got, want) << "allocation " << i << " of " << bytes << " bytes";
      ASSERT_EQ(got % kAlign, 0u);
      live.push_back({got, size});
      high = std::max(high, got + size);
    } else {
      const size_t k = rng() % live.size();
      alloc.release(live[k].offset, live[k].size - (rng() % 2) * (kAlign - 1));  // any size that rounds the same
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    }
    size_t used = 0;
    for (const Live& l : live) used += l.size;
    ASSERT_EQ(alloc.bytes_in_use(), used);
    ASSERT_EQ(alloc.high_water(), high);
  }
  for (const Live& l : live) alloc.release(l.offset, l.size);
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
  EXPECT_EQ(alloc.allocate(10000), 0u);  // everything merged back into one free space
  alloc.reset();
  EXPECT_EQ(alloc.high_water(), 0u);
}

TEST(RangeAllocator, RejectsBadReleases) {
  RangeAllocator alloc(256);
  const size_t a = alloc.allocate(1000), b = alloc.allocate(1000);
  alloc.release(a, 1000);
  EXPECT_THROW(alloc.release(a, 1000), Error);      // twice
  EXPECT_THROW(alloc.release(b + 1, 100), Error);   // not aligned
  EXPECT_THROW(alloc.release(b + 4096, 100), Error);  // past the end
  alloc.release(b, 1000);
  EXPECT_EQ(alloc.bytes_in_use(), 0u);
  EXPECT_THROW(RangeAllocator(100), Error);
}

}  // namespace
}  // namespace sambay
