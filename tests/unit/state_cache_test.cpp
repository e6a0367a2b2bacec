// The state cache's bookkeeping: slots, pages, limits, and that everything comes back on release.
#include <gtest/gtest.h>

#include "sambay/base/error.h"
#include "sambay/cache/state_cache.h"
#include "sambay/ops/cpu/cpu_ops.h"
#include "test_util.h"

namespace sambay {
namespace {

TEST(StateCache, SizesOfTheReleasedModel) {
  const SambaConfig c = load_samba_config(test::source_dir() / "models/phi4-mini-flash-reasoning");
  const StateSizes s = StateCache::sizes(c, build_layer_table(c), DType::BF16);
  EXPECT_EQ(s.kv_per_token, 5u * 1024);                // design document §6: 5 KiB per token
  EXPECT_EQ(s.rings_per_seq, 20u * 1024 * 1024);       // 8 layers x 512 x 40 KiB / 8... = 20 MiB
  EXPECT_EQ(s.mamba_per_seq, 9u * 5120 * (3 * 4 + 16 * 4));  // float32 conv + SSM state
}

TEST(StateCache, SlotsAndPages) {
  const SambaConfig c = load_samba_config(test::golden_dir() / "tiny-l8-h64-w8");
  CpuOps ops;
  StateCache cache(c, build_layer_table(c), ops, {2, 40, 8, 6});
  EXPECT_EQ(cache.free_slots(), 2);
  const int a = cache.acquire(), b = cache.acquire();
  EXPECT_THROW(cache.acquire(), Error);
  EXPECT_TRUE(cache.reserve(a, 17));  // 3 pages
  EXPECT_EQ(cache.free_pages(), 3);
  EXPECT_TRUE(cache.reserve(a, 17));  // reserving again reuses the same pages
  EXPECT_EQ(cache.free_pages(), 3);
  cache.commit(a, 17);
  EXPECT_EQ(cache.length(a), 17);
  EXPECT_FALSE(cache.reserve(b, 25));  // 4 pages > 3 free: refused, nothing taken
  EXPECT_EQ(cache.free_pages(), 3);
  EXPECT_TRUE(cache.reserve(b, 24));
  EXPECT_EQ(cache.free_pages(), 0);
  EXPECT_THROW(cache.reserve(a, 24), Error);  // 17 + 24 > max_seq_len 40
  cache.release(a);
  EXPECT_EQ(cache.free_pages(), 3);
  EXPECT_THROW(cache.release(a), Error);
  cache.release(b);
  EXPECT_EQ(cache.free_pages(), 6);
  EXPECT_EQ(cache.free_slots(), 2);
  // A re-acquired slot starts empty.
  const int again = cache.acquire();
  EXPECT_EQ(cache.length(again), 0);
  const MambaStateRef m = cache.mamba(0);
  for (int64_t i = 0; i < m.ssm.cols; ++i) ASSERT_EQ(m.ssm.row<float>(again)[i], 0.0f);
}

// A transformer's layout: only paged layers, each with its own K/V pages behind one page table.
TEST(StateCache, PagedLayersShareThePageTable) {
  StateLayout layout;
  layout.paged_layers = 3;
  layout.kv_row = 8;
  layout.head_dim = 4;
  CpuOps ops;
  StateCache cache(layout, ops, {2, 32, 4, 0});
  const StateSizes s = StateCache::sizes(layout, DType::BF16);
  EXPECT_EQ(s.kv_per_token, 3u * 2 * 8 * 2);
  EXPECT_EQ(s.mamba_per_seq + s.rings_per_seq, 0u);
  const int slot = cache.acquire();
  ASSERT_TRUE(cache.reserve(slot, 9));
  const KvPagesRef p0 = cache.pages(0), p2 = cache.pages(2);
  EXPECT_NE(p0.k.data, p2.k.data);
  EXPECT_NE(p0.v.data, p2.v.data);
  EXPECT_EQ(p0.page_table, p2.page_table);
  EXPECT_EQ(p0.k.cols, 4 * 8);  // page_size * kv_row
  EXPECT_THROW(cache.pages(3), std::out_of_range);
  EXPECT_THROW(cache.mamba(0), std::out_of_range);
}

// A sequence run again from position 0 keeps its slot: clear() gives back its pages and empties its
// state, and the factor set recorded for its keys goes back to the short one.
TEST(StateCache, ClearEmptiesASlotInPlace) {
  const SambaConfig c = load_samba_config(test::golden_dir() / "tiny-l8-h64-w8");
  CpuOps ops;
  StateCache cache(c, build_layer_table(c), ops, {2, 40, 8, 0});
  const int other = cache.acquire(), slot = cache.acquire();
  ASSERT_TRUE(cache.reserve(other, 9));
  ASSERT_TRUE(cache.reserve(slot, 17));
  cache.commit(slot, 17);
  cache.set_rope_set(slot, 1);
  const MambaStateRef m = cache.mamba(0);
  std::fill_n(m.ssm.row<float>(slot), m.ssm.cols, 1.0f);
  const int64_t free_before = cache.free_pages();

  cache.clear(slot);
  EXPECT_EQ(cache.length(slot), 0);
  EXPECT_EQ(cache.rope_set(slot), 0);
  EXPECT_EQ(cache.free_pages(), free_before + 3);
  EXPECT_EQ(cache.free_slots(), 0) << "the slot stays taken";
  for (int64_t i = 0; i < m.ssm.cols; ++i) ASSERT_EQ(m.ssm.row<float>(slot)[i], 0.0f);
  EXPECT_TRUE(cache.reserve(slot, 40));

  cache.set_rope_set(slot, 1);
  cache.release(slot);
  EXPECT_THROW(cache.clear(slot), Error);
  EXPECT_THROW(cache.set_rope_set(slot, 1), Error);
  EXPECT_EQ(cache.rope_set(cache.acquire()), 0);
}

}  // namespace
}  // namespace sambay
