// Response objects in OpenAI's shapes.
#include <gtest/gtest.h>

#include "openai_response.h"
#include "sambay/text/tokenizer.h"

namespace sambay::server {
namespace {

using nlohmann::json;

const ResponseHeader kHeader{"chatcmpl-1", 1700000000, "tiny"};

TEST(OpenAIResponse, ChatCompletion) {
  const json r = chat_completion(kHeader, std::string("why"), "answer", "stop", nullptr, usage_json(5, 3));
  EXPECT_EQ(r["id"], "chatcmpl-1");
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["created"], 1700000000);
  EXPECT_EQ(r["model"], "tiny");
  ASSERT_EQ(r["choices"].size(), 1u);
  const json& c = r["choices"][0];
  EXPECT_EQ(c["index"], 0);
  EXPECT_EQ(c["message"]["role"], "assistant");
  EXPECT_EQ(c["message"]["content"], "answer");
  EXPECT_EQ(c["message"]["reasoning_content"], "why");
  EXPECT_TRUE(c["logprobs"].is_null());
  EXPECT_EQ(c["finish_reason"], "stop");
  EXPECT_EQ(r["usage"], json({{"prompt_tokens", 5}, {"completion_tokens", 3}, {"total_tokens", 8}}));
  // No reasoning block: the key is there, null.
  const json n = chat_completion(kHeader, std::nullopt, "a", "length", nullptr, usage_json(1, 1));
  ASSERT_TRUE(n["choices"][0]["message"].contains("reasoning_content"));
  EXPECT_TRUE(n["choices"][0]["message"]["reasoning_content"].is_null());
}

TEST(OpenAIResponse, Chunks) {
  const json c = chat_chunk(kHeader, {{"content", "x"}}, nullptr, "", false);
  EXPECT_EQ(c["object"], "chat.completion.chunk");
  EXPECT_EQ(c["choices"][0]["delta"]["content"], "x");
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  EXPECT_FALSE(c.contains("usage"));
  const json last = chat_chunk(kHeader, json::object(), nullptr, "length", true);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(last.contains("usage") && last["usage"].is_null());
  const json u = usage_chunk(kHeader, "chat.completion.chunk", usage_json(2, 4));
  EXPECT_TRUE(u["choices"].empty());
  EXPECT_EQ(u["usage"]["total_tokens"], 6);
  const json t = completion_chunk({"cmpl-1", 1, "tiny"}, "abc", nullptr, "", false);
  EXPECT_EQ(t["object"], "text_completion");
  EXPECT_EQ(t["choices"][0]["text"], "abc");
}

TEST(OpenAIResponse, TextCompletion) {
  const json r = text_completion({"cmpl-1", 1, "tiny"}, "text", "length", nullptr, usage_json(1, 2));
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["choices"][0]["text"], "text");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(r["usage"]["completion_tokens"], 2);
}

TEST(OpenAIResponse, SseFraming) {
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
  // Invalid UTF-8 is replaced, never thrown on.
  EXPECT_EQ(dump(json("a\xff")), "\"a\xEF\xBF\xBD\"");
}

TEST(OpenAIResponse, Logprobs) {
  const LogprobEntry e{{"He", "He", -0.5f}, {{"He", "He", -0.5f}, {"\xEF\xBF\xBD", "\xE2\x82", -1.0f}}};
  const json chat = chat_logprobs(std::span(&e, 1));
  const json& c = chat["content"][0];
  EXPECT_EQ(c["token"], "He");
  EXPECT_FLOAT_EQ(c["logprob"].get<float>(), -0.5f);
  EXPECT_EQ(c["bytes"], json({72, 101}));
  ASSERT_EQ(c["top_logprobs"].size(), 2u);
  EXPECT_EQ(c["top_logprobs"][1]["bytes"], json({0xE2, 0x82}));  // the exact bytes of a partial character
  const size_t offset = 7;
  const json text = completion_logprobs(std::span(&e, 1), std::span(&offset, 1));
  EXPECT_EQ(text["tokens"], json({"He"}));
  EXPECT_EQ(text["text_offset"], json({7}));
  EXPECT_EQ(text["top_logprobs"][0].size(), 2u);
  EXPECT_FLOAT_EQ(text["top_logprobs"][0]["He"].get<float>(), -0.5f);
}

TEST(OpenAIResponse, ErrorBody) {
  const json b = error_body(ApiError(400, "bad temperature", "invalid_request_error", "temperature"));
  EXPECT_EQ(b, json({{"error",
                      {{"message", "bad temperature"},
                       {"type", "invalid_request_error"},
                       {"param", "temperature"},
                       {"code", nullptr}}}}));
  const json m = error_body(ApiError(404, "no such model", "invalid_request_error", "model", "model_not_found"));
  EXPECT_EQ(m["error"]["code"], "model_not_found");
}

TEST(OpenAIResponse, ModelList) {
  const json m = model_list("tiny", 5);
  EXPECT_EQ(m["object"], "list");
  EXPECT_EQ(m["data"][0]["id"], "tiny");
  EXPECT_EQ(m["data"][0]["object"], "model");
}

TEST(OpenAIResponse, FinishReasons) {
  EXPECT_EQ(api_finish_reason("stop"), "stop");
  EXPECT_EQ(api_finish_reason("length"), "length");
  EXPECT_EQ(api_finish_reason("cancelled"), "abort");
}

}  // namespace
}  // namespace sambay::server
