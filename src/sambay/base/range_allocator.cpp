#include "sambay/base/range_allocator.h"

#include "sambay/base/error.h"

namespace sambay {

RangeAllocator::RangeAllocator(size_t alignment) : alignment_(alignment) {
  SAMBAY_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0, "RangeAllocator: alignment {} is not a power of two",
               alignment);
}

size_t RangeAllocator::round_up(size_t bytes) const {
  return bytes == 0 ? alignment_ : (bytes + alignment_ - 1) & ~(alignment_ - 1);
}

size_t RangeAllocator::allocate(size_t bytes) {
  const size_t size = round_up(bytes);
  in_use_ += size;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < size) continue;
    const size_t offset = it->first, left = it->second - size;
    free_.erase(it);
    if (left > 0) free_.emplace(offset + size, left);
    return offset;
  }
  const size_t offset = end_;  // no free range touches end_ (release() shrinks the tail instead)
  end_ = offset + size;
  if (end_ > high_water_) high_water_ = end_;
  return offset;
}

void RangeAllocator::release(size_t offset, size_t bytes) {
  size_t size = round_up(bytes);
  SAMBAY_CHECK(offset % alignment_ == 0 && offset + size <= end_ && size <= in_use_,
               "RangeAllocator: release of a range that was not allocated ({} bytes at {})", bytes, offset);
  auto next = free_.lower_bound(offset);
  const bool overlaps_next = next != free_.end() && next->first < offset + size;
  const bool overlaps_prev = next != free_.begin() && std::prev(next)->first + std::prev(next)->second > offset;
  SAMBAY_CHECK(!overlaps_next && !overlaps_prev, "RangeAllocator: range at {} released twice", offset);
  in_use_ -= size;
  if (next != free_.end() && next->first == offset + size) {
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      size += prev->second;
      free_.erase(prev);
    }
  }
  if (offset + size == end_) {
    end_ = offset;  // the tail shrinks back; no free range ever touches end_
    return;
  }
  free_.emplace(offset, size);
}

void RangeAllocator::reset() {
  free_.clear();
  end_ = high_water_ = in_use_ = 0;
}

}  // namespace sambay
