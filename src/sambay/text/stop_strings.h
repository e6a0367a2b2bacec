#pragma once
// Stop strings for streamed output (OpenAI's `stop`, vLLM's SamplingParams.stop). Generated text
// arrives one token's text at a time; a stop string may span several pieces, so text that could be
// the start of one is held back until the next pieces decide it.
//
// Semantics (those of OpenAI and vLLM): the output is truncated right before the stop string, which
// itself is not emitted (a caller that wants it, like vLLM's include_stop_str_in_output, appends
// matched_string()). "The first occurrence" is made exact here as: the occurrence that *ends*
// first; of several ending at the same byte, the longest (the one that starts first). That is what
// a stream can decide without looking ahead, and unlike vLLM's per-token check it does not depend
// on how the text is split into pieces: pushing the text in any split gives the same result.
//   stops {"abcd", "bc"} on "abcd...": "bc" ends first -> output "a".
//   stops {"abc", "bc"} on "xabc": both end at the same byte, "abc" is longer -> output "x".
//
// Cost: an Aho-Corasick automaton over all stop strings, kept across pushes, so each push costs
// O(piece length + longest stop length) at worst, O(piece length) amortized, and the output is
// never rescanned. The held-back text is
// exactly the automaton's current node: the longest suffix of the text that is a proper prefix of
// some stop string, so everything before it is emitted at once.
//
// UTF-8: pieces and stop strings are valid UTF-8 (the detokenizer and JSON guarantee it; stop
// strings are checked), so the whole text is too. Every cut falls either at the end of a piece or
// right before text equal to the beginning of a stop string; a valid non-empty UTF-8 string never
// begins with a continuation byte, so the byte at that cut starts a character and no emitted piece
// ends inside one.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sambay {

class StopStringMatcher {
 public:
  struct Result {
    std::string emit;       // text now known not to belong to a stop string
    bool stopped = false;   // a stop string completed (in this push or an earlier one)
    // Bytes of this push's piece up to and including the end of the stop string (the whole piece
    // when nothing stopped here). Chained filters continue with piece.substr(consumed).
    size_t consumed = 0;
  };

  // Empty strings are ignored and duplicates are fine. Throws sambay::Error for invalid UTF-8.
  explicit StopStringMatcher(const std::vector<std::string>& stops);

  // Adds generated text (valid UTF-8, possibly empty). After a stop, pushes are ignored (they
  // return no text and stopped=true): a batched engine may hand over a token or two more before it
  // retires the sequence, and dropping them is what the truncation means.
  Result push(std::string_view piece);

  // Generation ended without a stop: returns the held-back text ("" after a stop) and empties it.
  std::string finish();

  bool stopped() const { return matched_ >= 0; }
  // Index into the constructor's list of the stop string that matched (the first of duplicates).
  std::optional<size_t> matched_index() const;
  // The stop string that matched ("" when none did).
  std::string_view matched_string() const;

  size_t held_bytes() const { return held_.size() - held_begin_; }
  size_t max_stop_length() const { return max_len_; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> next;  // trie edges; fan-out <= number of stops
    int32_t fail = 0;         // node of the longest proper suffix that is also a trie node
    int32_t depth = 0;        // length of the text this node spells
    int32_t match_len = 0;    // longest stop string that is a suffix of this node's text (0: none)
    int32_t match_index = -1;  // its index in stops_
  };
  int32_t child(int32_t node, uint8_t byte) const;
  int32_t step(int32_t node, uint8_t byte) const;

  std::vector<std::string> stops_;
  std::vector<Node> nodes_;  // nodes_[0] is the root (empty text)
  size_t max_len_ = 0;
  int32_t state_ = 0;  // automaton node of the text so far; held_[held_begin_:] is the text it spells
  std::string held_;
  size_t held_begin_ = 0;
  int32_t matched_ = -1;
};

}  // namespace sambay
