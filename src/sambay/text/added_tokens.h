#pragma once
// Added tokens (tokenizer.json "added_tokens": role markers, <|endoftext|>, tool tags) and how
// Hugging Face finds them in text before any other processing: leftmost-longest matching of their
// exact contents, `single_word` matches only between non-word characters, `lstrip` / `rstrip`
// widen a match over the white space before / after it (Unicode White_Space), so that the
// swallowed white space produces no tokens. Tokens with `normalized: false` are found first, then
// `normalized: true` ones inside the remaining text (the order HF uses; we load no normalizer, so
// both match raw text).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sambay {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// A byte range [begin, end) of a text.
struct ByteRange {
  size_t begin = 0;
  size_t end = 0;
};

// One piece of a text cut at the added tokens: an added token (`id` >= 0, the range includes any
// white space it swallowed) or plain text for the pre-tokenizer (`id` == -1).
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;
  int32_t id = -1;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);

  bool empty() const { return tries_[0].nodes.size() <= 1 && tries_[1].nodes.size() <= 1; }

  // Cuts `text` into spans in text order. An added token is recognised only where its whole
  // content lies inside one of `allowed` (sorted, disjoint; adjacent ranges count as one), while
  // lstrip / rstrip may swallow white space outside them. With `allowed` = the whole text this is
  // exactly HF's AddedVocabulary::extract_and_normalize. Plain spans may be empty; skip them.
  void split(std::string_view text, std::span<const ByteRange> allowed, std::vector<TextSpan>& out) const;

 private:
  struct Node {
    uint32_t first_edge = 0;
    uint16_t edge_count = 0;
    int32_t token = -1;  // index into tokens_ of the token ending here
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  // A byte trie of the token contents of one pass (non-normalized or normalized).
  struct Trie {
    std::vector<Node> nodes;
    std::vector<Edge> edges;
    bool first_byte[256] = {};
    int single_first_byte = -1;  // when all contents start with one byte: scan with memchr
  };
  static Trie build_trie(const std::vector<AddedToken>& tokens, const std::vector<int32_t>& members);
  // The longest token of `trie` that starts at text[pos] and ends at or before `limit`.
  static int32_t longest_at(const Trie& trie, std::string_view text, size_t pos, size_t limit, size_t& length);
  // HF's find_matches over text[lo, hi) (the "sentence"), appending spans that cover it.
  void find_matches(const Trie& trie, std::string_view text, size_t lo, size_t hi,
                    std::span<const ByteRange> allowed, std::vector<TextSpan>& out) const;

  std::vector<AddedToken> tokens_;
  Trie tries_[2];  // [0]: normalized = false (first pass), [1]: normalized = true
};

}  // namespace sambay
