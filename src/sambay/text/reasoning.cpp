#include "sambay/text/reasoning.h"

#include "sambay/base/error.h"

namespace sambay {

namespace {
// An empty tag would match before any text; a matcher given one would silently never stop.
const std::string& checked_tag(const std::string& tag, const char* which) {
  if (tag.empty()) fail("reasoning {} tag is empty", which);
  return tag;
}
}  // namespace

ReasoningSplitter::ReasoningSplitter(ReasoningOptions options)
    : stage_(options.starts_in_reasoning ? Stage::kReasoning : Stage::kBeforeOpen),
      open_({checked_tag(options.open_tag, "open")}),
      close_({checked_tag(options.close_tag, "close")}) {}

ReasoningSplitter::Parts ReasoningSplitter::push(std::string_view piece) {
  Parts parts;
  // One piece may hold both tags ("<think>hi</think>"): each tag found hands the rest of the piece
  // to the next stage.
  while (stage_ != Stage::kAfterClose) {
    StopStringMatcher& m = stage_ == Stage::kBeforeOpen ? open_ : close_;
    StopStringMatcher::Result r = m.push(piece);
    out(parts) += r.emit;
    if (!r.stopped) return parts;
    piece.remove_prefix(r.consumed);
    stage_ = stage_ == Stage::kBeforeOpen ? Stage::kReasoning : Stage::kAfterClose;
  }
  parts.content.append(piece);
  return parts;
}

ReasoningSplitter::Parts ReasoningSplitter::finish() {
  Parts parts;
  if (stage_ == Stage::kBeforeOpen) parts.content = open_.finish();
  if (stage_ == Stage::kReasoning) parts.reasoning = close_.finish();
  return parts;
}

ReasoningSplitter::Parts split_reasoning(std::string_view full, const ReasoningOptions& options) {
  ReasoningSplitter splitter(options);
  ReasoningSplitter::Parts parts = splitter.push(full);
  ReasoningSplitter::Parts tail = splitter.finish();
  parts.reasoning += tail.reasoning;
  parts.content += tail.content;
  return parts;
}

bool prompt_opens_reasoning(std::string_view prompt, std::string_view open_tag) {
  while (!prompt.empty() && (prompt.back() == ' ' || prompt.back() == '\n' || prompt.back() == '\t' ||
                             prompt.back() == '\r'))
    prompt.remove_suffix(1);
  return !open_tag.empty() && prompt.ends_with(open_tag);
}

}  // namespace sambay
