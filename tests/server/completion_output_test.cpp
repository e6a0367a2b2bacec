// From engine events to what the client receives: SSE chunks and whole responses.
#include <gtest/gtest.h>

#include <filesystem>

#include "completion_output.h"

namespace sambay::server {
namespace {

using nlohmann::json;

const Tokenizer& tokenizer() {
  static const Tokenizer t =
      Tokenizer::from_model_dir(std::filesystem::path(SAMBAY_SOURCE_DIR) / "models/tiny-flash");
  return t;
}

TokenEvent token(const std::string& text, int32_t id = 100) {
  TokenEvent t;
  t.token = id;
  t.text = text;
  t.logprob = -0.25f;
  t.top = {{id, -0.25f}, {id + 1, -2.0f}};
  return t;
}

FinishEvent finish(const std::string& reason, int prompt, int completion) {
  FinishEvent f;
  f.finish_reason = reason;
  f.prompt_tokens = prompt;
  f.completion_tokens = completion;
  return f;
}

// The JSON payloads of an SSE text ("[DONE]" kept as a string).
std::vector<json> events(const std::string& sse) {
  std::vector<json> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    EXPECT_EQ(sse.compare(pos, 6, "data: "), 0) << sse.substr(pos);
    const size_t end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos);
    const std::string payload = sse.substr(pos + 6, end - pos - 6);
    out.push_back(payload == "[DONE]" ? json("[DONE]") : json::parse(payload));
    pos = end + 2;
  }
  return out;
}

TEST(CompletionOutput, ChatStreamSplitsReasoning) {
  CompletionOutput out({"id", 1, "m"}, tokenizer(), {Endpoint::kChat, false, -1, true});
  std::string sse = out.stream_start();
  for (const char* piece : {"<think>", "why", "</think>", "\n\nans", "wer"}) sse += out.stream_token(token(piece));
  sse += out.stream_finish(finish("stop", 4, 5));
  const std::vector<json> e = events(sse);
  std::string reasoning, content;
  for (const json& j : e) {
    if (!j.is_object() || j["choices"].empty()) continue;
    const json& d = j["choices"][0]["delta"];
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (d.contains("content")) content += d["content"].get<std::string>();
  }
  EXPECT_EQ(reasoning, "why");
  EXPECT_EQ(content, "\n\nanswer");
  EXPECT_EQ(e.front()["choices"][0]["delta"]["role"], "assistant");
  ASSERT_GE(e.size(), 3u);
  EXPECT_EQ(e.back(), "[DONE]");
  const json& usage = e[e.size() - 2];
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 9);
  EXPECT_EQ(e[e.size() - 3]["choices"][0]["finish_reason"], "stop");
}

TEST(CompletionOutput, ChatWholeResponse) {
  CompletionOutput out({"id", 1, "m"}, tokenizer(), {Endpoint::kChat, true, 1, false});
  out.add(token("because"));
  out.add(token("</think>"));
  out.add(token("yes"));
  const json r = out.response(finish("length", 2, 3));
  const json& m = r["choices"][0]["message"];
  EXPECT_EQ(m["reasoning_content"], "because");  // the prompt opened the block
  EXPECT_EQ(m["content"], "yes");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  const json& lp = r["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), 3u);
  EXPECT_EQ(lp[0]["top_logprobs"].size(), 2u);
  EXPECT_EQ(lp[0]["token"], tokenizer().decode(std::vector<int32_t>{100}));
  EXPECT_EQ(r["usage"]["prompt_tokens"], 2);
}

TEST(CompletionOutput, CompletionStreamAndOffsets) {
  CompletionOutput out({"id", 1, "m"}, tokenizer(), {Endpoint::kCompletions, false, 0, false});
  EXPECT_EQ(out.stream_start(), "");
  const std::vector<json> e1 = events(out.stream_token(token("ab")));
  TokenEvent c = token("c");
  c.top.clear();  // logprobs 0: the engine sends no alternatives
  const std::vector<json> e2 = events(out.stream_token(c));
  ASSERT_EQ(e1.size(), 1u);
  EXPECT_EQ(e1[0]["choices"][0]["text"], "ab");
  EXPECT_EQ(e2[0]["choices"][0]["logprobs"]["text_offset"], json({2}));
  EXPECT_TRUE(e2[0]["choices"][0]["logprobs"]["top_logprobs"][0].empty());
  EXPECT_FLOAT_EQ(e2[0]["choices"][0]["logprobs"]["token_logprobs"][0].get<float>(), -0.25f);
  const std::vector<json> end = events(out.stream_finish(finish("length", 1, 2)));
  ASSERT_EQ(end.size(), 2u);
  EXPECT_EQ(end[0]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(end[1], "[DONE]");
}

TEST(CompletionOutput, HeldBackTextSendsNothing) {
  CompletionOutput out({"id", 1, "m"}, tokenizer(), {Endpoint::kCompletions, false, -1, false});
  EXPECT_EQ(out.stream_token(token("")), "");
}

TEST(CompletionOutput, EngineErrorIsAnErrorEvent) {
  CompletionOutput out({"id", 1, "m"}, tokenizer(), {Endpoint::kChat, false, -1, false});
  FinishEvent f = finish("error", 1, 0);
  f.error = "boom";
  const std::vector<json> e = events(out.stream_finish(f));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0]["error"]["message"], "boom");
  EXPECT_EQ(e[0]["error"]["type"], "server_error");
  EXPECT_EQ(e[1], "[DONE]");
}

}  // namespace
}  // namespace sambay::server
