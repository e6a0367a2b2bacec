// Loading: malformed or unsupported tokenizer.json files fail with one line naming the field;
// the pre-tokenizer's split behaviours follow Hugging Face's own examples.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "sambay/base/error.h"
#include "sambay/text/byte_level.h"
#include "sambay/text/pre_tokenizer.h"
#include "tokenizer_fixture.h"

namespace sambay::test {
namespace {

using json = nlohmann::json;

// A minimal valid byte-level BPE tokenizer.json: the 256 byte tokens plus "ab" and "abc".
json tiny_tokenizer() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::from_bytes(std::string(1, static_cast<char>(b)))] = b;
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  json j;
  j["version"] = "1.0";
  j["added_tokens"] = json::array({{{"id", 258}, {"content", "<|end|>"}, {"single_word", false}, {"lstrip", false},
                                    {"rstrip", true}, {"normalized", false}, {"special", true}}});
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         json::array({{{"type", "Split"},
                                       {"pattern", {{"Regex", R"( ?\p{L}+|\s+(?!\S)|\s+|[^\s\p{L}]+)"}}},
                                       {"behavior", "Isolated"},
                                       {"invert", false}},
                                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
  j["post_processor"] = nullptr;
  j["decoder"] = {{"type", "ByteLevel"}};
  j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab},
                {"merges", json::array({"a b", "ab c"})}};
  return j;
}

std::string load_error(const json& j) {
  try {
    Tokenizer::from_json_text(j.dump(), "tiny.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(loaded without error)";
}

std::string load_error_after(const std::function<void(json&)>& edit) {
  json j = tiny_tokenizer();
  edit(j);
  return load_error(j);
}

void expect_error_names(int line, const std::function<void(json&)>& edit, std::initializer_list<const char*> parts) {
  SCOPED_TRACE(testing::Message() << "case at line " << line);
  const std::string message = load_error_after(edit);
  EXPECT_EQ(message.rfind("tiny.json: ", 0), 0u) << message;
  for (const char* part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
}
// Variadic so that commas inside the edit lambda need no extra parentheses.
#define EXPECT_ERROR_NAMES(...) expect_error_names(__LINE__, __VA_ARGS__)

TEST(TokenizerLoad, TinyTokenizerWorksWithBothMergeSpellings) {
  json j = tiny_tokenizer();
  const Tokenizer a = Tokenizer::from_json_text(j.dump(), "tiny.json");
  j["model"]["merges"] = json::array({json::array({"a", "b"}), json::array({"ab", "c"})});
  const Tokenizer b = Tokenizer::from_json_text(j.dump(), "tiny.json");
  const std::string text = "abc abd cab <|end|>  x\xC3\xA9";
  EXPECT_EQ(a.encode(text), b.encode(text));
  EXPECT_EQ(a.encode("abc"), std::vector<int32_t>{257});
  EXPECT_EQ(a.decode(a.encode(text)), "abc abd cab <|end|>x\xC3\xA9");  // rstrip swallowed "  "
  EXPECT_EQ(a.vocab_size(), 259);
}

TEST(TokenizerLoad, ErrorsNameTheField) {
  EXPECT_ERROR_NAMES([](json& j) { j.erase("model"); }, {"model: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["type"] = "WordPiece"; }, {"model.type", "WordPiece"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"].erase("type"); }, {"model.type: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"].erase("vocab"); }, {"model.vocab: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["vocab"] = json::array(); }, {"model.vocab", "an array"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["vocab"]["ab"] = "256"; }, {"model.vocab[\"ab\"]", "integer"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["vocab"]["ab"] = -3; }, {"model.vocab[\"ab\"]", "negative"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"].erase("merges"); }, {"model.merges: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["merges"] = "a b"; }, {"model.merges", "expected an array"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["merges"][0] = 7; }, {"model.merges[0]"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["merges"][1] = "abc"; }, {"model.merges[1]", "one space"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["merges"][1] = "zz c"; }, {"model.merges[1]", "'zz' is not in model.vocab"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["merges"][0] = json::array({"a", "b", "c"}); }, {"model.merges[0]"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["dropout"] = 0.1; }, {"model.dropout"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["byte_fallback"] = true; }, {"model.byte_fallback"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["fuse_unk"] = "no"; }, {"model.fuse_unk", "boolean"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["unk_token"] = "<unk>"; }, {"model.unk_token", "<unk>"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["continuing_subword_prefix"] = "##"; }, {"model.continuing_subword_prefix"});
  EXPECT_ERROR_NAMES([](json& j) { j["normalizer"] = {{"type", "NFC"}}; }, {"normalizer", "NFC"});
  EXPECT_ERROR_NAMES([](json& j) { j.erase("pre_tokenizer"); }, {"pre_tokenizer: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }, {"pre_tokenizer.type", "Whitespace"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"] = 3; }, {"pre_tokenizer.pretokenizers"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Bogus"; }, {"pre_tokenizer.pretokenizers[0].behavior", "Bogus"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"][0].erase("pattern"); }, {"pre_tokenizer.pretokenizers[0].pattern: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"Regex", "(a"}}; }, {"pre_tokenizer.pretokenizers[0].pattern.Regex", "PCRE2"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"Regex", "\\h+"}}; }, {"pre_tokenizer.pretokenizers[0].pattern.Regex", "\\h"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["invert"] = 1; }, {"pre_tokenizer.pretokenizers[0].invert", "boolean"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true; }, {"pre_tokenizer.pretokenizers[1].add_prefix_space"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"][1].erase("add_prefix_space"); }, {"pre_tokenizer.pretokenizers[1].add_prefix_space"});
  EXPECT_ERROR_NAMES([](json& j) { j["pre_tokenizer"]["pretokenizers"].erase(1); }, {"pre_tokenizer", "ByteLevel"});
  EXPECT_ERROR_NAMES([](json& j) { j.erase("decoder"); }, {"decoder: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }, {"decoder.type", "WordPiece"});
  EXPECT_ERROR_NAMES([](json& j) { j["added_tokens"] = json::object(); }, {"added_tokens", "expected an array"});
  EXPECT_ERROR_NAMES([](json& j) { j["added_tokens"][0].erase("content"); }, {"added_tokens[0].content: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["added_tokens"][0]["content"] = 5; }, {"added_tokens[0].content", "string"});
  EXPECT_ERROR_NAMES([](json& j) { j["added_tokens"][0]["id"] = "x"; }, {"added_tokens[0].id"});
  EXPECT_ERROR_NAMES([](json& j) { j["added_tokens"][0].erase("id"); }, {"added_tokens[0].id: missing"});
  EXPECT_ERROR_NAMES([](json& j) { j["added_tokens"][0]["rstrip"] = "yes"; }, {"added_tokens[0].rstrip", "boolean"});
  // Absurd ids are refused before anything is sized by them.
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["vocab"]["abc"] = 2147483000; }, {"model:", "2147483000"});
  EXPECT_ERROR_NAMES([](json& j) { j["model"]["vocab"]["abc"] = 4294967296; }, {"model.vocab[\"abc\"]", "too large"});
  EXPECT_ERROR_NAMES([](json& j) { j["added_tokens"][0]["id"] = 2147483000; }, {"added_tokens[0].id", "2147483000"});
}

TEST(TokenizerLoad, MergedIdsInAnyOrder) {
  // Merged ids that do not grow with the merge rank take the general path; results are the same.
  json j = tiny_tokenizer();
  j["model"]["vocab"]["ab"] = 257;
  j["model"]["vocab"]["abc"] = 256;
  const Tokenizer t = Tokenizer::from_json_text(j.dump(), "tiny.json");
  EXPECT_EQ(t.encode("abc"), std::vector<int32_t>{256});
  EXPECT_EQ(t.encode("ab"), std::vector<int32_t>{257});
  EXPECT_EQ(t.encode("xabcab"), (std::vector<int32_t>{'x', 256, 257}));
}

TEST(TokenizerLoad, NotJsonOrNotAFile) {
  auto error_of = [](std::string_view text) {
    try {
      Tokenizer::from_json_text(text, "t.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(error_of("{\"model\": ").find("t.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("t.json: expected a JSON object"), std::string::npos);
  EXPECT_NE(error_of("../../tokenizer/tokenizer.json").find("symbolic link"), std::string::npos);
  try {
    Tokenizer::from_file("/nonexistent/tokenizer.json");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tokenizer.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tokenizer::from_model_dir(SAMBAY_SOURCE_DIR "/tests/data/tokenizer"), Error);
}

TEST(TokenizerLoad, RealFileLoadsQuickly) {
  const auto t0 = std::chrono::steady_clock::now();
  const Tokenizer tok = Tokenizer::from_file(tokenizer_json_path());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("load_ms", std::to_string(ms));
  EXPECT_EQ(tok.vocab_size(), 200029);
  EXPECT_LT(ms, 5000.0);  // generous: sanitizer builds are slow; the release figure is in bench/tokenizer
}

// Hugging Face's own test of the split behaviours (tokenizers/src/tokenizer/normalizer.rs, `split`):
// "The-final--countdown" split on "-".
std::vector<std::string> pieces(SplitBehavior behavior, bool invert = false) {
  SplitStage stage;
  stage.regex = SplitRegex::compile("-", true, "test");
  stage.behavior = behavior;
  stage.invert = invert;
  std::vector<SplitStage> stages;
  stages.push_back(std::move(stage));
  const PreTokenizer pre(std::move(stages));
  std::vector<std::string> out;
  pre.for_each_piece("The-final--countdown", [&](std::string_view p) { out.emplace_back(p); });
  return out;
}

TEST(PreTokenizer, SplitBehavioursFollowHuggingFace) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces(SplitBehavior::kRemoved), (V{"The", "final", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::kIsolated), (V{"The", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::kMergedWithPrevious), (V{"The-", "final-", "-", "countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::kMergedWithNext), (V{"The", "-final", "-", "-countdown"}));
  EXPECT_EQ(pieces(SplitBehavior::kContiguous), (V{"The", "-", "final", "--", "countdown"}));
  // invert swaps what counts as the match: Removed then keeps only the dashes.
  EXPECT_EQ(pieces(SplitBehavior::kRemoved, true), (V{"-", "-", "-"}));
}

TEST(PreTokenizer, WhiteSpaceIsTheUnicodeSetNotPcre2s) {
  // PCRE2 10.42's \s matches U+180E; Unicode White_Space (Rust, Oniguruma) does not.
  const SplitRegex ws = SplitRegex::compile("\\s", false, "test");
  size_t b, e;
  EXPECT_FALSE(ws.find("\xE1\xA0\x8E", 0, b, e));
  for (const char* s : {" ", "\t", "\xC2\x85", "\xC2\xA0", "\xE2\x80\xA8", "\xE3\x80\x80"}) EXPECT_TRUE(ws.find(s, 0, b, e)) << s;
  const SplitRegex not_ws = SplitRegex::compile("[^\\s]", false, "test");
  EXPECT_TRUE(not_ws.find("\xE1\xA0\x8E", 0, b, e));
}

}  // namespace
}  // namespace sambay::test
