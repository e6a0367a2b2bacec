#pragma once
// The pre-tokenizer: cuts plain text into the pieces that BPE encodes one by one. It is a chain of
// Hugging Face `Split` stages (each cuts every piece of the previous stage); the final `ByteLevel`
// stage has no cutting of its own (use_regex = false) or adds GPT-2's split (use_regex = true),
// and its byte-to-character mapping is implicit here because we run BPE on raw bytes.
#include <cstdint>
#include <string_view>
#include <vector>

#include "sambay/text/split_regex.h"

namespace sambay {

// What happens to the regex matches and the text between them (HF SplitDelimiterBehavior).
enum class SplitBehavior : uint8_t {
  kRemoved,             // matches are dropped, the text between them is kept
  kIsolated,            // matches and the text between them are separate pieces
  kMergedWithPrevious,  // a match joins the piece before it
  kMergedWithNext,      // a match joins the piece after it
  kContiguous,          // consecutive matches form one piece
};

struct SplitStage {
  SplitRegex regex;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;  // swap the roles of matches and the text between them
};

class PreTokenizer {
 public:
  PreTokenizer() = default;
  explicit PreTokenizer(std::vector<SplitStage> stages) : stages_(std::move(stages)) {}

  // Calls f(piece) for each non-empty piece of `text` (valid UTF-8), in order.
  template <class F>
  void for_each_piece(std::string_view text, F&& f) const {
    run(0, text, f);
  }

  size_t stage_count() const { return stages_.size(); }

 private:
  template <class F>
  void run(size_t stage, std::string_view text, F& f) const {
    if (text.empty()) return;
    if (stage == stages_.size()) {
      f(text);
      return;
    }
    const SplitStage& s = stages_[stage];
    auto next = [&](size_t b, size_t e) {
      if (e > b) run(stage + 1, text.substr(b, e - b), f);
    };
    // The two behaviours tokenizers use are streamed; the merging ones need the whole list.
    const bool keep_matches = s.invert;  // for kRemoved: what survives
    if (s.behavior == SplitBehavior::kRemoved) {
      size_t prev = 0;
      s.regex.for_each_match(text, [&](size_t b, size_t e) {
        if (keep_matches) {
          next(b, e);
        } else {
          next(prev, b);
        }
        prev = e;
      });
      if (!keep_matches) next(prev, text.size());
      return;
    }
    if (s.behavior == SplitBehavior::kIsolated) {
      size_t prev = 0;
      s.regex.for_each_match(text, [&](size_t b, size_t e) {
        next(prev, b);
        next(b, e);
        prev = e;
      });
      next(prev, text.size());
      return;
    }
    std::vector<Cut> cuts = merged_cuts(s, text);
    for (const Cut& c : cuts) next(c.begin, c.end);
  }

  struct Cut {
    size_t begin, end;
  };
  // Pieces for the merging behaviours, folded exactly as HF's NormalizedString::split does
  // (including its treatment of empty matches).
  static std::vector<Cut> merged_cuts(const SplitStage& s, std::string_view text);

  std::vector<SplitStage> stages_;
};

}  // namespace sambay
