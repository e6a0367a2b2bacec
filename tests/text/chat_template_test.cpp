// The chat template renderer against Python's jinja2: the model's goldens, and a table of
// templates whose expected output jinja2 itself produced (chat_template_cases.jsonl).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sambay/base/error.h"
#include "sambay/text/chat_template.h"

namespace sambay {
namespace {

const std::filesystem::path kRoot = SAMBAY_SOURCE_DIR;

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<std::string> lines;
  std::string line;
  // Split on "\n" only: the data holds raw U+2028 and U+0085 inside strings.
  while (std::getline(in, line, '\n'))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

TEST(ChatTemplate, ModelGoldensRenderExactly) {
  const ChatTemplate tmpl = ChatTemplate::from_model_dir(kRoot / "models/phi4-mini-flash-reasoning");
  EXPECT_EQ(tmpl.special_tokens().at("eos_token"), "<|endoftext|>");
  const auto lines = read_lines(kRoot / "tests/data/tokenizer/chat-golden.jsonl");
  ASSERT_GE(lines.size(), 8u);
  for (const std::string& line : lines) {
    const auto row = nlohmann::json::parse(line);
    SCOPED_TRACE(row["name"].get<std::string>());
    EXPECT_EQ(tmpl.render(row["messages"], row["add_generation_prompt"].get<bool>()), row["prompt"].get<std::string>());
    // The same through ordered_json, and concatenated segments give the same text.
    const auto ordered = nlohmann::ordered_json::parse(line);
    EXPECT_EQ(tmpl.render(ordered["messages"], ordered["add_generation_prompt"].get<bool>()),
              row["prompt"].get<std::string>());
    std::string joined;
    for (const auto& s : tmpl.render_segments(row["messages"], row["add_generation_prompt"].get<bool>()))
      joined += s.text;
    EXPECT_EQ(joined, row["prompt"].get<std::string>());
  }
}

struct CaseResult {
  bool threw = false;
  std::string output;
  std::string error;
};

CaseResult run_case(const nlohmann::ordered_json& row) {
  CaseResult r;
  nlohmann::ordered_json vars = row["vars"];
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  bool add_generation_prompt = false;
  if (vars.contains("messages")) {
    messages = vars["messages"];
    vars.erase("messages");
  }
  if (vars.contains("add_generation_prompt")) {
    add_generation_prompt = vars["add_generation_prompt"].get<bool>();
    vars.erase("add_generation_prompt");
  }
  try {
    ChatTemplate tmpl(row["template"].get<std::string>(), {{"bos_token", "<s>"}, {"eos_token", "</s>"}},
                      row["name"].get<std::string>());
    ChatTemplateOptions options;
    options.transformers_tojson = row.value("hf_tojson", false);
    tmpl.set_options(options);
    r.output = tmpl.render(messages, add_generation_prompt, vars);
  } catch (const Error& e) {
    r.threw = true;
    r.error = e.what();
  }
  return r;
}

TEST(ChatTemplate, MatchesJinja2OnCaseTable) {
  const auto lines = read_lines(kRoot / "tests/text/chat_template_cases.jsonl");
  ASSERT_GT(lines.size(), 200u);
  int checked = 0;
  for (const std::string& line : lines) {
    const auto row = nlohmann::ordered_json::parse(line);
    if (row.contains("comment")) continue;
    const std::string name = row["name"].get<std::string>();
    SCOPED_TRACE(name);
    const CaseResult r = run_case(row);
    if (row.contains("error")) {
      EXPECT_TRUE(r.threw) << "jinja2 failed (" << row["error"].get<std::string>() << ") but we rendered: " << r.output;
    } else {
      EXPECT_FALSE(r.threw) << r.error;
      EXPECT_EQ(r.output, row["expected"].get<std::string>());
    }
    ++checked;
  }
  EXPECT_GT(checked, 200);
}

// Every error names the template and a line:column.
TEST(ChatTemplate, CaseTableErrorsCarryPositions) {
  for (const std::string& line : read_lines(kRoot / "tests/text/chat_template_cases.jsonl")) {
    const auto row = nlohmann::ordered_json::parse(line);
    if (!row.contains("error")) continue;
    const std::string name = row["name"].get<std::string>();
    SCOPED_TRACE(name);
    const CaseResult r = run_case(row);
    ASSERT_TRUE(r.threw);
    EXPECT_EQ(r.error.rfind(name + ":", 0), 0u) << r.error;
    const std::string rest = r.error.substr(name.size() + 1);
    EXPECT_TRUE(!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) << r.error;
  }
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("sambay_chat_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  std::filesystem::path path_;
};

const nlohmann::json kHi = nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}});

TEST(ChatTemplateModelDir, NamedTemplateListPicksDefaultOrName) {
  TempDir dir;
  dir.write("tokenizer_config.json", R"({
    "bos_token": {"content": "<B>", "lstrip": false, "__type": "AddedToken"},
    "chat_template": [{"name": "default", "template": "D{{ bos_token }}{{ messages[0].content }}"},
                      {"name": "tool_use", "template": "T{{ messages[0].content }}"}]})");
  dir.write("special_tokens_map.json", R"({"bos_token": "<ignored>", "eos_token": "<E>"})");
  const ChatTemplate def = ChatTemplate::from_model_dir(dir.path());
  EXPECT_EQ(def.render(kHi, false), "D<B>hi");
  EXPECT_EQ(def.special_tokens().at("eos_token"), "<E>");  // filled in from special_tokens_map.json
  EXPECT_EQ(ChatTemplate::from_model_dir(dir.path(), "tool_use").render(kHi, false), "Thi");
  try {
    ChatTemplate::from_model_dir(dir.path(), "nope");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("default, tool_use"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplateModelDir, JinjaFileTakesPrecedence) {
  TempDir dir;
  dir.write("tokenizer_config.json", R"({"eos_token": "</s>", "chat_template": "old"})");
  dir.write("chat_template.jinja", "new {{ messages|length }}{{ eos_token }}\n");
  EXPECT_EQ(ChatTemplate::from_model_dir(dir.path()).render(kHi, false), "new 1</s>");
  dir.write("additional_chat_templates/rag.jinja", "rag");
  EXPECT_EQ(ChatTemplate::from_model_dir(dir.path(), "rag").render(kHi, false), "rag");
}

TEST(ChatTemplateModelDir, MissingTemplateIsAnError) {
  TempDir dir;
  dir.write("tokenizer_config.json", R"({"eos_token": "</s>"})");
  EXPECT_THROW(ChatTemplate::from_model_dir(dir.path()), Error);
  dir.write("tokenizer_config.json", R"({"chat_template": "{% if %}"})");
  try {
    ChatTemplate::from_model_dir(dir.path());
    FAIL() << "expected a parse error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json chat_template:1:"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, ExtraVariablesAndDefaults) {
  const ChatTemplate t("{{ tools is none }}|{{ documents is none }}|{{ enable_thinking }}|{{ tools|length if tools else 0 }}", {});
  EXPECT_EQ(t.render(nlohmann::json::array(), false), "True|True||0");
  EXPECT_EQ(t.render(nlohmann::json::array(), false,
                     {{"enable_thinking", false}, {"tools", nlohmann::json::array({1, 2})}}),
            "False|True|False|2");
  EXPECT_THROW(t.render(nlohmann::json::array(), false, {{"messages", 1}}), Error);
  EXPECT_THROW(t.render(nlohmann::json::array(), false, nlohmann::json::array()), Error);
  EXPECT_THROW(t.render(nlohmann::json::object(), false), Error);  // messages must be a list
}

// nlohmann::json sorts object keys; ordered_json keeps them as a Python dict would.
TEST(ChatTemplate, OrderedJsonKeepsKeyOrder) {
  const ChatTemplate t("{% for k, v in messages[0].items() %}{{ k }}={{ v }};{% endfor %}", {});
  const auto ordered = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "x", "b": 1, "a": 2}])");
  EXPECT_EQ(t.render(ordered, false), "role=user;content=x;b=1;a=2;");
  const auto sorted = nlohmann::json::parse(R"([{"role": "user", "content": "x", "b": 1, "a": 2}])");
  EXPECT_EQ(t.render(sorted, false), "a=2;b=1;content=x;role=user;");
}

TEST(ChatTemplate, CopiesShareTheParsedTemplate) {
  const ChatTemplate a("{{ messages[0].content }}!", {});
  const ChatTemplate b = a;
  EXPECT_EQ(b.render(kHi, false), "hi!");
  EXPECT_EQ(a.source(), "{{ messages[0].content }}!");
}

}  // namespace
}  // namespace sambay
