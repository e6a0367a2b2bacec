// Request bodies: what is accepted, and that each rejection is a 400 naming the field at fault.
#include <gtest/gtest.h>

#include "api_error.h"
#include "openai_request.h"

namespace sambay::server {
namespace {

using nlohmann::json;

json chat_body(json extra = json::object()) {
  json b = {{"model", "m"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
  b.update(extra);
  return b;
}

json completion_body(json extra = json::object()) {
  json b = {{"model", "m"}, {"prompt", "hello"}};
  b.update(extra);
  return b;
}

// The ApiError a body raises, or a failure when it is accepted.
ApiError rejection(Endpoint endpoint, const std::string& body) {
  try {
    parse_request(endpoint, body);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << body;
  return ApiError(0, "", "");
}

void expect_field_error(Endpoint endpoint, const json& body, const std::string& param) {
  const ApiError e = rejection(endpoint, body.dump());
  EXPECT_EQ(e.status(), 400) << body.dump();
  EXPECT_EQ(e.param(), param) << body.dump() << " -> " << e.what();
  EXPECT_EQ(e.type(), "invalid_request_error");
  EXPECT_NE(std::string(e.what()).find(param), std::string::npos) << "message should name the field: " << e.what();
}

TEST(OpenAIRequest, ChatDefaults) {
  const OpenAIRequest r = parse_request(Endpoint::kChat, chat_body().dump());
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0]["role"], "user");
  EXPECT_EQ(r.messages[0]["content"], "hi");
  EXPECT_FALSE(r.max_tokens);
  EXPECT_FALSE(r.temperature);
  EXPECT_FALSE(r.seed);
  EXPECT_EQ(r.logprobs, -1);
  EXPECT_FALSE(r.stream);
  EXPECT_TRUE(r.stop.empty());
}

TEST(OpenAIRequest, ChatFields) {
  const json body = chat_body({{"max_completion_tokens", 7},
                               {"stop", {"a", "bc"}},
                               {"temperature", 0.5},
                               {"top_p", 0.9},
                               {"top_k", -1},
                               {"min_p", 0.1},
                               {"seed", -3},
                               {"presence_penalty", 1},
                               {"frequency_penalty", -1.5},
                               {"repetition_penalty", 1.1},
                               {"logprobs", true},
                               {"top_logprobs", 3},
                               {"stream", true},
                               {"stream_options", {{"include_usage", true}}},
                               {"ignore_eos", true},
                               {"min_tokens", 2},
                               {"n", 1},
                               {"user", "ignored"}});
  const OpenAIRequest r = parse_request(Endpoint::kChat, body.dump());
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_FLOAT_EQ(*r.temperature, 0.5f);
  EXPECT_FLOAT_EQ(*r.top_p, 0.9f);
  EXPECT_EQ(r.top_k, 0);  // -1 means off, as 0 does
  EXPECT_FLOAT_EQ(*r.min_p, 0.1f);
  EXPECT_EQ(r.seed, static_cast<uint64_t>(-3));
  EXPECT_FLOAT_EQ(*r.presence_penalty, 1);
  EXPECT_FLOAT_EQ(*r.frequency_penalty, -1.5f);
  EXPECT_FLOAT_EQ(*r.repetition_penalty, 1.1f);
  EXPECT_EQ(r.logprobs, 3);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.ignore_eos);
  EXPECT_EQ(r.min_tokens, 2);
}

TEST(OpenAIRequest, ChatMaxTokensAndNulls) {
  EXPECT_EQ(parse_request(Endpoint::kChat, chat_body({{"max_tokens", 9}}).dump()).max_tokens, 9);
  // max_completion_tokens wins over the deprecated max_tokens.
  const json both = chat_body({{"max_tokens", 9}, {"max_completion_tokens", 4}});
  EXPECT_EQ(parse_request(Endpoint::kChat, both.dump()).max_tokens, 4);
  // null means "not set", as in OpenAI's API.
  const json nulls = chat_body({{"temperature", nullptr}, {"stop", nullptr}, {"seed", nullptr}});
  const OpenAIRequest r = parse_request(Endpoint::kChat, nulls.dump());
  EXPECT_FALSE(r.temperature);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_FALSE(r.seed);
  // logprobs without top_logprobs: the chosen token's logprob only.
  EXPECT_EQ(parse_request(Endpoint::kChat, chat_body({{"logprobs", true}}).dump()).logprobs, 0);
  EXPECT_EQ(parse_request(Endpoint::kChat, chat_body({{"logprobs", false}}).dump()).logprobs, -1);
}

TEST(OpenAIRequest, ContentParts) {
  const json body = {{"messages", json::array({{{"role", "system"}, {"content", "s"}},
                                               {{"role", "user"},
                                                {"content", json::array({{{"type", "text"}, {"text", "a"}},
                                                                         {{"type", "text"}, {"text", "b"}}})}},
                                               {{"role", "assistant"}, {"content", nullptr}}})}};
  const OpenAIRequest r = parse_request(Endpoint::kChat, body.dump());
  EXPECT_EQ(r.model, "");
  EXPECT_EQ(r.messages[1]["content"], "a\nb");
  EXPECT_EQ(r.messages[2]["content"], "");
}

TEST(OpenAIRequest, CompletionPrompts) {
  EXPECT_EQ(parse_request(Endpoint::kCompletions, completion_body().dump()).prompt_text, "hello");
  EXPECT_EQ(parse_request(Endpoint::kCompletions, completion_body({{"prompt", {"one"}}}).dump()).prompt_text, "one");
  const OpenAIRequest ids = parse_request(Endpoint::kCompletions, completion_body({{"prompt", {1, 2, 3}}}).dump());
  EXPECT_TRUE(ids.prompt_is_ids);
  EXPECT_EQ(ids.prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  const OpenAIRequest nested =
      parse_request(Endpoint::kCompletions, completion_body({{"prompt", json::array({{4, 5}})}}).dump());
  EXPECT_EQ(nested.prompt_ids, (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(parse_request(Endpoint::kCompletions, completion_body({{"logprobs", 2}}).dump()).logprobs, 2);
  EXPECT_EQ(parse_request(Endpoint::kCompletions, completion_body({{"stop", "x"}}).dump()).stop,
            (std::vector<std::string>{"x"}));
}

TEST(OpenAIRequest, MalformedBodies) {
  for (const std::string body : {"", "{", "{\"messages\": [}", "nul", "{\"a\": 1,}"}) {
    const ApiError e = rejection(Endpoint::kChat, body);
    EXPECT_EQ(e.status(), 400) << body;
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }
  // Invalid UTF-8 inside a string is malformed JSON too.
  const ApiError utf8 = rejection(Endpoint::kChat, "{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\"}]}");
  EXPECT_EQ(utf8.status(), 400);
  for (const std::string body : {"[]", "3", "\"text\"", "null"})
    EXPECT_EQ(rejection(Endpoint::kChat, body).status(), 400) << body;
}

TEST(OpenAIRequest, ChatFieldErrors) {
  const Endpoint c = Endpoint::kChat;
  expect_field_error(c, {{"model", "m"}}, "messages");
  expect_field_error(c, {{"messages", json::array()}}, "messages");
  expect_field_error(c, {{"messages", "hi"}}, "messages");
  expect_field_error(c, {{"messages", {1}}}, "messages[0]");
  expect_field_error(c, {{"messages", json::array({{{"content", "x"}}})}}, "messages[0].role");
  expect_field_error(c, {{"messages", json::array({{{"role", "<|user|>"}, {"content", "x"}}})}}, "messages[0].role");
  expect_field_error(c, {{"messages", json::array({{{"role", 3}, {"content", "x"}}})}}, "messages[0].role");
  expect_field_error(c, {{"messages", json::array({{{"role", "user"}}})}}, "messages[0].content");
  expect_field_error(c, {{"messages", json::array({{{"role", "user"}, {"content", 5}}})}}, "messages[0].content");
  expect_field_error(c, {{"messages", json::array({{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}})}},
                     "messages[0].content[0].type");
  expect_field_error(c, chat_body({{"model", 3}}), "model");
  expect_field_error(c, chat_body({{"max_completion_tokens", 0}}), "max_completion_tokens");
  expect_field_error(c, chat_body({{"max_tokens", -5}}), "max_tokens");
  expect_field_error(c, chat_body({{"max_tokens", 1.5}}), "max_tokens");
  expect_field_error(c, chat_body({{"max_tokens", "10"}}), "max_tokens");
  expect_field_error(c, chat_body({{"max_tokens", 1ull << 40}}), "max_tokens");
  expect_field_error(c, chat_body({{"temperature", "hot"}}), "temperature");
  expect_field_error(c, chat_body({{"temperature", 2.5}}), "temperature");
  expect_field_error(c, chat_body({{"temperature", -0.1}}), "temperature");
  expect_field_error(c, chat_body({{"top_p", 0}}), "top_p");
  expect_field_error(c, chat_body({{"top_p", 1.5}}), "top_p");
  expect_field_error(c, chat_body({{"top_k", -2}}), "top_k");
  expect_field_error(c, chat_body({{"min_p", 2}}), "min_p");
  expect_field_error(c, chat_body({{"presence_penalty", 3}}), "presence_penalty");
  expect_field_error(c, chat_body({{"frequency_penalty", true}}), "frequency_penalty");
  expect_field_error(c, chat_body({{"repetition_penalty", 0}}), "repetition_penalty");
  expect_field_error(c, chat_body({{"seed", 1.5}}), "seed");
  expect_field_error(c, chat_body({{"stop", 3}}), "stop");
  expect_field_error(c, chat_body({{"stop", {"a", 3}}}), "stop[1]");
  expect_field_error(c, chat_body({{"stop", ""}}), "stop");
  expect_field_error(c, chat_body({{"stop", json(std::vector<std::string>(kMaxStopStrings + 1, "x"))}}), "stop");
  expect_field_error(c, chat_body({{"logprobs", 1}}), "logprobs");
  expect_field_error(c, chat_body({{"top_logprobs", 2}}), "top_logprobs");
  expect_field_error(c, chat_body({{"logprobs", true}, {"top_logprobs", kMaxLogprobs + 1}}), "top_logprobs");
  expect_field_error(c, chat_body({{"stream", "yes"}}), "stream");
  expect_field_error(c, chat_body({{"stream_options", {{"include_usage", true}}}}), "stream_options");
  expect_field_error(c, chat_body({{"stream", true}, {"stream_options", {{"include_usage", 1}}}}),
                     "stream_options.include_usage");
  expect_field_error(c, chat_body({{"ignore_eos", 1}}), "ignore_eos");
  expect_field_error(c, chat_body({{"min_tokens", -1}}), "min_tokens");
  expect_field_error(c, chat_body({{"min_tokens", 5}, {"max_tokens", 2}}), "min_tokens");
  expect_field_error(c, chat_body({{"n", 2}}), "n");
  expect_field_error(c, chat_body({{"logit_bias", {{"5", 1}}}}), "logit_bias");
  expect_field_error(c, chat_body({{"tools", {{{"type", "function"}}}}}), "tools");
  expect_field_error(c, chat_body({{"response_format", {{"type", "json_object"}}}}), "response_format");
}

TEST(OpenAIRequest, CompletionFieldErrors) {
  const Endpoint p = Endpoint::kCompletions;
  expect_field_error(p, {{"model", "m"}}, "prompt");
  expect_field_error(p, completion_body({{"prompt", 5}}), "prompt");
  expect_field_error(p, completion_body({{"prompt", json::array()}}), "prompt");
  expect_field_error(p, completion_body({{"prompt", {"a", "b"}}}), "prompt");
  expect_field_error(p, completion_body({{"prompt", {1, -2}}}), "prompt[1]");
  expect_field_error(p, completion_body({{"prompt", {1, "x"}}}), "prompt[1]");
  expect_field_error(p, completion_body({{"logprobs", true}}), "logprobs");
  expect_field_error(p, completion_body({{"logprobs", kMaxLogprobs + 1}}), "logprobs");
  expect_field_error(p, completion_body({{"echo", true}}), "echo");
  expect_field_error(p, completion_body({{"best_of", 3}}), "best_of");
  expect_field_error(p, completion_body({{"suffix", "end"}}), "suffix");
}

}  // namespace
}  // namespace sambay::server
