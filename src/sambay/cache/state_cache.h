#pragma once
// Per-sequence state of a model, in slots:
//   - Mamba conv inputs and SSM state for every Mamba layer (fixed size per sequence),
//   - a ring of the last `sliding_window` K/V for every sliding-window layer (fixed size),
//   - K/V that grows with the sequence, in pages from one pool, for every paged layer; all paged
//     layers share one page table (a position's page holds that position in every layer).
// SambaY has one paged layer (the full-attention layer, whose K/V the cross-decoder reads), keeps
// nothing for the GMU memory (recomputed every step) and nothing for the cross-decoder layers. A
// plain transformer has only paged layers.
#include <cstdint>
#include <vector>

#include "sambay/model/config.h"
#include "sambay/model/layer_table.h"
#include "sambay/ops/ops.h"

namespace sambay {

// What a model keeps per sequence, in the shapes the cache allocates.
struct StateLayout {
  int mamba_layers = 0;
  int64_t d_inner = 0, d_conv = 0, d_state = 0;
  int ring_layers = 0;
  int64_t window = 0;
  int paged_layers = 0;
  int64_t kv_row = 0;    // elements of K (and of V) per position and layer: kv_heads * head_dim
  int64_t head_dim = 0;
  int64_t kv_group_heads = 2;  // kv heads the attention kernels read together (KvPagesRef::group_heads)
};

StateLayout samba_state_layout(const SambaConfig& config, const LayerTable& table);

struct StateCacheOptions {
  int max_seqs = 1;
  int64_t max_seq_len = 4096;  // positions per sequence
  int64_t page_size = 16;      // positions per shared-K/V page
  int64_t num_pages = 0;       // 0: enough for every slot at max_seq_len
};

// Bytes of state, for budgeting memory.
struct StateSizes {
  size_t mamba_per_seq = 0;   // conv + SSM state of all Mamba layers
  size_t rings_per_seq = 0;   // all sliding-window rings
  size_t kv_per_token = 0;    // paged K/V of all paged layers
};

class StateCache {
 public:
  StateCache(const StateLayout& layout, Ops& ops, StateCacheOptions options);
  StateCache(const SambaConfig& config, const LayerTable& table, Ops& ops, StateCacheOptions options)
      : StateCache(samba_state_layout(config, table), ops, options) {}

  static StateSizes sizes(const StateLayout& layout, DType kv_dtype);
  static StateSizes sizes(const SambaConfig& config, const LayerTable& table, DType kv_dtype) {
    return sizes(samba_state_layout(config, table), kv_dtype);
  }

  // A free slot with empty state; throws when every slot is taken.
  int acquire();
  void release(int slot);
  // Empties the slot's state and keeps the slot (a sequence that is about to be run again from
  // position 0).
  void clear(int slot);
  int64_t length(int slot) const { return lengths_.at(slot); }
  // The rotary factor set the slot's cached keys were rotated with (LongRoPE: 0 short, 1 long).
  // The model that wrote them records it; an empty slot says 0.
  int32_t rope_set(int slot) const { return rope_sets_.at(slot); }
  void set_rope_set(int slot, int32_t set);
  int free_slots() const { return static_cast<int>(free_slots_.size()); }
  int64_t free_pages() const { return static_cast<int64_t>(free_pages_.size()); }
  const StateCacheOptions& options() const { return options_; }
  // Unique per cache object: captured graphs hold this cache's addresses.
  uint64_t id() const { return id_; }

  // Makes room for `n` more positions of `slot`. Returns false, changing nothing, when the page pool
  // cannot hold them; throws when the sequence would pass max_seq_len.
  bool reserve(int slot, int64_t n);
  // Records that `n` more positions of `slot` were computed (after a forward step).
  void commit(int slot, int64_t n);
  // Copies the page table to the device if it changed since the last call (before a forward step).
  void sync_page_table();

  MambaStateRef mamba(int index) const;
  KvRingRef ring(int index) const;
  KvPagesRef pages(int layer = 0) const;

 private:
  void check_slot(int slot) const;
  void empty_slot(int slot);            // gives back its pages, length 0, rope set 0
  void zero_recurrent_state(int slot);  // the Mamba conv inputs and SSM state (rings need none: nothing before position 0 is read)

  Ops& ops_;
  uint64_t id_;
  StateCacheOptions options_;
  int64_t d_conv_, d_state_;
  std::vector<OwnedTensor> conv_, ssm_;     // per Mamba layer: [slots, E * (d_conv - 1)], [slots, E * N]
  std::vector<OwnedTensor> ring_k_, ring_v_;  // per sliding-window layer: [slots, W * kv_heads * head_dim]
  int64_t window_;
  int64_t head_dim_ = 0, kv_group_heads_ = 2;
  std::vector<OwnedTensor> pages_k_, pages_v_;  // per paged layer: [num_pages, page_size * kv_row]
  std::vector<int32_t> page_table_;          // [slots, max_pages_per_seq], -1 = none
  OwnedTensor page_table_device_;            // its copy on the device (the host table itself on the CPU)
  bool page_table_dirty_ = true;
  int64_t pages_per_seq_;
  std::vector<int64_t> lengths_;
  std::vector<int32_t> rope_sets_;
  std::vector<bool> in_use_;
  std::vector<int> free_slots_;
  std::vector<int32_t> free_pages_;
};

}  // namespace sambay
