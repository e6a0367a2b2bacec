#pragma once
// Byte-level BPE as Hugging Face's `BPE` model runs it: a piece starts as one symbol per byte, and
// the adjacent pair with the lowest merge rank is joined (leftmost first on ties) until no pair
// has a merge. Lookups go through flat hash tables; a piece that is itself a vocabulary token is
// answered from the table once that token is known to merge back into itself (checked lazily per
// token, so the shortcut can never change a result); long pieces use a heap instead of rescans;
// each thread keeps a small memo of the pieces it encoded last.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sambay/text/flat_tables.h"

namespace sambay {

struct BpeOptions {
  std::optional<std::string> unk_token;  // a vocabulary string; bytes without a token become it
  bool fuse_unk = false;                 // consecutive unknown bytes become one unk token
  bool ignore_merges = false;            // a piece found whole in the vocabulary is not merged
};

class BpeModel {
 public:
  // `vocab_strings[i]` is the tokenizer.json string of token `vocab_ids[i]`; merges are pairs of
  // vocabulary strings. `where` names the file in error messages.
  struct Source {
    std::vector<std::string_view> vocab_strings;
    std::vector<int32_t> vocab_ids;
    std::vector<std::pair<std::string_view, std::string_view>> merges;
    BpeOptions options;
  };
  static std::unique_ptr<BpeModel> build(const Source& source, const std::string& where);

  // Appends the ids of one pre-tokenized piece (raw bytes, non-empty) to out.
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;
  // The same for n pieces in order; faster than one at a time (memory accesses overlap).
  static constexpr size_t kPieceBatch = 32;
  void encode_pieces(const std::string_view* pieces, size_t n, std::vector<int32_t>& out) const;

  // The id of a tokenizer.json vocabulary string (byte-level alphabet), if any.
  std::optional<int32_t> find_vocab_string(std::string_view token) const;
  // The raw bytes of a vocabulary token; empty when the id names none.
  std::string_view bytes_of(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) + 1 >= offsets_.size()) return {};
    return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  int32_t max_id() const { return static_cast<int32_t>(offsets_.size()) - 2; }
  size_t merge_count() const { return merges_.size(); }

 private:
  BpeModel() = default;
  // encode_piece without the per-thread cache; `hash` = BytesIdTable::hash(piece).
  void encode_uncached(std::string_view piece, uint64_t hash, std::vector<int32_t>& out) const;
  // The merge loop without the whole-token shortcut.
  void merge_bytes(std::string_view piece, std::vector<int32_t>& out) const;
  // ids[0..n) with ranks[i] = rank of the pair (ids[i], ids[i+1]).
  void merge_small(int32_t* ids, uint32_t* ranks, size_t n, std::vector<int32_t>& out) const;
  void merge_large(const int32_t* ids, const uint32_t* ranks, size_t n, std::vector<int32_t>& out) const;
  bool merges_to_itself(int32_t id) const;

  std::string arena_;             // bytes of every token with a byte-level string, by id
  std::vector<uint32_t> offsets_;  // token id -> [offsets_[id], offsets_[id + 1]) in arena_
  BytesIdTable by_bytes_;
  std::unordered_map<std::string, int32_t> other_strings_;  // strings outside the byte alphabet
  MergeTable merges_;
  std::vector<uint32_t> byte_pair_rank_;  // [x * 256 + y]: rank of (token of byte x, token of byte y)
  int32_t byte_ids_[256];
  int32_t unk_id_ = -1;
  BpeOptions options_;
  size_t longest_token_ = 0;
  uint64_t serial_ = 0;  // tells the per-thread piece caches which model filled them
  // Per token: 0 = not checked yet, 1 = encoding its bytes gives exactly this token, 2 = it does
  // not. Filled lazily from any thread; racing writers store the same value.
  std::unique_ptr<std::atomic<uint8_t>[]> self_merge_;
};

}  // namespace sambay
