#pragma once
// Private to the tokenizer's .cpp files: the loaded tables behind a Tokenizer.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sambay/text/added_tokens.h"
#include "sambay/text/bpe.h"
#include "sambay/text/pre_tokenizer.h"
#include "sambay/text/tokenizer.h"
#include "sambay/text/tokenizer_json.h"

namespace sambay {

struct Tokenizer::Impl {
  std::unique_ptr<BpeModel> bpe;
  PreTokenizer pre_tokenizer;
  AddedTokenMatcher matcher;
  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> added_by_content;

  // Decoding: the bytes of token id are decode_arena[decode_offsets[id], decode_offsets[id + 1]).
  std::string decode_arena;
  std::vector<uint32_t> decode_offsets;
  static constexpr uint8_t kSpecial = 1, kAdded = 2;
  std::vector<uint8_t> flags;  // per id
  int32_t vocab_size = 0;

  std::string_view bytes(int32_t id) const {
    if (id < 0 || id >= vocab_size) return {};
    return std::string_view(decode_arena).substr(decode_offsets[id], decode_offsets[id + 1] - decode_offsets[id]);
  }

  // Pre-tokenizes and BPE-encodes valid UTF-8 that holds no added tokens (or where they do not count).
  void encode_plain_valid(std::string_view text, std::vector<int32_t>& out) const {
    // Pieces are encoded in batches (BpeModel::encode_pieces overlaps their table lookups).
    std::string_view batch[BpeModel::kPieceBatch];
    size_t n = 0;
    pre_tokenizer.for_each_piece(text, [&](std::string_view piece) {
      batch[n++] = piece;
      if (n == BpeModel::kPieceBatch) {
        bpe->encode_pieces(batch, n, out);
        n = 0;
      }
    });
    bpe->encode_pieces(batch, n, out);
  }
};

// Checks the structure of a parsed tokenizer.json and builds the tables (tokenizer_load.cpp).
std::shared_ptr<const Tokenizer::Impl> build_tokenizer(const TokenizerJson& tj);

}  // namespace sambay
