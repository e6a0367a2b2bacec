#include "sambay/base/host_memory.h"

#include <sys/mman.h>

#include <cstdlib>

#include "sambay/base/error.h"

namespace sambay {

std::shared_ptr<void> alloc_host(size_t bytes) {
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t align = bytes >= kHuge ? kHuge : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  if (rounded == 0) return nullptr;
  void* p = std::aligned_alloc(align, rounded);
  if (!p) fail("out of host memory allocating {:.2f} GB", bytes / 1e9);
#ifdef MADV_HUGEPAGE
  if (align == kHuge) ::madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace sambay
