// ReasoningSplitter against a whole-string reference built on std::string::find: streaming in any
// split (tags cut across pieces, missing close tag) must equal the one-shot result and the reference.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sambay/base/error.h"
#include "sambay/text/reasoning.h"
#include "sambay/text/utf8.h"

namespace sambay::test {
namespace {

using Parts = ReasoningSplitter::Parts;

struct Ref {
  Parts parts;
  size_t tag_bytes = 0;  // bytes of tags found (they are dropped)
};

// The documented semantics, on the whole text.
Ref ref_split(const std::string& full, const ReasoningOptions& o) {
  Ref ref;
  std::string rest = full;
  if (!o.starts_in_reasoning) {
    const size_t open = full.find(o.open_tag);
    if (open == std::string::npos) {
      ref.parts.content = full;
      return ref;
    }
    ref.parts.content = full.substr(0, open);
    rest = full.substr(open + o.open_tag.size());
    ref.tag_bytes += o.open_tag.size();
  }
  const size_t close = rest.find(o.close_tag);
  if (close == std::string::npos) {
    ref.parts.reasoning = rest;  // ended while thinking
    return ref;
  }
  ref.parts.reasoning = rest.substr(0, close);
  ref.parts.content += rest.substr(close + o.close_tag.size());
  ref.tag_bytes += o.close_tag.size();
  return ref;
}

std::string show(const Parts& p) {
  return "reasoning=" + ::testing::PrintToString(p.reasoning) + " content=" + ::testing::PrintToString(p.content);
}

// Streams the pieces; after each push checks that nothing is held back beyond a partial tag.
Parts stream(const std::vector<std::string>& pieces, const ReasoningOptions& o, bool pieces_are_utf8) {
  ReasoningSplitter splitter(o);
  Parts all;
  std::string text;
  const size_t max_tag = std::max(o.open_tag.size(), o.close_tag.size());
  for (const std::string& piece : pieces) {
    const Parts p = splitter.push(piece);
    if (pieces_are_utf8) {
      EXPECT_TRUE(utf8::is_valid(p.reasoning));
      EXPECT_TRUE(utf8::is_valid(p.content));
    }
    all.reasoning += p.reasoning;
    all.content += p.content;
    text += piece;
    // Everything but the dropped tags and a possible partial tag (< longest tag) is out already.
    const Ref ref = ref_split(text, o);
    const size_t out = all.reasoning.size() + all.content.size();
    EXPECT_LE(out + ref.tag_bytes, text.size());
    EXPECT_GE(out + ref.tag_bytes + (max_tag - 1), text.size()) << "held back too much of " << text;
    // Output so far never contradicts the final answer on the text so far.
    EXPECT_EQ(ref.parts.reasoning.compare(0, all.reasoning.size(), all.reasoning), 0) << text;
    EXPECT_EQ(ref.parts.content.compare(0, all.content.size(), all.content), 0) << text;
    const bool ref_in_reasoning = ref.tag_bytes == (o.starts_in_reasoning ? 0 : o.open_tag.size()) &&
                                  (o.starts_in_reasoning || text.find(o.open_tag) != std::string::npos);
    EXPECT_EQ(splitter.in_reasoning(), ref_in_reasoning) << text;
  }
  const Parts tail = splitter.finish();
  all.reasoning += tail.reasoning;
  all.content += tail.content;
  return all;
}

std::vector<std::string> chars_of(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    utf8::next(s, i);
    out.push_back(s.substr(start, i - start));
  }
  return out;
}

void expect_same(const Parts& got, const Parts& want, const std::string& what) {
  EXPECT_EQ(got.reasoning, want.reasoning) << what << " got " << show(got) << " want " << show(want);
  EXPECT_EQ(got.content, want.content) << what << " got " << show(got) << " want " << show(want);
}

// The text whole, per byte, at every split point, at every pair of split points (short texts) and
// in random splits: all must equal split_reasoning and the reference.
void check_all_splits(const std::string& text, const ReasoningOptions& o, std::mt19937& rng) {
  const Parts want = ref_split(text, o).parts;
  expect_same(split_reasoning(text, o), want, "one-shot " + text);
  expect_same(stream({text}, o, true), want, "whole " + text);
  std::vector<std::string> bytes;
  for (char c : text) bytes.push_back(std::string(1, c));
  expect_same(stream(bytes, o, false), want, "bytes " + text);
  const auto chars = chars_of(text);
  std::vector<size_t> cuts = {0};  // byte offsets of character boundaries
  for (const auto& c : chars) cuts.push_back(cuts.back() + c.size());
  for (size_t a : cuts) expect_same(stream({text.substr(0, a), text.substr(a)}, o, true), want, "split " + text);
  if (chars.size() <= 40)
    for (size_t a : cuts)
      for (size_t b : cuts)
        if (a <= b)
          expect_same(stream({text.substr(0, a), text.substr(a, b - a), text.substr(b)}, o, true), want,
                      "split3 " + text);
  for (int t = 0; t < 10; ++t) {
    std::vector<std::string> pieces;
    for (size_t i = 0; i < chars.size();) {
      std::string piece;
      for (int n = rng() % 5; n > 0 && i < chars.size(); --n) piece += chars[i++];
      pieces.push_back(piece);
    }
    expect_same(stream(pieces, o, true), want, "random " + text);
  }
}

TEST(Reasoning, NamedCases) {
  std::mt19937 rng(7);
  const ReasoningOptions def;
  struct Case {
    std::string text;
    std::string reasoning, content;
  };
  const std::vector<Case> cases = {
      {"<think>Let me see.</think>\n\nThe answer is 4.", "Let me see.", "\n\nThe answer is 4."},
      {"Sure. <think>hmm</think>4", "hmm", "Sure. 4"},         // text before the block is content
      {"no thinking here", "", "no thinking here"},
      {"<think>cut off by max_tokens", "cut off by max_tokens", ""},  // no close: all reasoning
      {"<think>cut off in the tag </thi", "cut off in the tag </thi", ""},
      {"ends on a partial <thi", "", "ends on a partial <thi"},
      {"<think></think>", "", ""},
      {"<think>", "", ""},
      {"<<think>x</think>>", "x", "<>"},
      {"<think<think>x</think</think>y", "x</think", "<thinky"},
      {"<think>a<think>b</think>c</think>d<think>e", "a<think>b", "c</think>d<think>e"},  // one block
      {"</think>stray<think>r</think>", "r", "</think>stray"},  // a close tag before the open one
      {"<think>数学 😀 思考</think>答え 😀", "数学 😀 思考", "答え 😀"},
      {"<think>\n</think>\n", "\n", "\n"},  // white space kept as is
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    expect_same(ref_split(c.text, def).parts, Parts{c.reasoning, c.content}, "the reference itself");
    check_all_splits(c.text, def, rng);
  }
}

TEST(Reasoning, StartsInReasoning) {
  std::mt19937 rng(8);
  ReasoningOptions o;
  o.starts_in_reasoning = true;
  expect_same(split_reasoning("thinking...</think>answer", o), Parts{"thinking...", "answer"}, "");
  expect_same(split_reasoning("<think>x</think>y", o), Parts{"<think>x", "y"}, "no open tag is looked for");
  expect_same(split_reasoning("never closed", o), Parts{"never closed", ""}, "");
  for (const std::string text : {"thinking...</think>answer", "<think>x</think>y", "never closed </thin",
                                 "</think>", "a</think></think>b"})
    check_all_splits(text, o, rng);
  EXPECT_TRUE(ReasoningSplitter(o).in_reasoning());
  EXPECT_FALSE(ReasoningSplitter().in_reasoning());
}

TEST(Reasoning, CustomTagsAndPrompt) {
  std::mt19937 rng(9);
  ReasoningOptions o;
  o.open_tag = "◁think▷";  // multi-byte tags
  o.close_tag = "◁/think▷";
  expect_same(split_reasoning("pre◁think▷r◁/think▷c", o), Parts{"r", "prec"}, "");
  check_all_splits("pre◁think▷r◁◁/thin◁/think▷c◁", o, rng);
  EXPECT_THROW(ReasoningSplitter(ReasoningOptions{"", "</think>", false}), sambay::Error);
  EXPECT_THROW(ReasoningSplitter(ReasoningOptions{"<think>", "", true}), sambay::Error);
  EXPECT_TRUE(prompt_opens_reasoning("<|assistant|><think>\n"));
  EXPECT_FALSE(prompt_opens_reasoning("<|assistant|>"));
}

TEST(Reasoning, StreamingPiecesAreDecidedEarly) {
  ReasoningSplitter s;
  auto p = s.push("Hi <th");
  EXPECT_EQ(p.content, "Hi ");
  p = s.push("ink>Let");
  EXPECT_EQ(p.content, "");
  EXPECT_EQ(p.reasoning, "Let");
  EXPECT_TRUE(s.in_reasoning());
  p = s.push(" me</");
  EXPECT_EQ(p.reasoning, " me");
  p = s.push("think>\nOK");
  EXPECT_EQ(p.reasoning, "");
  EXPECT_EQ(p.content, "\nOK");
  EXPECT_FALSE(s.in_reasoning());
  p = s.push("</");  // after the block nothing is held back
  EXPECT_EQ(p.content, "</");
  p = s.finish();
  EXPECT_EQ(p.content + p.reasoning, "");
}

TEST(Reasoning, RandomTexts) {
  // Fragments of the tags make partial and overlapping tags common.
  const std::vector<std::string> alphabet = {"<think>", "</think>", "<", "</", "<th", "ink>", "think>", "k>",
                                             "a", " ", "\n", "中", "😀", "/"};
  std::mt19937 rng(4242);
  int with_both = 0;
  for (int t = 0; t < 600; ++t) {
    std::string text;
    for (int n = rng() % 12; n > 0; --n) text += alphabet[rng() % alphabet.size()];
    ReasoningOptions o;
    o.starts_in_reasoning = rng() % 3 == 0;
    const Ref ref = ref_split(text, o);
    with_both += !ref.parts.reasoning.empty() && !ref.parts.content.empty();
    SCOPED_TRACE(text);
    check_all_splits(text, o, rng);
  }
  EXPECT_GT(with_both, 50);
}

}  // namespace
}  // namespace sambay::test
