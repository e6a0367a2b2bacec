// The commands on a Phi-4-mini (Phi3ForCausalLM) folder, as users run them: `generate` reproduces
// the golden greedy tokens across the LongRoPE switch, `bench` runs both families, and the text
// commands (`run`, `chat`) work on a small Phi-3 model whose sequences cross the switch point. That
// folder is the golden switch case's config with the real vocabulary, beside the tokenizer of the
// tiny model folder (Phi-4-mini's o200k tokenizer and chat template), with random weights.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "process.h"
#include "pty.h"
#include "sambay/io/safetensors.h"
#include "test_util.h"

namespace sambay {
namespace {

const std::filesystem::path kSwitchCase = test::phi3_golden_dir() / "switch-l4-h192-o48";  // switches at 48

// A Phi-3 folder with a tokenizer in `dir`: text prompts of a few tokens plus some dozens
// generated pass original_max_position_embeddings (48).
void write_phi3_text_folder(const std::filesystem::path& dir) {
  nlohmann::json config = nlohmann::json::parse(std::ifstream(kSwitchCase / "config.json"));
  config["vocab_size"] = 200064;
  for (const char* id : {"bos_token_id", "eos_token_id", "pad_token_id"}) config[id] = 199999;
  std::ofstream(dir / "config.json") << config.dump(2);
  const auto text = test::source_dir() / "models/tiny-flash";
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                        "generation_config.json"})
    std::filesystem::copy_file(text / f, dir / f);
}

TEST(CliGeneratePhi3, GreedyTokensAcrossTheSwitchAreTheGoldenOnes) {
  SafetensorsFile golden(kSwitchCase / "golden.safetensors");
  const auto ids = test::read_array(golden, "input_ids"), tokens = test::read_array(golden, "tokens");
  std::string prompt;
  for (int64_t id : ids.i) prompt += std::to_string(id) + " ";
  const auto r = test::run_process({SAMBAY_BINARY, "generate", "--model", kSwitchCase.string(), "--device", "cpu",
                                    "--ids", prompt, "-n", std::to_string(tokens.dim(1)), "--greedy", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"].get<std::vector<int64_t>>(), tokens.i);
  EXPECT_EQ(j["recomputes"], 1) << "40 prompt tokens + 24 generated pass 48 once";
}

class CliBench : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(CliBench, RunsAndReportsTheCostModel) {
  // 40 + 16 positions: past the Phi-3 case's switch point, so its run is on the long factors.
  const auto r = test::run_process({SAMBAY_BINARY, "bench", "--model", GetParam().string(), "--device", "cpu",
                                    "--prompt-len", "40", "--gen-len", "16", "--batch", "2", "--prefill-chunk", "16",
                                    "--no-ceilings", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto config = nlohmann::json::parse(std::ifstream(GetParam() / "config.json"));
  EXPECT_EQ(j["architecture"], config["architectures"][0]);
  EXPECT_GT(j["prefill_tflops"].get<double>(), 0);
  EXPECT_GT(j["decode_tokens_per_second"].get<double>(), 0);
  EXPECT_GT(j["decode_bytes_per_step"].get<double>(), j["weight_bytes"].get<double>());
}

// --zero-context: decode after a context of zeroed state (no prefill), past the Phi-3 case's switch.
TEST_P(CliBench, DecodesAfterAZeroContext) {
  const auto r = test::run_process({SAMBAY_BINARY, "bench", "--model", GetParam().string(), "--device", "cpu",
                                    "--prompt-len", "60", "--gen-len", "4", "--batch", "3", "--zero-context",
                                    "--no-ceilings", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["zero_context"].get<bool>());
  EXPECT_EQ(j["prefill_seconds_per_sequence"].get<double>(), 0.0);
  EXPECT_GT(j["decode_tokens_per_second"].get<double>(), 0);
}

INSTANTIATE_TEST_SUITE_P(BothFamilies, CliBench,
                         ::testing::Values(kSwitchCase, test::golden_dir() / "tiny-l8-h64-w8"),
                         [](const auto& info) { return info.index == 0 ? std::string("Phi3") : std::string("SambaY"); });

TEST(CliRunPhi3, GeneratesPastTheSwitchPoint) {
  test::TempDir dir;
  write_phi3_text_folder(dir.path());
  const auto r = test::run_process({SAMBAY_BINARY, "run", "--model", dir.path().string(), "--dummy", "--device",
                                    "cpu", "-p", "Hello", "-n", "60", "--ignore-eos", "--greedy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Phi3ForCausalLM"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("generation: 60 tokens"), std::string::npos) << r.err;
}

// A model folder with no tokenizer (as Phi-4-mini's config alone, with dummy weights) takes one from
// --tokenizer; without it the error names the missing file.
TEST(CliRunPhi3, TakesTheTokenizerFromAnotherFolder) {
  test::TempDir dir;
  write_phi3_text_folder(dir.path());
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"})
    std::filesystem::remove(dir.path() / f);
  const std::vector<std::string> run = {SAMBAY_BINARY, "run", "--model", dir.path().string(), "--dummy", "--device",
                                        "cpu", "-p", "Hello", "-n", "4", "--ignore-eos", "--greedy"};
  const auto without = test::run_process(run);
  EXPECT_NE(without.exit_code, 0);
  EXPECT_NE(without.err.find("tokenizer.json"), std::string::npos) << without.err;
  auto with = run;
  with.insert(with.end(), {"--tokenizer", (test::source_dir() / "models/tiny-flash").string()});
  const auto r = test::run_process(with);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("generation: 4 tokens"), std::string::npos) << r.err;
}

// The second turn's prompt extends the first conversation past 48 tokens: the session starts over
// on the long factors and the chat goes on.
TEST(CliChatPhi3, TurnsPastTheSwitchPoint) {
  test::TempDir dir;
  write_phi3_text_folder(dir.path());
  test::PtyProcess p({SAMBAY_BINARY, "chat", "--model", dir.path().string(), "--dummy", "--device", "cpu", "-n",
                      "30", "--ignore-eos", "--greedy", "--ctx", "256"});
  ASSERT_TRUE(p.wait_for("> ")) << p.output();
  for (const char* turn : {"first\n", "second\n", "third\n"}) {
    const size_t mark = p.output().size();
    p.write(turn);
    ASSERT_TRUE(p.wait_for("[30 tokens", 30, mark)) << p.output().substr(mark);
    ASSERT_TRUE(p.wait_for("> ", 30, p.output().find("[30 tokens", mark))) << p.output().substr(mark);
  }
  p.write("/exit\n");
  EXPECT_EQ(p.wait_exit(), 0);
}

}  // namespace
}  // namespace sambay
