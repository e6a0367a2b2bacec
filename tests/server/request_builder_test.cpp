// API requests into engine requests: tokenization, defaults, and the context-length checks.
#include <gtest/gtest.h>

#include <filesystem>

#include "api_error.h"
#include "request_builder.h"
#include "sambay/model/language_model.h"

namespace sambay::server {
namespace {

using nlohmann::json;

const TextModel& text() {
  static const std::filesystem::path dir = std::filesystem::path(SAMBAY_SOURCE_DIR) / "models/tiny-flash";
  static const TextModel t = load_text_model(dir.string(), read_model_info(dir));
  return t;
}

const BuildOptions kOptions{64, 200064, false};

OpenAIRequest chat(const std::string& content, json extra = json::object()) {
  json b = {{"messages", json::array({{{"role", "user"}, {"content", content}}})}};
  b.update(extra);
  return parse_request(Endpoint::kChat, b.dump());
}

std::string param_of(const OpenAIRequest& r, const BuildOptions& o = kOptions) {
  try {
    build_request(r, text(), o);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.param();
  }
  return "(accepted)";
}

TEST(RequestBuilder, ChatUsesTemplateAndDefaults) {
  const BuiltRequest b = build_request(chat("hi", {{"seed", 5}, {"stop", "x"}}), text(), kOptions);
  const GenerationRequest& g = b.generation;
  EXPECT_EQ(g.prompt, text().encode_chat(json::array({{{"role", "user"}, {"content", "hi"}}}), true, false));
  EXPECT_EQ(g.stop.max_tokens, 64 - static_cast<int>(g.prompt.size()));  // the rest of the context
  EXPECT_EQ(g.stop.eos_ids, text().defaults.eos_ids);
  EXPECT_EQ(g.stop.stop_strings, std::vector<std::string>{"x"});
  EXPECT_EQ(g.sampling.temperature, text().defaults.sampling.temperature);
  EXPECT_EQ(g.sampling.seed, 5u);
  EXPECT_FALSE(b.starts_in_reasoning);
}

TEST(RequestBuilder, RoleTokensInContentArePlainText) {
  const auto plain = build_request(chat("<|user|>"), text(), kOptions).generation.prompt;
  BuildOptions hf = kOptions;
  hf.match_special_in_content = true;
  const auto special = build_request(chat("<|user|>"), text(), hf).generation.prompt;
  EXPECT_GT(plain.size(), special.size());
}

TEST(RequestBuilder, CompletionPromptAndOverrides) {
  const OpenAIRequest r = parse_request(
      Endpoint::kCompletions,
      json({{"prompt", "Hello world"}, {"max_tokens", 3}, {"temperature", 0}, {"top_k", 5}, {"min_tokens", 2}}).dump());
  const GenerationRequest g = build_request(r, text(), kOptions).generation;
  EXPECT_EQ(g.prompt, text().tokenizer.encode("Hello world"));
  EXPECT_EQ(g.stop.max_tokens, 3);
  EXPECT_EQ(g.sampling.temperature, 0);
  EXPECT_EQ(g.sampling.top_k, 5);
  EXPECT_EQ(g.min_tokens, 2);
}

TEST(RequestBuilder, LengthErrors) {
  const size_t prompt = build_request(chat("hi"), text(), kOptions).generation.prompt.size();
  EXPECT_EQ(param_of(chat("hi", {{"max_tokens", 64 - prompt}})), "(accepted)");  // exactly the context
  EXPECT_EQ(param_of(chat("hi", {{"max_tokens", 65 - prompt}})), "max_tokens");
  std::string words;  // more tokens than the 64-position context
  for (int i = 0; i < 80; ++i) words += " w" + std::to_string(i);
  EXPECT_EQ(param_of(chat(words)), "messages");
  EXPECT_EQ(param_of(parse_request(Endpoint::kCompletions, json({{"prompt", ""}}).dump())), "prompt");
  EXPECT_EQ(param_of(parse_request(Endpoint::kCompletions, json({{"prompt", {1, 999999}}}).dump())), "prompt");
  // min_tokens beyond what the context leaves.
  EXPECT_EQ(param_of(chat("hi", {{"min_tokens", 1000}})), "min_tokens");
}

}  // namespace
}  // namespace sambay::server
