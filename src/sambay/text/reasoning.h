#pragma once
// Splits streamed output into reasoning and answer for models that think between <think> and
// </think> written as plain text (Phi-4-mini-flash-reasoning), as vLLM's deepseek_r1 reasoning
// parser does for the OpenAI API's reasoning_content / content.
//
// Semantics, on the whole output:
//   - Text before the open tag is content (vLLM drops it; a model that talks before thinking
//     should not lose that text). Only the first open tag counts; a close tag before it is content.
//   - With `starts_in_reasoning` (the prompt already opened the block, DeepSeek-R1 style) the
//     output starts inside the block and no open tag is looked for.
//   - Inside the block, everything up to the first close tag is reasoning; a second open tag there
//     is reasoning text.
//   - Everything after the first close tag is content, tags included (there is one block).
//   - The tags themselves are dropped. White space is kept exactly, including the newline(s) that
//     usually follow </think>: trimming is a presentation choice left to the caller.
//   - Output that ends inside the block (no close tag: length limit, stop string) is reasoning,
//     including a held-back partial close tag such as "</thi".
// Tags may be split across pieces; a possible partial tag is held back, as for stop strings, and
// the result is the same for every split of the text (split_reasoning is the one-shot form).
#include <string>
#include <string_view>

#include "sambay/text/stop_strings.h"

namespace sambay {

struct ReasoningOptions {
  std::string open_tag = "<think>";
  std::string close_tag = "</think>";
  bool starts_in_reasoning = false;
};

class ReasoningSplitter {
 public:
  struct Parts {
    std::string reasoning;
    std::string content;
  };

  // Throws sambay::Error for an empty or invalid UTF-8 tag.
  explicit ReasoningSplitter(ReasoningOptions options = {});

  // Adds generated text (valid UTF-8, possibly empty); returns what is now decided. Each part is
  // valid UTF-8 (cuts fall at tag boundaries, see stop_strings.h).
  Parts push(std::string_view piece);
  // Ends the stream: returns the held-back text, assigned as documented above.
  Parts finish();

  // Inside the think block (a UI may show "thinking..."); false before it opens and after it closes.
  bool in_reasoning() const { return stage_ == Stage::kReasoning; }

 private:
  enum class Stage { kBeforeOpen, kReasoning, kAfterClose };
  std::string& out(Parts& parts) const {
    return stage_ == Stage::kReasoning ? parts.reasoning : parts.content;
  }

  Stage stage_;
  StopStringMatcher open_;   // finds the open tag
  StopStringMatcher close_;  // finds the close tag
};

// The one-shot form, for a finished (non-streamed) output.
ReasoningSplitter::Parts split_reasoning(std::string_view full, const ReasoningOptions& options = {});

// Whether a rendered prompt already opened the think block (it ends with the open tag, trailing
// white space aside), i.e. whether to set starts_in_reasoning.
bool prompt_opens_reasoning(std::string_view prompt, std::string_view open_tag = "<think>");

}  // namespace sambay
