// DetokenizerStream and the UTF-8 repair it relies on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sambay/text/detokenizer.h"
#include "sambay/text/utf8.h"
#include "tokenizer_fixture.h"

namespace sambay::test {
namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

// Streams ids and checks that every piece handed out is valid UTF-8.
std::string stream_all(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special = false) {
  DetokenizerStream stream(tok, skip_special);
  std::string all;
  for (int32_t id : ids) {
    const std::string piece = stream.push(id);
    EXPECT_TRUE(utf8::is_valid(piece)) << "id " << id;
    EXPECT_LE(stream.pending_bytes(), 3u);
    all += piece;
  }
  const std::string tail = stream.finish();
  EXPECT_TRUE(utf8::is_valid(tail));
  EXPECT_EQ(stream.pending_bytes(), 0u);
  return all + tail;
}

int32_t byte_token(const Tokenizer& tok, uint8_t b) {
  const char c = static_cast<char>(b);
  const auto id = tok.bytes_to_id(std::string_view(&c, 1));
  EXPECT_TRUE(id.has_value()) << "no token for byte " << int(b);
  return id.value_or(-1);
}

TEST(Detokenizer, StreamingEveryGoldenLineGivesItsText) {
  const Tokenizer& tok = shared_tokenizer();
  for (const auto& row : read_jsonl("encode-golden.jsonl")) {
    const auto ids = ids_of(row);
    bool has_added = false;
    for (int32_t id : ids) has_added |= tok.is_added(id);
    if (has_added) continue;  // swallowed white space is not in the ids
    EXPECT_EQ(stream_all(tok, ids), row.at("text").get<std::string>()) << row.at("name").get<std::string>();
  }
}

TEST(Detokenizer, EmojiSplitAcrossTokensIsHeldBack) {
  // tricky:emoji: "hi 👋🏽 ..." is encoded with tokens that end inside the 4-byte emoji.
  const Tokenizer& tok = shared_tokenizer();
  for (const auto& row : read_jsonl("encode-golden.jsonl")) {
    if (row.at("name") != "tricky:emoji") continue;
    const auto ids = ids_of(row);
    DetokenizerStream stream(tok);
    int held = 0;
    for (int32_t id : ids) {
      const std::string piece = stream.push(id);
      EXPECT_TRUE(utf8::is_valid(piece));
      held += stream.pending_bytes() > 0;
    }
    EXPECT_GT(held, 0) << "the data should exercise a split character";
    EXPECT_EQ(stream.finish(), "");
  }
}

TEST(Detokenizer, MultiByteCharacterFedOneByteAtATime) {
  const Tokenizer& tok = shared_tokenizer();
  const std::string text = "é中😀";  // 2, 3 and 4 bytes
  DetokenizerStream stream(tok);
  std::string out;
  for (unsigned char b : text) {
    const std::string piece = stream.push(byte_token(tok, b));
    // Output appears only when a character is complete.
    EXPECT_TRUE(piece.empty() || piece == "é" || piece == "中" || piece == "😀") << piece;
    out += piece;
  }
  EXPECT_EQ(out, text);
  EXPECT_EQ(stream.finish(), "");
}

TEST(Detokenizer, UnicodeStandardReplacementExample) {
  // The Unicode Standard, §3.9, Table 3-8 ("U+FFFD for maximal subparts"): the bytes
  // 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 decode to a FFFD FFFD FFFD b FFFD c FFFD FFFD d.
  const Tokenizer& tok = shared_tokenizer();
  const std::vector<uint8_t> bytes = {0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64};
  const std::string want = "a" + kFFFD + kFFFD + kFFFD + "b" + kFFFD + "c" + kFFFD + kFFFD + "d";
  std::vector<int32_t> ids;
  for (uint8_t b : bytes) ids.push_back(byte_token(tok, b));
  EXPECT_EQ(stream_all(tok, ids), want);
  EXPECT_EQ(tok.decode(ids), want);
  EXPECT_EQ(utf8::to_lossy(std::string(bytes.begin(), bytes.end())), want);
}

TEST(Detokenizer, IncompleteTailBecomesReplacementAtFinish) {
  const Tokenizer& tok = shared_tokenizer();
  DetokenizerStream stream(tok);
  EXPECT_EQ(stream.push(byte_token(tok, 'x')), "x");
  EXPECT_EQ(stream.push(byte_token(tok, 0xF0)), "");
  EXPECT_EQ(stream.push(byte_token(tok, 0x9F)), "");
  EXPECT_EQ(stream.pending_bytes(), 2u);
  EXPECT_EQ(stream.finish(), kFFFD);
  // A byte that can never start a character is replaced at once, not held.
  EXPECT_EQ(stream.push(byte_token(tok, 0xFF)), kFFFD);
  // An interrupted sequence: the held prefix is replaced when the next byte proves it invalid.
  EXPECT_EQ(stream.push(byte_token(tok, 0xE2)), "");
  EXPECT_EQ(stream.push(byte_token(tok, 'a')), kFFFD + "a");
  EXPECT_EQ(stream.finish(), "");
}

TEST(Detokenizer, IdsWithoutTextProduceNothing) {
  const Tokenizer& tok = shared_tokenizer();
  DetokenizerStream stream(tok);
  EXPECT_EQ(stream.push(byte_token(tok, 0xE4)), "");
  for (int32_t id : {-1, 199998, 200000, 200017, 200029, 200063, 1 << 30, INT32_MIN}) {
    EXPECT_EQ(stream.push(id), "") << id;
  }
  EXPECT_EQ(stream.push(byte_token(tok, 0xB8)), "");
  EXPECT_EQ(stream.push(byte_token(tok, 0xAD)), "中");
}

TEST(Detokenizer, SkipSpecialTokens) {
  const Tokenizer& tok = shared_tokenizer();
  for (const auto& row : read_jsonl("chat-golden.jsonl")) {
    const auto ids = ids_of(row);
    EXPECT_EQ(stream_all(tok, ids, true), tok.decode(ids, true)) << row.at("name").get<std::string>();
    EXPECT_EQ(stream_all(tok, ids, false), tok.decode(ids, false)) << row.at("name").get<std::string>();
  }
}

TEST(Utf8, ClassifiesAgainstTheStandardTable) {
  // Unicode Table 3-7 boundaries.
  EXPECT_TRUE(utf8::is_valid("\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));
  for (const char* bad : {"\xC0\x80", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80",
                          "\xF5\x80\x80\x80", "\x80", "\xFF"}) {
    EXPECT_FALSE(utf8::is_valid(bad)) << bad;
  }
  // Surrogates (ED A0..BF) and overlongs are one U+FFFD per byte, as each byte is a maximal subpart.
  EXPECT_EQ(utf8::to_lossy("\xED\xA0\x80"), kFFFD + kFFFD + kFFFD);
  EXPECT_EQ(utf8::to_lossy("\xC0\xAF"), kFFFD + kFFFD);
}

}  // namespace
}  // namespace sambay::test
