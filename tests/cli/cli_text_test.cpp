// The text commands as users run them: `run` and `chat` on a pseudo-terminal (the tiny model with
// the real vocabulary and tokenizer, random weights), and `tokenize` on every golden line.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "process.h"
#include "pty.h"
#include "test_util.h"

namespace sambay {
namespace {

std::string tiny_model() { return (test::source_dir() / "models/tiny-flash").string(); }

TEST(CliRun, StreamsOnATerminalWithAProgressBar) {
  test::PtyProcess p({SAMBAY_BINARY, "run", "--model", tiny_model(), "--dummy", "--device", "cpu", "-p",
                      "Hello there", "-n", "12", "--seed", "7", "--ignore-eos"});
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_for("generation: 12 tokens")) << p.output();
  EXPECT_EQ(p.wait_exit(), 0);
  EXPECT_NE(p.output().find("loading ["), std::string::npos) << "no progress bar on a terminal";
}

TEST(CliRun, NoProgressBarWhenNotATerminal) {
  const auto r = test::run_process({SAMBAY_BINARY, "run", "--model", tiny_model(), "--dummy", "--device", "cpu", "-p",
                                    "Hello", "-n", "4", "--ignore-eos", "--greedy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("loading ["), std::string::npos);
  EXPECT_NE(r.err.find("generation: 4 tokens"), std::string::npos) << r.err;
  // Greedy decoding of the same prompt with the same weights is reproducible.
  const auto again = test::run_process({SAMBAY_BINARY, "run", "--model", tiny_model(), "--dummy", "--device", "cpu",
                                        "-p", "Hello", "-n", "4", "--ignore-eos", "--greedy"});
  EXPECT_EQ(r.out, again.out);
}

TEST(CliChat, TurnsClearInterruptAndExit) {
  test::PtyProcess p({SAMBAY_BINARY, "chat", "--model", tiny_model(), "--dummy", "--device", "cpu", "-n", "20000",
                      "--ignore-eos", "--seed", "1", "--ctx", "30000"});
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_for("> ")) << p.output();
  // A reply that would run for a long time: Ctrl-C stops it and the chat goes on.
  size_t mark = p.output().size();
  p.write("tell me a long story\n");
  ASSERT_TRUE(p.wait_for("story", 30, mark)) << p.output();  // the terminal echoes the line
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  p.write("\x03");
  ASSERT_TRUE(p.wait_for("stopped]", 30, mark)) << p.output().substr(mark);
  ASSERT_TRUE(p.wait_for("> ", 30, p.output().find("stopped]", mark))) << p.output().substr(mark);
  mark = p.output().size();
  p.write("/clear\n");
  ASSERT_TRUE(p.wait_for("(conversation cleared)", 30, mark)) << p.output().substr(mark);
  mark = p.output().size();
  p.write("/exit\n");
  EXPECT_EQ(p.wait_exit(), 0) << p.output().substr(mark);
}

TEST(CliChat, KeepsTheConversation) {
  test::PtyProcess p({SAMBAY_BINARY, "chat", "--model", tiny_model(), "--dummy", "--device", "cpu", "-n", "5",
                      "--ignore-eos", "--greedy", "--ctx", "4096"});
  ASSERT_TRUE(p.wait_for("> "));
  for (const char* turn : {"first\n", "second\n", "third\n"}) {
    const size_t mark = p.output().size();
    p.write(turn);
    ASSERT_TRUE(p.wait_for("5 tokens", 30, mark)) << p.output().substr(mark);
    ASSERT_TRUE(p.wait_for("> ", 30, p.output().find("5 tokens", mark))) << p.output().substr(mark);
  }
  p.write("\x04");  // end of input leaves too
  EXPECT_EQ(p.wait_exit(), 0);
}

// Every line of the tokenizer goldens through `sambay tokenize`.
TEST(CliTokenize, GoldenLines) {
  std::ostringstream input;
  std::vector<std::vector<int64_t>> want;
  for (const char* file : {"encode-golden.jsonl", "chat-golden.jsonl"}) {
    std::ifstream in(test::source_dir() / "tests/data/tokenizer" / file, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), {});
    size_t start = 0;
    while (start < all.size()) {
      size_t end = all.find('\n', start);  // split on "\n" only: the files hold raw U+2028
      if (end == std::string::npos) end = all.size();
      const std::string line = all.substr(start, end - start);
      start = end + 1;
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line);
      nlohmann::json req;
      if (j.contains("messages")) {
        req = {{"messages", j["messages"]}, {"add_generation_prompt", j["add_generation_prompt"]}};
      } else {
        req = {{"text", j["text"]}};
      }
      input << req.dump() << '\n';
      want.push_back(j["ids"].get<std::vector<int64_t>>());
    }
  }
  test::TempDir dir;
  std::ofstream(dir / "in.jsonl") << input.str();
  const auto r = test::run_process({"/bin/sh", "-c",
                                    std::string(SAMBAY_BINARY) + " tokenize --model " + tiny_model() + " < " +
                                        (dir / "in.jsonl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream out(r.out);
  std::string line;
  size_t i = 0;
  for (; std::getline(out, line); ++i) {
    ASSERT_LT(i, want.size());
    EXPECT_EQ(nlohmann::json::parse(line)["ids"].get<std::vector<int64_t>>(), want[i]) << "line " << i;
  }
  EXPECT_EQ(i, want.size());
}

}  // namespace
}  // namespace sambay
