// Whole runs against an in-process stand-in for an OpenAI-compatible server: it checks the requests the
// load generator sends and streams answers in awkward pieces, or fails in the ways a real server can.
// (The stand-in speaks the protocol only; the real server has its own end-to-end tests.)
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "loadgen/load_runner.h"
#include "loadgen/stats.h"
#include "process.h"
#include "sambay/base/error.h"
#include "test_util.h"

namespace sambay::loadgen {
namespace {

using nlohmann::json;

enum class Behaviour { Stream, Http500, Malformed, Stall };

class FakeServer {
 public:
  Behaviour behaviour = Behaviour::Stream;
  int wait_for_in_flight = 0;  // hold the first answers until this many requests are open at once

  FakeServer() {
    server_.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"object":"list","data":[{"id":"fake-model","object":"model"}]})", "application/json");
    });
    server_.Post("/v1/completions",
                 [this](const httplib::Request& req, httplib::Response& res) { complete(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<json> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> auth_headers() {
    std::lock_guard lock(mutex_);
    return auth_;
  }
  int max_in_flight() {
    std::lock_guard lock(mutex_);
    return max_in_flight_;
  }

 private:
  void complete(const httplib::Request& req, httplib::Response& res) {
    const json body = json::parse(req.body);
    {
      std::lock_guard lock(mutex_);
      bodies_.push_back(body);
      auth_.push_back(req.get_header_value("Authorization"));
    }
    if (behaviour == Behaviour::Http500) {
      res.status = 500;
      res.set_content(R"({"error":{"message":"the engine is on fire","type":"server_error"}})", "application/json");
      return;
    }
    const int prompt = static_cast<int>(body["prompt"].size());
    const int tokens = body["max_tokens"].get<int>();
    res.set_chunked_content_provider("text/event-stream", [this, prompt, tokens](size_t, httplib::DataSink& sink) {
      enter();
      const bool ok = stream(sink, prompt, tokens);
      leave();
      if (ok) sink.done();
      return ok;
    });
  }

  void enter() {
    std::unique_lock lock(mutex_);
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    changed_.notify_all();
    if (started_++ < wait_for_in_flight)
      changed_.wait_for(lock, std::chrono::seconds(5), [this] { return in_flight_ >= wait_for_in_flight; });
  }
  void leave() {
    std::lock_guard lock(mutex_);
    --in_flight_;
  }

  // Each event goes out in two pieces cut mid-line, a millisecond apart.
  static bool send_split(httplib::DataSink& sink, const std::string& event) {
    const size_t half = event.size() / 2;
    if (!sink.write(event.data(), half)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return sink.write(event.data() + half, event.size() - half);
  }

  bool stream(httplib::DataSink& sink, int prompt, int tokens) {
    if (behaviour == Behaviour::Stall) {  // headers, then only keep-alive comments until the client leaves
      while (!stopping_ && sink.is_writable()) {
        if (!sink.write(": ping\n\n", 8)) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      return false;
    }
    for (int i = 0; i < tokens; ++i) {
      const json finish = i + 1 == tokens ? json("length") : json(nullptr);
      const json chunk = {{"id", "cmpl-x"},
                          {"object", "text_completion"},
                          {"choices", {{{"index", 0}, {"text", "w"}, {"finish_reason", finish}}}}};
      if (!send_split(sink, "data: " + chunk.dump() + "\n\n")) return false;
      if (behaviour == Behaviour::Malformed && i == 1) return send_split(sink, "data: {\"choices\": [oops\n\n");
    }
    const json usage = {
        {"id", "cmpl-x"},
        {"choices", json::array()},
        {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", tokens}, {"total_tokens", prompt + tokens}}}};
    return send_split(sink, "data: " + usage.dump() + "\n\n") && send_split(sink, "data: [DONE]\n\n");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<json> bodies_;
  std::vector<std::string> auth_;
  int in_flight_ = 0, max_in_flight_ = 0, started_ = 0;
};

LoadOptions options(const std::string& url) {
  LoadOptions o;
  o.endpoint.url = url;
  o.endpoint.read_timeout_s = 10;
  o.workload.prompt_len = 20;
  o.workload.gen_len = 8;
  o.workload.range_ratio = 0.5;
  o.workload.seed = 3;
  return o;
}

TEST(LoadgenRun, SendsTheWorkloadAndMeasuresEveryRequest) {
  FakeServer server;
  server.wait_for_in_flight = 3;
  LoadOptions o = options(server.url());
  o.concurrency = 3;
  o.requests = 7;
  o.endpoint.api_key = "sekret";
  LiveCounters live;
  const LoadRun run = run_load(o, &live);

  EXPECT_EQ(run.model, "fake-model");  // from GET /v1/models
  ASSERT_EQ(run.results.size(), 7u);
  EXPECT_EQ(server.max_in_flight(), 3);
  int64_t generated = 0;
  for (const auto& r : run.results) {
    ASSERT_TRUE(r.ok) << "request " << r.index << ": " << r.error;
    const PlannedRequest plan = draw_request(o.workload, r.index);
    EXPECT_EQ(r.http_status, 200);
    EXPECT_EQ(r.prompt_len, static_cast<int64_t>(plan.prompt.size()));
    EXPECT_EQ(r.prompt_tokens, r.prompt_len);
    EXPECT_EQ(r.completion_tokens, plan.gen_len);
    EXPECT_EQ(r.chunks, plan.gen_len);
    EXPECT_EQ(r.itl_s.size(), static_cast<size_t>(plan.gen_len - 1));
    EXPECT_GT(r.ttft_s, 0);
    EXPECT_GE(r.latency_s, r.ttft_s);
    EXPECT_LT(r.start_s + r.latency_s, run.wall_s + 1e-6);
    generated += r.completion_tokens;
  }
  EXPECT_EQ(live.completed.load(), 7);
  EXPECT_EQ(live.failed.load(), 0);
  EXPECT_EQ(live.tokens.load(), generated);

  // What the server received: token-id prompts of the drawn lengths, exact generation lengths, streaming
  // with usage, the key.
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 7u);
  std::set<std::vector<int32_t>> prompts;
  for (const auto& b : bodies) {
    EXPECT_EQ(b["model"], "fake-model");
    EXPECT_EQ(b["stream"], true);
    EXPECT_EQ(b["stream_options"]["include_usage"], true);
    EXPECT_EQ(b["ignore_eos"], true);
    EXPECT_EQ(b["temperature"], 0.0);
    EXPECT_EQ(b["max_tokens"], b["min_tokens"]);
    ASSERT_TRUE(b["prompt"].is_array());
    prompts.insert(b["prompt"].get<std::vector<int32_t>>());
  }
  for (int64_t i = 0; i < 7; ++i) EXPECT_TRUE(prompts.count(draw_request(o.workload, i).prompt)) << "request " << i;
  for (const auto& a : server.auth_headers()) EXPECT_EQ(a, "Bearer sekret");

  const Summary s = summarize(run.results, run.wall_s);
  EXPECT_EQ(s.completed, 7);
  EXPECT_EQ(s.generated_tokens, generated);
  EXPECT_EQ(s.length_mismatches, 0);
  EXPECT_GT(s.decode_throughput, 0);
  EXPECT_EQ(s.itl_s.count, generated - 7);
}

TEST(LoadgenRun, AnHttpErrorFailsItsRequestsWithTheServersMessage) {
  FakeServer server;
  server.behaviour = Behaviour::Http500;
  LoadOptions o = options(server.url());
  o.concurrency = 2;
  o.requests = 4;
  const LoadRun run = run_load(o);
  ASSERT_EQ(run.results.size(), 4u);
  for (const auto& r : run.results) {
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.cancelled);
    EXPECT_EQ(r.http_status, 500);
    EXPECT_NE(r.error.find("HTTP 500"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("the engine is on fire"), std::string::npos) << r.error;
  }
  EXPECT_EQ(summarize(run.results, run.wall_s).failed, 4);
}

TEST(LoadgenRun, AMalformedChunkFailsOnlyItsRequest) {
  FakeServer server;
  server.behaviour = Behaviour::Malformed;
  LoadOptions o = options(server.url());
  o.requests = 2;
  const LoadRun run = run_load(o);
  ASSERT_EQ(run.results.size(), 2u);  // the first failure did not stop the run
  for (const auto& r : run.results) {
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("malformed SSE chunk"), std::string::npos) << r.error;
    EXPECT_EQ(r.chunks, 2);
  }
}

TEST(LoadgenRun, AnUnreachableServerIsReported) {
  std::string url;
  {
    FakeServer gone;  // a port that was just free again
    url = gone.url();
  }
  LoadOptions o = options(url);
  o.endpoint.connect_timeout_s = 2;
  try {
    run_load(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach " + url), std::string::npos) << e.what();
  }
  o.model = "given";  // no model list to ask for: every request fails on its own
  o.requests = 3;
  const LoadRun run = run_load(o);
  ASSERT_EQ(run.results.size(), 3u);
  for (const auto& r : run.results) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.http_status, 0);
    EXPECT_NE(r.error.find("cannot reach"), std::string::npos) << r.error;
  }
}

TEST(LoadgenRun, TheDurationCapCancelsOpenRequestsAtTwiceTheCap) {
  FakeServer server;
  server.behaviour = Behaviour::Stall;
  LoadOptions o = options(server.url());
  o.concurrency = 2;
  o.requests = 100;
  o.duration_s = 0.3;
  const LoadRun run = run_load(o);
  EXPECT_EQ(run.results.size(), 2u);  // the stalled requests never ended, so no others started
  EXPECT_GE(run.wall_s, 0.6);
  EXPECT_LT(run.wall_s, 3.0);
  for (const auto& r : run.results) {
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.cancelled);
    EXPECT_NE(r.error.find("cancelled"), std::string::npos) << r.error;
  }
  const Summary s = summarize(run.results, run.wall_s);
  EXPECT_EQ(s.cancelled, 2);
  EXPECT_EQ(s.failed, 0);
}

TEST(LoadgenCommand, PrintsTheTableAndWritesTheJsonRecord) {
  FakeServer server;
  test::TempDir dir;
  const std::string json_path = (dir / "run.json").string();
  const auto p = test::run_process({SAMBAY_BINARY, "loadgen", "--url", server.url(), "--prompt-len", "16", "--gen-len",
                                    "5", "-c", "2", "-n", "4", "--seed", "9", "--json", json_path});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("output throughput"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("4 completed, 0 failed"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("TTFT (ms)"), std::string::npos) << p.out;
  std::ifstream in(json_path);
  const json j = json::parse(in);
  EXPECT_EQ(j["url"], server.url());
  EXPECT_EQ(j["model"], "fake-model");
  EXPECT_NE(j["command_line"].get<std::string>().find("--prompt-len 16"), std::string::npos);
  EXPECT_EQ(j["workload"]["prompt_len"], 16);
  EXPECT_EQ(j["workload"]["seed"], 9);
  EXPECT_EQ(j["load"]["concurrency"], 2);
  EXPECT_EQ(j["summary"]["completed"], 4);
  EXPECT_EQ(j["summary"]["generated_tokens"], 20);
  ASSERT_EQ(j["requests"].size(), 4u);
  EXPECT_EQ(j["requests"][0]["completion_tokens"], 5);
  // The token timeline: the first chunk and the last (5 tokens: no 1024th), in order.
  const json& tl = j["requests"][0]["timeline"];
  ASSERT_EQ(tl.size(), 2u);
  EXPECT_EQ(tl[0][0], 1);
  EXPECT_EQ(tl[1][0], 5);
  EXPECT_LE(tl[0][1].get<double>(), tl[1][1].get<double>());
  EXPECT_LE(tl[1][1].get<double>(), j["requests"][0]["latency_s"].get<double>());

  // A failing server: the report still comes, and the exit status says the run is not clean.
  FakeServer failing;
  failing.behaviour = Behaviour::Http500;
  const auto f = test::run_process(
      {SAMBAY_BINARY, "loadgen", "--url", failing.url(), "--prompt-len", "4", "--gen-len", "2", "-n", "2"});
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_NE(f.out.find("0 completed, 2 failed"), std::string::npos) << f.out;
  EXPECT_NE(f.err.find("request 0: HTTP 500"), std::string::npos) << f.err;
  EXPECT_NE(f.err.find("2 of 2 requests failed"), std::string::npos) << f.err;
}

}  // namespace
}  // namespace sambay::loadgen
