// SSE parsing and OpenAI chunk accounting of streams cut into pieces at every possible byte boundary.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "loadgen/completion_stream.h"
#include "loadgen/sse_parser.h"

namespace sambay::loadgen {
namespace {

// Every event's data, feeding `stream` in pieces that end at `cuts`.
std::vector<std::string> events_of(std::string_view stream, const std::vector<size_t>& cuts) {
  std::vector<std::string> events;
  SseParser parser([&](std::string_view data) {
    events.emplace_back(data);
    return true;
  });
  size_t begin = 0;
  for (size_t cut : cuts) {
    EXPECT_TRUE(parser.feed(stream.substr(begin, cut - begin)));
    begin = cut;
  }
  EXPECT_TRUE(parser.feed(stream.substr(begin)));
  EXPECT_TRUE(parser.finish());
  return events;
}

// Line breaks of all three kinds, comments, other fields, multi-line data, "data:" without the space.
constexpr std::string_view kStream =
    ": keep-alive\n"
    "data: {\"a\": 1}\n\n"
    "event: message\r\nid: 7\r\ndata: {\"b\":\r\ndata:  2}\r\n\r\n"
    "data:first\rdata: second\r\r"
    "retry: 100\n"
    "data\n\n"
    "data: [DONE]\n\n";
const std::vector<std::string> kEvents{"{\"a\": 1}", "{\"b\":\n 2}", "first\nsecond", "", "[DONE]"};

TEST(SseParser, WholeStream) { EXPECT_EQ(events_of(kStream, {}), kEvents); }

TEST(SseParser, EverySplitIntoTwoOrThreePieces) {
  for (size_t i = 0; i <= kStream.size(); ++i) {
    ASSERT_EQ(events_of(kStream, {i}), kEvents) << "cut at " << i;
    for (size_t j = i; j <= kStream.size(); ++j) ASSERT_EQ(events_of(kStream, {i, j}), kEvents) << i << ", " << j;
  }
}

TEST(SseParser, OneByteAtATimeAndRandomPieces) {
  std::vector<size_t> every(kStream.size());
  for (size_t i = 0; i < every.size(); ++i) every[i] = i;
  EXPECT_EQ(events_of(kStream, every), kEvents);
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<size_t> cuts;
    for (size_t at = 0; at < kStream.size(); at += 1 + rng() % 9) cuts.push_back(at);
    ASSERT_EQ(events_of(kStream, cuts), kEvents) << "trial " << trial;
  }
}

TEST(SseParser, CrLfSplitBetweenItsTwoBytesIsOneLineBreak) {
  // Were the '\n' read as a second break, the blank line would end the event after "a".
  EXPECT_EQ(events_of("data: a\r\ndata: b\r\n\r\n", {7}), std::vector<std::string>{"a\nb"});
}

TEST(SseParser, AnUnterminatedLastEventIsDeliveredAtTheEnd) {
  std::vector<std::string> events;
  SseParser parser([&](std::string_view d) {
    events.emplace_back(d);
    return true;
  });
  EXPECT_TRUE(parser.feed("data: x\n\ndata: y"));
  EXPECT_EQ(events, std::vector<std::string>{"x"});
  EXPECT_TRUE(parser.pending());
  EXPECT_TRUE(parser.finish());
  EXPECT_EQ(events, (std::vector<std::string>{"x", "y"}));
}

TEST(SseParser, AHandlerStopsTheParse) {
  int calls = 0;
  SseParser parser([&](std::string_view) { return ++calls < 2; });
  EXPECT_FALSE(parser.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(parser.feed("data: 4\n\n"));
  EXPECT_EQ(calls, 2);
}

// An OpenAI completion stream of `tokens` token chunks: the last carries finish_reason, then a
// finish-only chunk, the usage chunk, and [DONE]. One chunk in the middle has empty text (held-back bytes).
std::string openai_stream(int tokens, int prompt_tokens) {
  std::string s;
  for (int i = 0; i < tokens; ++i) {
    const std::string text = i == tokens / 2 ? "" : fmt::format("t{}", i);
    const std::string finish = i == tokens - 1 ? "\"length\"" : "null";
    s += fmt::format(
        "data: {{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{{\"index\":0,\"text\":\"{}\","
        "\"finish_reason\":{}}}]}}\n\n",
        text, finish);
  }
  s += "data: {\"id\":\"cmpl-1\",\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]}\n\n";
  s += fmt::format(
      "data: {{\"id\":\"cmpl-1\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":{},"
      "\"total_tokens\":{}}}}}\n\n",
      prompt_tokens, tokens, prompt_tokens + tokens);
  s += "data: [DONE]\n\n";
  return s;
}

using Clock = CompletionStream::Clock;

TEST(CompletionStream, CountsTokenChunksAndUsageWhateverTheSplit) {
  const std::string body = openai_stream(6, 11);
  const Clock::time_point t0{};
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    RequestResult r;
    CompletionStream s(r, t0);
    ASSERT_TRUE(s.on_bytes(std::string_view(body).substr(0, cut), t0 + std::chrono::seconds(1)));
    ASSERT_TRUE(s.on_bytes(std::string_view(body).substr(cut), t0 + std::chrono::seconds(2)));
    s.finish(t0 + std::chrono::seconds(3));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.chunks, 6) << "cut at " << cut;
    EXPECT_EQ(r.itl_s.size(), 5u);
    EXPECT_EQ(r.prompt_tokens, 11);
    EXPECT_EQ(r.completion_tokens, 6);
    EXPECT_DOUBLE_EQ(r.latency_s, 3.0);
  }
}

TEST(CompletionStream, TimesEachTokenAtTheByteThatCompletesIt) {
  // Byte i arrives at i milliseconds: a chunk's time is that of the '\n' ending its event.
  const std::string body = openai_stream(4, 3);
  const Clock::time_point t0{};
  RequestResult r;
  std::atomic<int64_t> live{0};
  CompletionStream s(r, t0, &live);
  for (size_t i = 0; i < body.size(); ++i)
    ASSERT_TRUE(s.on_bytes(std::string_view(body).substr(i, 1), t0 + std::chrono::milliseconds(i)));
  s.finish(t0 + std::chrono::milliseconds(body.size()));
  ASSERT_TRUE(r.ok) << r.error;
  std::vector<double> ends;  // the positions of the events' final '\n'
  for (size_t at = body.find("\n\n"); at != std::string::npos; at = body.find("\n\n", at + 2)) ends.push_back(at + 1);
  EXPECT_DOUBLE_EQ(r.ttft_s, ends[0] / 1000);
  ASSERT_EQ(r.itl_s.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(r.itl_s[k], (ends[k + 1] - ends[k]) / 1000, 1e-9);
  EXPECT_EQ(live.load(), 4);
}

TEST(CompletionStream, MalformedChunkStopsTheRequestWithItsText) {
  RequestResult r;
  CompletionStream s(r, Clock::time_point{});
  EXPECT_FALSE(s.on_bytes("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {not json\n\n", Clock::time_point{}));
  s.finish(Clock::time_point{});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("malformed SSE chunk"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("{not json"), std::string::npos) << r.error;
  EXPECT_EQ(r.chunks, 1);
}

TEST(CompletionStream, ErrorEventGivesTheServersMessage) {
  RequestResult r;
  CompletionStream s(r, Clock::time_point{});
  EXPECT_FALSE(s.on_bytes("data: {\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}\n\n",
                          Clock::time_point{}));
  s.finish(Clock::time_point{});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("out of memory"), std::string::npos) << r.error;
}

TEST(CompletionStream, AStreamWithoutDoneFails) {
  const std::string body = openai_stream(3, 2);
  RequestResult r;
  CompletionStream s(r, Clock::time_point{});
  EXPECT_TRUE(s.on_bytes(std::string_view(body).substr(0, body.find("data: [DONE]")), Clock::time_point{}));
  s.finish(Clock::time_point{});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("[DONE]"), std::string::npos) << r.error;
  EXPECT_EQ(r.completion_tokens, 3);
}

TEST(CompletionStream, ATransportErrorIsTheRequestsError) {
  RequestResult r;
  CompletionStream s(r, Clock::time_point{});
  EXPECT_TRUE(s.on_bytes("data: {\"choices\":[{\"text\":\"a\",\"finish_reason\":null}]}\n\n", Clock::time_point{}));
  s.finish(Clock::time_point{}, "the stream broke off: Read");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "the stream broke off: Read");
}

}  // namespace
}  // namespace sambay::loadgen
