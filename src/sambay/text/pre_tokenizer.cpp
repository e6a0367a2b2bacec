#include "sambay/text/pre_tokenizer.h"

#include <algorithm>

namespace sambay {

std::vector<PreTokenizer::Cut> PreTokenizer::merged_cuts(const SplitStage& s, std::string_view text) {
  // HF first lists every span with a flag "is a match" (inverted when `invert`), covering the text
  // and including empty matches, then folds the list by behaviour. Empty pieces are dropped later.
  struct Span {
    size_t begin, end;
    bool match;
  };
  std::vector<Span> spans;
  size_t prev = 0;
  s.regex.for_each_match(text, [&](size_t b, size_t e) {
    if (prev != b) spans.push_back({prev, b, s.invert});
    spans.push_back({b, e, !s.invert});
    prev = e;
  });
  if (prev != text.size()) spans.push_back({prev, text.size(), s.invert});

  std::vector<Cut> cuts;
  bool previous_match = false;
  switch (s.behavior) {
    case SplitBehavior::kContiguous:
      for (const Span& sp : spans) {
        if (sp.match == previous_match && !cuts.empty()) {
          cuts.back().end = sp.end;
        } else {
          cuts.push_back({sp.begin, sp.end});
        }
        previous_match = sp.match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Span& sp : spans) {
        if (sp.match && !previous_match && !cuts.empty()) {
          cuts.back().end = sp.end;
        } else {
          cuts.push_back({sp.begin, sp.end});
        }
        previous_match = sp.match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      // Folded from the right: a match joins the piece that follows it.
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !previous_match && !cuts.empty()) {
          cuts.back().begin = it->begin;
        } else {
          cuts.push_back({it->begin, it->end});
        }
        previous_match = it->match;
      }
      std::reverse(cuts.begin(), cuts.end());
      break;
    case SplitBehavior::kRemoved:
      for (const Span& sp : spans) {
        if (!sp.match) cuts.push_back({sp.begin, sp.end});
      }
      break;
    case SplitBehavior::kIsolated:
      for (const Span& sp : spans) cuts.push_back({sp.begin, sp.end});
      break;
  }
  return cuts;
}

}  // namespace sambay
