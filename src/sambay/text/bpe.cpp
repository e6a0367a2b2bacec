#include "sambay/text/bpe.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "sambay/base/error.h"
#include "sambay/text/byte_level.h"

namespace sambay {

namespace {

// Pieces up to this many symbols are merged by rescanning a small array: cheaper than a heap for
// the few-byte pieces that make up almost all text.
constexpr size_t kSmallPiece = 48;

// A per-thread memo of recently encoded pieces. Text is Zipfian: most pieces are frequent words
// seen moments ago, and answering them from a 256 KB table that stays in L2 avoids the probes
// into the 4 MB vocabulary and merge tables. Direct-mapped (a newer piece evicts an older one);
// it holds one tokenizer's pieces at a time and is cleared when the thread switches tokenizer.
struct PieceCache {
  static constexpr size_t kEntries = 4096;
  static constexpr size_t kMaxKey = 26;
  static constexpr size_t kMaxIds = 8;
  struct Entry {
    uint32_t tag;  // high hash bits | 1; 0 = empty
    uint8_t key_length;
    uint8_t id_count;
    char key[kMaxKey];
    int32_t ids[kMaxIds];
  };
  static_assert(sizeof(Entry) == 64);
  uint64_t owner = 0;
  Entry entries[kEntries];
};

PieceCache& thread_piece_cache(uint64_t owner) {
  thread_local std::unique_ptr<PieceCache> cache;
  if (!cache) cache = std::make_unique<PieceCache>();  // allocated only by threads that encode
  if (cache->owner != owner) {
    std::memset(cache->entries, 0, sizeof(cache->entries));
    cache->owner = owner;
  }
  return *cache;
}

std::atomic<uint64_t> next_model_serial{1};

}  // namespace

std::unique_ptr<BpeModel> BpeModel::build(const Source& src, const std::string& where) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->options_ = src.options;
  const size_t n = src.vocab_strings.size();
  int32_t max_id = -1;
  for (int32_t id : src.vocab_ids) max_id = std::max(max_id, id);
  if (max_id > MergeTable::kMaxId || src.merges.size() > static_cast<size_t>(MergeTable::kMaxId)) {
    fail("{}: model: token id {} or {} merges exceed the supported maximum {}", where, max_id, src.merges.size(),
         MergeTable::kMaxId);
  }

  // tokenizer.json spelling -> entry, to resolve merges and the unk token by their strings.
  std::vector<int32_t> entries(n);
  for (size_t i = 0; i < n; ++i) entries[i] = static_cast<int32_t>(i);
  BytesIdTable by_string;
  const auto string_of = [&](int32_t e) { return src.vocab_strings[e]; };
  by_string.build(entries, string_of);
  const auto id_of_string = [&](std::string_view s) -> int32_t {
    const int32_t e = by_string.find(s, string_of);
    return e < 0 ? -1 : src.vocab_ids[e];
  };

  // Raw bytes by id: the entry naming each id (the last one when an id repeats), decoded once.
  std::vector<int32_t> entry_of_id(static_cast<size_t>(max_id) + 1, -1);
  for (size_t i = 0; i < n; ++i) entry_of_id[src.vocab_ids[i]] = static_cast<int32_t>(i);
  m->offsets_.assign(static_cast<size_t>(max_id) + 2, 0);
  m->arena_.reserve(n * 8);
  std::vector<int32_t> table_ids;
  table_ids.reserve(n);
  for (int32_t id = 0; id <= max_id; ++id) {
    m->offsets_[id] = static_cast<uint32_t>(m->arena_.size());
    const int32_t e = entry_of_id[id];
    if (e < 0) continue;
    const size_t before = m->arena_.size();
    if (!byte_level::append_bytes(src.vocab_strings[e], m->arena_)) {
      m->arena_.resize(before);  // outside the byte alphabet: never produced by merging bytes
      m->other_strings_[std::string(src.vocab_strings[e])] = id;
      continue;
    }
    m->longest_token_ = std::max(m->longest_token_, m->arena_.size() - before);
    table_ids.push_back(id);
  }
  m->offsets_[max_id + 1] = static_cast<uint32_t>(m->arena_.size());
  const BpeModel& self = *m;
  const auto bytes_of = [&](int32_t id) { return self.bytes_of(id); };
  m->by_bytes_.build(table_ids, bytes_of);

  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    m->byte_ids_[b] = m->by_bytes_.find(std::string_view(&c, 1), bytes_of);
  }
  if (src.options.unk_token) {
    m->unk_id_ = id_of_string(*src.options.unk_token);
    if (m->unk_id_ < 0) fail("{}: model.unk_token: '{}' is not in model.vocab", where, *src.options.unk_token);
  }

  // Merges: rank = position in the list. Both halves and their concatenation must be tokens.
  // 3 lookups per merge over 200k merges are random accesses into large tables, so they run as
  // a pipeline: hash everything first, then prefetch the slot, then the key a slot points to,
  // some iterations before each lookup.
  const size_t nm = src.merges.size();
  std::string joined;  // all concatenations a+b, back to back
  std::vector<uint32_t> joined_end(nm);
  std::vector<uint64_t> hashes(3 * nm);  // [3i]: a, [3i+1]: b, [3i+2]: a+b
  for (size_t i = 0; i < nm; ++i) {
    const auto& [a, b] = src.merges[i];
    const size_t start = joined.size();
    joined.append(a);
    joined.append(b);
    joined_end[i] = static_cast<uint32_t>(joined.size());
    hashes[3 * i] = BytesIdTable::hash(a);
    hashes[3 * i + 1] = BytesIdTable::hash(b);
    hashes[3 * i + 2] = BytesIdTable::hash(std::string_view(joined).substr(start));
  }
  const auto query = [&](size_t q) -> std::string_view {
    const size_t i = q / 3;
    if (q % 3 == 0) return src.merges[i].first;
    if (q % 3 == 1) return src.merges[i].second;
    const size_t start = i == 0 ? 0 : joined_end[i - 1];
    return std::string_view(joined).substr(start, joined_end[i] - start);
  };
  std::vector<int32_t> resolved(3 * nm);
  constexpr size_t kSlotAhead = 24, kEntryAhead = 16, kKeyAhead = 8;
  for (size_t q = 0; q < 3 * nm; ++q) {
    if (q + kSlotAhead < 3 * nm) by_string.prefetch(hashes[q + kSlotAhead]);
    if (q + kEntryAhead < 3 * nm) {
      const int32_t e = by_string.likely_value(hashes[q + kEntryAhead]);
      if (e >= 0) __builtin_prefetch(&src.vocab_strings[e]);
    }
    if (q + kKeyAhead < 3 * nm) {
      const int32_t e = by_string.likely_value(hashes[q + kKeyAhead]);
      if (e >= 0) __builtin_prefetch(src.vocab_strings[e].data());
    }
    const int32_t e = by_string.find(query(q), hashes[q], string_of);
    if (e < 0) fail("{}: model.merges[{}]: '{}' is not in model.vocab", where, q / 3, query(q));
    resolved[q] = src.vocab_ids[e];
  }
  bool follow = true;
  for (size_t i = 1; i < nm && follow; ++i) follow = resolved[3 * i + 2] > resolved[3 * i - 1];
  m->merges_.reserve(nm, follow);
  for (size_t i = 0; i < nm; ++i) {
    if (i + kSlotAhead < nm) m->merges_.prefetch(resolved[3 * (i + kSlotAhead)], resolved[3 * (i + kSlotAhead) + 1]);
    m->merges_.insert_or_assign(resolved[3 * i], resolved[3 * i + 1], static_cast<uint32_t>(i), resolved[3 * i + 2]);
  }
  // Ranks of all byte pairs: every piece starts with one lookup per adjacent byte pair, and this
  // 256 KB table answers those from cache instead of the 4 MB merge table.
  m->byte_pair_rank_.assign(256 * 256, MergeTable::kNoRank);
  for (int x = 0; x < 256; ++x) {
    for (int y = 0; y < 256; ++y) {
      if (m->byte_ids_[x] >= 0 && m->byte_ids_[y] >= 0) {
        m->byte_pair_rank_[x * 256 + y] = m->merges_.rank(m->byte_ids_[x], m->byte_ids_[y]);
      }
    }
  }
  m->serial_ = next_model_serial.fetch_add(1);
  m->self_merge_ = std::make_unique<std::atomic<uint8_t>[]>(static_cast<size_t>(max_id) + 1);
  return m;
}

std::optional<int32_t> BpeModel::find_vocab_string(std::string_view token) const {
  std::string bytes;
  if (byte_level::append_bytes(token, bytes)) {
    const int32_t id = by_bytes_.find(bytes, [&](int32_t i) { return bytes_of(i); });
    if (id >= 0) return id;
    return std::nullopt;
  }
  const auto it = other_strings_.find(std::string(token));
  if (it == other_strings_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  encode_pieces(&piece, 1, out);
}

void BpeModel::encode_pieces(const std::string_view* pieces, size_t n, std::vector<int32_t>& out) const {
  // Several passes over a batch, so that the cache misses of different pieces overlap instead of
  // following one another: hash the pieces and prefetch their memo entries; prefetch the
  // vocabulary slot of each piece the memo cannot answer, then the bytes of the token in that
  // slot; then encode in order.
  PieceCache& cache = thread_piece_cache(serial_);
  for (size_t begin = 0; begin < n; begin += kPieceBatch) {
    const size_t count = std::min(kPieceBatch, n - begin);
    const std::string_view* batch = pieces + begin;
    uint64_t hashes[kPieceBatch];
    PieceCache::Entry* entries[kPieceBatch];
    for (size_t i = 0; i < count; ++i) {
      hashes[i] = BytesIdTable::hash(batch[i]);
      entries[i] = &cache.entries[hashes[i] & (PieceCache::kEntries - 1)];
      __builtin_prefetch(entries[i], 1);
    }
    const auto is_hit = [&](size_t i) {
      const std::string_view piece = batch[i];
      const PieceCache::Entry& e = *entries[i];
      return piece.size() <= PieceCache::kMaxKey && e.tag == (static_cast<uint32_t>(hashes[i] >> 32) | 1) &&
             e.key_length == piece.size() && std::memcmp(e.key, piece.data(), piece.size()) == 0;
    };
    bool lookup[kPieceBatch];
    for (size_t i = 0; i < count; ++i) {
      lookup[i] = batch[i].size() <= longest_token_ && !is_hit(i);
      if (lookup[i]) by_bytes_.prefetch(hashes[i]);
    }
    for (size_t i = 0; i < count; ++i) {  // and the bytes of the token that slot most likely names
      if (!lookup[i]) continue;
      const int32_t id = by_bytes_.likely_value(hashes[i]);
      if (id >= 0) __builtin_prefetch(arena_.data() + offsets_[id]);
    }
    for (size_t i = 0; i < count; ++i) {
      // Asked again: an earlier piece of this batch may have replaced the entry since.
      PieceCache::Entry& e = *entries[i];
      if (is_hit(i)) {
        out.insert(out.end(), e.ids, e.ids + e.id_count);
        continue;
      }
      const std::string_view piece = batch[i];
      const size_t first = out.size();
      encode_uncached(piece, hashes[i], out);
      const size_t produced = out.size() - first;
      if (piece.size() <= PieceCache::kMaxKey && produced <= PieceCache::kMaxIds) {
        e.tag = static_cast<uint32_t>(hashes[i] >> 32) | 1;
        e.key_length = static_cast<uint8_t>(piece.size());
        e.id_count = static_cast<uint8_t>(produced);
        std::memcpy(e.key, piece.data(), piece.size());
        std::memcpy(e.ids, out.data() + first, produced * sizeof(int32_t));
      }
    }
  }
}

void BpeModel::encode_uncached(std::string_view piece, uint64_t hash, std::vector<int32_t>& out) const {
  if (piece.size() <= longest_token_) {
    const int32_t id = by_bytes_.find(piece, hash, [&](int32_t i) { return bytes_of(i); });
    if (id >= 0 && (options_.ignore_merges || merges_to_itself(id))) {
      out.push_back(id);
      return;
    }
  }
  merge_bytes(piece, out);
}

bool BpeModel::merges_to_itself(int32_t id) const {
  uint8_t state = self_merge_[id].load(std::memory_order_relaxed);
  if (state == 0) {
    std::vector<int32_t> ids;
    merge_bytes(bytes_of(id), ids);
    state = (ids.size() == 1 && ids[0] == id) ? 1 : 2;
    self_merge_[id].store(state, std::memory_order_relaxed);
  }
  return state == 1;
}

void BpeModel::merge_bytes(std::string_view piece, std::vector<int32_t>& out) const {
  // Initial symbols: one per byte. A byte without a token becomes the unk token (consecutive ones
  // fused into one when fuse_unk is set) or is dropped when there is no unk token, as in HF.
  int32_t small_ids[kSmallPiece];
  uint32_t small_ranks[kSmallPiece];
  std::vector<int32_t> large_ids;
  std::vector<uint32_t> large_ranks;
  int32_t* ids = small_ids;
  uint32_t* ranks = small_ranks;
  if (piece.size() > kSmallPiece) {
    large_ids.resize(piece.size());
    large_ranks.resize(piece.size());
    ids = large_ids.data();
    ranks = large_ranks.data();
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(piece.data());
  size_t n = 0;
  bool all_bytes = true;  // symbols i, i+1 are bytes[i], bytes[i+1]: pair ranks come from the byte table
  bool last_was_unk = false;
  for (size_t i = 0; i < piece.size(); ++i) {
    const int32_t id = byte_ids_[bytes[i]];
    if (id >= 0) {
      ids[n++] = id;
      last_was_unk = false;
      continue;
    }
    all_bytes = false;
    if (unk_id_ >= 0) {
      if (!(options_.fuse_unk && last_was_unk)) ids[n++] = unk_id_;
      last_was_unk = true;
    }
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    ranks[i] = all_bytes ? byte_pair_rank_[bytes[i] * 256 + bytes[i + 1]] : merges_.rank(ids[i], ids[i + 1]);
  }
  if (n <= kSmallPiece) {
    merge_small(ids, ranks, n, out);
  } else {
    merge_large(ids, ranks, n, out);
  }
}

void BpeModel::merge_small(int32_t* ids, uint32_t* rank, size_t n, std::vector<int32_t>& out) const {
  // rank[i] is the rank of the pair (ids[i], ids[i + 1]).
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (rank[i] < rank[best]) best = i;  // strict: the leftmost of equal ranks wins
    }
    if (rank[best] == MergeTable::kNoRank) break;
    ids[best] = merges_.merged(rank[best]);
    // Symbol best+1 disappears; pair best+1 is gone and pairs best-1 and best are recomputed.
    const size_t tail = n - best - 2;
    std::memmove(ids + best + 1, ids + best + 2, tail * sizeof(int32_t));
    if (tail > 0) std::memmove(rank + best + 1, rank + best + 2, (tail - 1) * sizeof(uint32_t));
    --n;
    if (best + 1 < n) rank[best] = merges_.rank(ids[best], ids[best + 1]);
    if (best > 0) rank[best - 1] = merges_.rank(ids[best - 1], ids[best]);
  }
  out.insert(out.end(), ids, ids + n);
}

void BpeModel::merge_large(const int32_t* initial, const uint32_t* initial_rank, size_t n,
                           std::vector<int32_t>& out) const {
  // A doubly linked list of symbols and a min-heap of (rank, position) candidates. An entry is
  // stale when the pair at its position has changed since; rank[pos] always holds the rank of the
  // current pair there (kNoRank for removed symbols), and since a pair's rank names the pair and a
  // changed pair can never come back, comparing ranks is enough to detect staleness.
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
  };
  std::vector<Symbol> sym(n);
  std::vector<uint32_t> rank(n, MergeTable::kNoRank);
  std::vector<uint64_t> heap;
  heap.reserve(n);
  const auto update = [&](size_t pos) {
    const int32_t next = sym[pos].next;
    rank[pos] = next >= 0 ? merges_.rank(sym[pos].id, sym[next].id) : MergeTable::kNoRank;
    if (rank[pos] != MergeTable::kNoRank) {
      heap.push_back((static_cast<uint64_t>(rank[pos]) << 32) | pos);
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  };
  for (size_t i = 0; i < n; ++i) {
    sym[i] = {initial[i], static_cast<int32_t>(i) - 1, i + 1 < n ? static_cast<int32_t>(i + 1) : -1};
    if (i + 1 < n) rank[i] = initial_rank[i];
    if (rank[i] != MergeTable::kNoRank) heap.push_back((static_cast<uint64_t>(rank[i]) << 32) | i);
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const uint64_t top = heap.back();
    heap.pop_back();
    const auto pos = static_cast<size_t>(top & 0xFFFFFFFFu);
    if (rank[pos] != static_cast<uint32_t>(top >> 32)) continue;
    const int32_t right = sym[pos].next;
    sym[pos].id = merges_.merged(rank[pos]);
    sym[pos].next = sym[right].next;
    if (sym[right].next >= 0) sym[sym[right].next].prev = static_cast<int32_t>(pos);
    rank[right] = MergeTable::kNoRank;
    update(pos);
    if (sym[pos].prev >= 0) update(static_cast<size_t>(sym[pos].prev));
  }
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

}  // namespace sambay
