// StopStringMatcher against a whole-string reference built on std::string::find: for every split
// of the text, after every push, the emitted total must be exactly the reference's safe prefix.
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sambay/base/error.h"
#include "sambay/text/stop_strings.h"
#include "sambay/text/utf8.h"

namespace sambay::test {
namespace {

struct RefStop {
  size_t cut;    // bytes of output kept
  size_t index;  // stop string that matched
};

// The documented rule on the whole text: the occurrence that ends first; on a tie the longest; on
// a tie of equal strings the first index. A stop string's earliest-ending occurrence is its first.
std::optional<RefStop> ref_stop(const std::string& text, const std::vector<std::string>& stops) {
  std::optional<RefStop> best;
  size_t best_end = 0, best_len = 0;
  for (size_t k = 0; k < stops.size(); ++k) {
    if (stops[k].empty()) continue;
    const size_t pos = text.find(stops[k]);
    if (pos == std::string::npos) continue;
    const size_t end = pos + stops[k].size();
    if (!best || end < best_end || (end == best_end && stops[k].size() > best_len)) {
      best = RefStop{pos, k};
      best_end = end;
      best_len = stops[k].size();
    }
  }
  return best;
}

// Without a stop: all of the text but its longest suffix that is a proper prefix of a stop string.
size_t ref_safe(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& s : stops)
    for (size_t len = 1; len < s.size() && len <= text.size(); ++len)
      if (text.compare(text.size() - len, len, s, 0, len) == 0) hold = std::max(hold, len);
  return text.size() - hold;
}

// Streams `pieces` and checks the state after every push and the final result. Returns the output.
std::string check_stream(const std::vector<std::string>& stops, const std::vector<std::string>& pieces,
                         bool pieces_are_utf8) {
  StopStringMatcher m(stops);
  std::string text, out;
  std::optional<RefStop> ref;
  for (const std::string& piece : pieces) {
    const auto r = m.push(piece);
    if (pieces_are_utf8) {
      EXPECT_TRUE(utf8::is_valid(r.emit)) << "split inside a character";
    }
    out += r.emit;
    const bool was_stopped = ref.has_value();
    if (!was_stopped) {
      text += piece;
      ref = ref_stop(text, stops);
    }
    const std::string ctx = "stops/text: " + ::testing::PrintToString(stops) + " " + ::testing::PrintToString(text);
    EXPECT_EQ(r.stopped, ref.has_value()) << ctx;
    if (ref) {
      EXPECT_EQ(out, text.substr(0, ref->cut)) << ctx;
      EXPECT_EQ(m.matched_index(), ref->index) << ctx;
      EXPECT_EQ(m.matched_string(), stops[ref->index]) << ctx;
      if (!was_stopped) {
        // The rest of the piece after the stop string, for chained filters.
        EXPECT_EQ(text.substr(text.size() - piece.size() + r.consumed),
                  text.substr(ref->cut + stops[ref->index].size()))
            << ctx;
      } else {
        EXPECT_EQ(r.emit, "");
      }
    } else {
      const size_t safe = ref_safe(text, stops);
      EXPECT_EQ(out, text.substr(0, safe)) << ctx;  // neither early nor late
      EXPECT_EQ(m.held_bytes(), text.size() - safe) << ctx;
      EXPECT_EQ(r.consumed, piece.size());
      EXPECT_FALSE(m.matched_index().has_value());
    }
  }
  const std::string tail = m.finish();
  if (ref) {
    EXPECT_EQ(tail, "");
  }
  out += tail;
  EXPECT_EQ(m.held_bytes(), 0u);
  return out;
}

// The reference answer on the whole text.
std::string ref_output(const std::string& text, const std::vector<std::string>& stops) {
  const auto r = ref_stop(text, stops);
  return r ? text.substr(0, r->cut) : text;
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

// Random split at character boundaries (pieces of 0..max_chars characters, empty ones included).
std::vector<std::string> random_split(const std::string& s, std::mt19937& rng, int max_chars) {
  const auto chars = chars_of(s);
  std::vector<std::string> pieces;
  std::uniform_int_distribution<int> len(0, max_chars);
  for (size_t i = 0; i < chars.size();) {
    std::string piece;
    for (int n = len(rng); n > 0 && i < chars.size(); --n) piece += chars[i++];
    pieces.push_back(piece);
  }
  pieces.push_back("");
  return pieces;
}

// Checks one text against one stop list: whole, per character, per byte, every two-piece split and
// random splits.
void check_all_splits(const std::string& text, const std::vector<std::string>& stops, std::mt19937& rng) {
  const std::string want = ref_output(text, stops);
  EXPECT_EQ(check_stream(stops, {text}, true), want);
  EXPECT_EQ(check_stream(stops, chars_of(text), true), want);
  std::vector<std::string> bytes;
  for (char c : text) bytes.push_back(std::string(1, c));
  EXPECT_EQ(check_stream(stops, bytes, false), want);  // the matcher works on bytes anyway
  const auto chars = chars_of(text);
  std::string head;
  for (size_t i = 0; i <= chars.size(); ++i) {
    std::string rest;
    for (size_t j = i; j < chars.size(); ++j) rest += chars[j];
    EXPECT_EQ(check_stream(stops, {head, rest}, true), want);
    if (i < chars.size()) head += chars[i];
  }
  for (int t = 0; t < 5; ++t) EXPECT_EQ(check_stream(stops, random_split(text, rng, 4), true), want);
}

TEST(StopStrings, NamedCases) {
  std::mt19937 rng(1);
  struct Case {
    std::string text;
    std::vector<std::string> stops;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"aaab", {"aab"}, "a"},                      // partial prefixes again and again
      {"aaaaaaab", {"aab"}, "aaaaa"},
      {"abababac", {"ababac"}, "ab"},              // the held text must fall back, not restart
      {"abcd", {"abcd", "bc"}, "a"},               // the one that ends first wins
      {"xabc", {"bc", "abc"}, "x"},                // same end: the longer one
      {"zabc", {"abc", "ab"}, "z"},                // a stop string that is a prefix of another
      {"STOPxyz", {"STOP"}, ""},                   // at the very start
      {"xyzSTOP", {"STOP"}, "xyz"},                // at the very end
      {"xyzSTO", {"STOP"}, "xyzSTO"},              // unfinished at the end: flushed by finish()
      {"hello world", {}, "hello world"},          // no stop strings
      {"hello world", {"", "wor"}, "hello "},      // empty stop strings are ignored
      {"a😀b中c", {"😀"}, "a"},                    // multi-byte stop string
      {"a😀b中c", {"中"}, "a😀b"},
      {"😀😁😀😂", {"😀😂"}, "😀😁"},              // shares lead bytes with the text
      {"日本語のテキスト", {"テキ", "本語x"}, "日本語の"},
      {"<|end|>tail", {"<|end|>", "<|"}, ""},
      {"one\n\nUser:", {"\n\nUser:", "\nUser:"}, "one"},  // same end, the longer one
      {"x", {"xyz", "y"}, "x"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(ref_output(c.text, c.stops), c.want) << "the reference itself";
    check_all_splits(c.text, c.stops, rng);
  }
}

TEST(StopStrings, ReportsWhichStopMatched) {
  StopStringMatcher m({"", "end", "STOP", "end"});
  auto r = m.push("the en");
  EXPECT_EQ(r.emit, "the ");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(m.held_bytes(), 2u);
  r = m.push("d is near");
  EXPECT_EQ(r.emit, "");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.consumed, 1u);  // "d"; " is near" is after the stop string
  EXPECT_EQ(m.matched_index(), 1u);  // the first of the duplicates
  EXPECT_EQ(m.matched_string(), "end");
  // Later pushes are ignored.
  r = m.push("more");
  EXPECT_EQ(r.emit, "");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(m.finish(), "");
}

TEST(StopStrings, HoldsBackOnlyWhatCouldStillMatch) {
  StopStringMatcher m({"Observation:"});
  EXPECT_EQ(m.push("I think. Obs").emit, "I think. ");
  EXPECT_EQ(m.push("cure").emit, "Obscure");  // no longer a prefix: released at once
  EXPECT_EQ(m.push(" O").emit, " ");
  EXPECT_EQ(m.finish(), "O");
}

TEST(StopStrings, RejectsInvalidUtf8StopString) {
  EXPECT_THROW(StopStringMatcher({"ok", std::string("\xF0\x9F", 2)}), sambay::Error);
}

TEST(StopStrings, RandomTextsAndStopLists) {
  // A small alphabet makes overlaps, repeated partial prefixes and shared lead bytes common.
  const std::vector<std::string> alphabet = {"a", "b", "a", "b", "c", "é", "中", "😀", "😁", " "};
  std::mt19937 rng(12345);
  auto random_text = [&](int max_chars) {
    std::string s;
    for (int n = std::uniform_int_distribution<int>(0, max_chars)(rng); n > 0; --n)
      s += alphabet[rng() % alphabet.size()];
    return s;
  };
  int stopped = 0;
  for (int t = 0; t < 1500; ++t) {
    const std::string text = random_text(24);
    std::vector<std::string> stops;
    for (int n = rng() % 4; n > 0; --n) {
      if (rng() % 2 && !text.empty()) {  // a piece of the text, so that it often matches
        const auto chars = chars_of(text);
        const size_t a = rng() % chars.size(), len = 1 + rng() % 4;
        std::string s;
        for (size_t i = a; i < chars.size() && i < a + len; ++i) s += chars[i];
        stops.push_back(s);
      } else {
        stops.push_back(random_text(4));
      }
    }
    if (rng() % 4 == 0 && !stops.empty() && !stops[0].empty())  // a stop string's first character
      stops.push_back(chars_of(stops[0])[0]);
    SCOPED_TRACE(::testing::PrintToString(text) + " stops " + ::testing::PrintToString(stops));
    stopped += ref_stop(text, stops).has_value();
    for (int k = 0; k < 4; ++k) EXPECT_EQ(check_stream(stops, random_split(text, rng, 3), true), ref_output(text, stops));
    if (t % 50 == 0) check_all_splits(text, stops, rng);
  }
  EXPECT_GT(stopped, 300) << "the generator should produce many matches";
}

TEST(StopStrings, LongOutputStaysLinear) {
  // 1 MB of 'a' one byte at a time against a 1000-byte stop string that almost matches everywhere:
  // a matcher that rescanned the output (or the held text per byte) would take ~1e9 steps.
  const std::string stop = std::string(999, 'a') + "b";
  StopStringMatcher m({stop, "zz"});
  size_t emitted = 0;
  const size_t n = 1 << 20;
  for (size_t i = 0; i < n; ++i) {
    emitted += m.push("a").emit.size();
    ASSERT_LE(m.held_bytes(), stop.size() - 1);
  }
  EXPECT_EQ(emitted, n - 999);
  const auto r = m.push("b tail");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit, "");  // the stop string started within the held text
  EXPECT_EQ(r.consumed, 1u);
}

}  // namespace
}  // namespace sambay::test
