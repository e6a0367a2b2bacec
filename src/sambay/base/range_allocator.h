#pragma once
// First-fit allocation of byte ranges in an address space of unbounded size (offsets only; the
// caller maps them onto memory). Freed ranges merge with free neighbours. Given the same sequence
// of allocations and releases, it hands out the same offsets, and high_water() tells how large a
// buffer that sequence needs.
#include <cstddef>
#include <map>

namespace sambay {

class RangeAllocator {
 public:
  explicit RangeAllocator(size_t alignment = 256);

  // Offset of a free range of `bytes` (rounded up to the alignment), the lowest one that fits.
  size_t allocate(size_t bytes);
  // Returns a range obtained from allocate() with the same size.
  void release(size_t offset, size_t bytes);
  // Forgets every allocation (the high-water mark too).
  void reset();

  size_t high_water() const { return high_water_; }
  size_t bytes_in_use() const { return in_use_; }

 private:
  size_t round_up(size_t bytes) const;

  size_t alignment_;
  std::map<size_t, size_t> free_;  // offset -> size, below `end_`
  size_t end_ = 0;                  // everything from here on is free
  size_t high_water_ = 0;
  size_t in_use_ = 0;
};

}  // namespace sambay
