// The tokenizer against the ids Hugging Face tokenizers produced (tests/data/tokenizer/*.jsonl).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer_fixture.h"

namespace sambay::test {
namespace {

TEST(TokenizerGolden, EveryEncodeLineMatchesHuggingFace) {
  const Tokenizer& tok = shared_tokenizer();
  const auto rows = read_jsonl("encode-golden.jsonl");
  ASSERT_EQ(rows.size(), 554u) << "the golden file should hold 554 texts";
  int failures = 0;
  for (const auto& row : rows) {
    const std::string text = row.at("text");
    const auto want = ids_of(row);
    const auto got = tok.encode(text);
    if (got != want) {
      ++failures;
      ADD_FAILURE() << row.at("name").get<std::string>() << ": " << first_difference(got, want);
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(TokenizerGolden, GoldenIdsDecodeToTheirText) {
  // The reverse direction against the same data: decode(golden ids) == golden text, except that
  // white space swallowed by an rstrip added token cannot come back.
  const Tokenizer& tok = shared_tokenizer();
  for (const auto& row : read_jsonl("encode-golden.jsonl")) {
    const std::string text = row.at("text");
    const auto ids = ids_of(row);
    bool has_added = false;
    for (int32_t id : ids) has_added |= tok.is_added(id);
    if (has_added) continue;
    EXPECT_EQ(tok.decode(ids), text) << row.at("name").get<std::string>();
  }
}

TEST(TokenizerGolden, EncodeThenDecodeGivesTheTextBack) {
  // Exact for every text except where an rstrip added token swallowed white space (HF drops it
  // too): there the result must equal the decoded golden ids instead.
  const Tokenizer& tok = shared_tokenizer();
  const std::set<std::string> swallowing = {"edge:25", "tricky:rstrip_special", "chat:4"};
  auto check = [&](const nlohmann::json& row, const std::string& text) {
    const std::string name = row.at("name");
    const std::string want = swallowing.count(name) ? tok.decode(ids_of(row)) : text;
    EXPECT_EQ(tok.decode(tok.encode(text)), want) << name;
    EXPECT_EQ(tok.decode(tok.encode_plain(text)), text) << name;
  };
  for (const auto& row : read_jsonl("encode-golden.jsonl")) check(row, row.at("text"));
  for (const auto& row : read_jsonl("chat-golden.jsonl")) check(row, row.at("prompt"));
}

TEST(TokenizerGolden, EncodePlainMatchesWhereTheTextHasNoAddedTokens) {
  const Tokenizer& tok = shared_tokenizer();
  int checked = 0;
  for (const auto& row : read_jsonl("encode-golden.jsonl")) {
    const auto want = ids_of(row);
    bool has_added = false;
    for (int32_t id : want) has_added |= tok.is_added(id);
    if (has_added) continue;
    ++checked;
    const auto got = tok.encode_plain(row.at("text").get<std::string>());
    EXPECT_EQ(got, want) << row.at("name").get<std::string>() << ": " << first_difference(got, want);
  }
  EXPECT_GT(checked, 500);
}

TEST(TokenizerGolden, ChatPromptsEncodeAsHuggingFace) {
  const Tokenizer& tok = shared_tokenizer();
  const auto rows = read_jsonl("chat-golden.jsonl");
  ASSERT_EQ(rows.size(), 8u);
  for (const auto& row : rows) {
    const auto got = tok.encode(row.at("prompt").get<std::string>());
    const auto want = ids_of(row);
    EXPECT_EQ(got, want) << row.at("name").get<std::string>() << ": " << first_difference(got, want);
  }
}

TEST(TokenizerGolden, ConcurrentEncodesAgree) {
  // const methods are used from many threads at once (server workers); the lazily filled tables
  // must not change any result.
  const Tokenizer& tok = shared_tokenizer();
  const auto rows = read_jsonl("encode-golden.jsonl");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < rows.size() + t; ++i) {
        const auto& row = rows[(i * 7 + t) % rows.size()];
        if (tok.encode(row.at("text").get<std::string>()) != ids_of(row)) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST(TokenizerGolden, VocabularyFacts) {
  // Facts the README of the reference data states.
  const Tokenizer& tok = shared_tokenizer();
  EXPECT_EQ(tok.vocab_size(), 200029);
  EXPECT_EQ(tok.token_to_id("<|endoftext|>"), 199999);
  EXPECT_EQ(tok.token_to_id("<|end|>"), 200020);
  EXPECT_EQ(tok.token_to_id("<|endofprompt|>"), 200018);
  EXPECT_TRUE(tok.is_special(199999));
  EXPECT_TRUE(tok.is_special(200020));
  EXPECT_FALSE(tok.is_special(200023));  // <|tool|> is added but not special
  EXPECT_TRUE(tok.is_added(200023));
  EXPECT_EQ(tok.added_tokens().size(), 12u);
  for (int32_t id : {199998, 200000, 200017, 200029, 200063}) {
    EXPECT_EQ(tok.token_bytes(id), "") << id;
    EXPECT_FALSE(tok.is_special(id)) << id;
  }
  // From the goldens: "\n" is 198, " " is 220 (tricky:newlines, tricky:spaces).
  EXPECT_EQ(tok.token_bytes(198), "\n");
  EXPECT_EQ(tok.token_bytes(220), " ");
  EXPECT_EQ(tok.token_to_id("\xC4\x8A"), 198);  // "Ċ", the byte-level spelling of "\n"
  EXPECT_EQ(tok.bytes_to_id("\n"), 198);
  EXPECT_EQ(tok.token_bytes(200020), "<|end|>");
}

TEST(TokenizerGolden, UnknownIdsDecodeToNothing) {
  const Tokenizer& tok = shared_tokenizer();
  const std::vector<int32_t> ids = {13225, 199998, -1, 200000, 200063, 1 << 30, INT32_MIN, 11, 200029, 2375};
  // 13225 11 2375 = "Hello" "," " world" (tricky:ascii).
  EXPECT_EQ(tok.decode(ids), "Hello, world");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{}), "");
}

TEST(TokenizerGolden, SkipSpecialTokensRemovesRoleMarkers) {
  // chat:0 rendered "<|user|>{content}<|end|><|assistant|>": only the content remains.
  const Tokenizer& tok = shared_tokenizer();
  for (const auto& row : read_jsonl("chat-golden.jsonl")) {
    const std::string name = row.at("name");
    if (name != "chat:0" && name != "chat:1" && name != "chat:5" && name != "chat:6") continue;
    std::string want;
    for (const auto& m : row.at("messages")) want += m.at("content").get<std::string>();
    EXPECT_EQ(tok.decode(ids_of(row), /*skip_special_tokens=*/true), want) << name;
  }
}

}  // namespace
}  // namespace sambay::test
