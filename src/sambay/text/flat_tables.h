#pragma once
// The two lookups on the BPE hot path, as flat open-addressing tables: std::unordered_map costs a
// pointer chase and an allocation per entry, and these run a few times per input byte. Loading
// fills them with ~10^6 random accesses, so both also offer prefetching for batched use.
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace sambay {

// A fast non-cryptographic hash for short byte strings (tokens are a few bytes long).
inline uint64_t hash_bytes(const char* p, size_t n) {
  constexpr uint64_t k = 0x9E3779B97F4A7C15ull;
  uint64_t h = n * k;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * k;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * k;
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

inline size_t table_capacity_for(size_t n) {
  size_t cap = 16;
  while (cap < n * 2 + 1) cap <<= 1;  // load factor <= 0.5 keeps probe chains short
  return cap;
}

// (left id, right id) -> the rank of the merge that joins them (lower ranks merge first), and
// rank -> the merged token. A slot packs the pair and the rank into 8 bytes (21 bits each), so
// the table of 200k merges is 4 MB and most probes stay within one cache line.
class MergeTable {
 public:
  static constexpr uint32_t kNoRank = UINT32_MAX;
  static constexpr int32_t kMaxId = (1 << 21) - 2;  // ids and ranks must fit in 21 bits

  // `merged_ids_follow_ranks`: the merged token's id grows with the rank (true of vocabularies
  // converted from tiktoken, where merge r makes token 256 + r). Then the table stores merged
  // ids in place of ranks (same order) and rank -> merged token needs no second lookup.
  void reserve(size_t n, bool merged_ids_follow_ranks) {
    slots_.assign(table_capacity_for(n), kEmpty);
    mask_ = slots_.size() - 1;
    rank_is_merged_ = merged_ids_follow_ranks;
    merged_.assign(rank_is_merged_ ? 0 : n, -1);
  }

  // The merge of rank `rank` (< the reserved count) joins a and b into `merged`. A later merge of
  // the same pair replaces the earlier one (Hugging Face builds a HashMap). Ids <= kMaxId.
  void insert_or_assign(int32_t a, int32_t b, uint32_t rank, int32_t merged) {
    const uint64_t key = pair_key(a, b);
    if (rank_is_merged_) {
      rank = static_cast<uint32_t>(merged);
    } else {
      merged_[rank] = merged;
    }
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i] == kEmpty || (slots_[i] & kPairMask) == key) {
        size_ += slots_[i] == kEmpty;
        slots_[i] = key | (static_cast<uint64_t>(rank) << 42);
        return;
      }
    }
  }

  // The rank of the merge of (a, b) (or a number in the same order), or kNoRank.
  uint32_t rank(int32_t a, int32_t b) const {
    const uint64_t key = pair_key(a, b);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if ((s & kPairMask) == key) return static_cast<uint32_t>(s >> 42);
      if (s == kEmpty) return kNoRank;
    }
  }
  int32_t merged(uint32_t rank) const { return rank_is_merged_ ? static_cast<int32_t>(rank) : merged_[rank]; }

  void prefetch(int32_t a, int32_t b) const { __builtin_prefetch(&slots_[slot_of(pair_key(a, b))]); }

  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;  // its pair part would need id 2^21 - 1 > kMaxId
  static constexpr uint64_t kPairMask = (1ull << 42) - 1;
  static uint64_t pair_key(int32_t a, int32_t b) {
    return static_cast<uint64_t>(static_cast<uint32_t>(a)) | (static_cast<uint64_t>(static_cast<uint32_t>(b)) << 21);
  }
  size_t slot_of(uint64_t key) const { return ((key * 0x9E3779B97F4A7C15ull) >> 24) & mask_; }

  std::vector<uint64_t> slots_;
  std::vector<int32_t> merged_;  // by rank, unless rank_is_merged_
  bool rank_is_merged_ = false;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Byte string -> int32 value, where the key of each value is found through `key_of(value)` (e.g.
// a token id whose bytes live in an arena): the table itself holds 8 bytes per slot.
class BytesIdTable {
 public:
  static uint64_t hash(std::string_view s) { return hash_bytes(s.data(), s.size()); }

  // Inserts every value; a later value with the same key replaces the earlier one (as a JSON
  // object read into a hash map keeps the last duplicate key). `key_of` must stay valid.
  template <class KeyOf>
  void build(const std::vector<int32_t>& values, KeyOf&& key_of) {
    std::vector<uint64_t> hashes(values.size());
    for (size_t i = 0; i < values.size(); ++i) hashes[i] = hash(key_of(values[i]));
    slots_.assign(table_capacity_for(values.size()), Slot{0, -1});
    mask_ = slots_.size() - 1;
    constexpr size_t kAhead = 16;  // slots are random accesses: fetch them ahead of use
    for (size_t i = 0; i < values.size(); ++i) {
      if (i + kAhead < values.size()) prefetch(hashes[i + kAhead]);
      const std::string_view s = key_of(values[i]);
      const auto tag = static_cast<uint32_t>(hashes[i] >> 32);
      size_t k = hashes[i] & mask_;
      while (slots_[k].value >= 0 && !(slots_[k].tag == tag && key_of(slots_[k].value) == s)) k = (k + 1) & mask_;
      slots_[k] = Slot{tag, values[i]};
    }
  }

  // The value whose key is s (with h = hash(s)), or -1.
  template <class KeyOf>
  int32_t find(std::string_view s, uint64_t h, KeyOf&& key_of) const {
    if (slots_.empty()) return -1;
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value < 0) return -1;
      if (slot.tag == tag && key_of(slot.value) == s) return slot.value;
    }
  }
  template <class KeyOf>
  int32_t find(std::string_view s, KeyOf&& key_of) const {
    return find(s, hash(s), key_of);
  }

  void prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }
  // The first value whose slot tag matches h, without comparing keys (-1 if none): what a later
  // find() will most likely compare against, so that its key can be prefetched too.
  int32_t likely_value(uint64_t h) const {
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].value < 0 || slots_[i].tag == tag) return slots_[i].value;
    }
  }

 private:
  struct Slot {
    uint32_t tag;  // high hash bits: most mismatches are rejected without touching the keys
    int32_t value;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace sambay
