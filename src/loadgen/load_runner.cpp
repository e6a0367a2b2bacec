#include "loadgen/load_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "sambay/base/error.h"

namespace sambay::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kLoggedFailures = 20;  // a dead server fails every request: keep the log readable

}  // namespace

LoadRun run_load(const LoadOptions& o, LiveCounters* live) {
  SAMBAY_CHECK(o.concurrency >= 1, "concurrency must be at least 1, got {}", o.concurrency);
  SAMBAY_CHECK(o.requests >= 0, "request count must not be negative, got {}", o.requests);
  SAMBAY_CHECK(o.duration_s >= 0, "duration must not be negative, got {}", o.duration_s);
  validate(o.workload);
  const int64_t total = o.requests > 0 ? o.requests : o.concurrency;

  std::vector<std::unique_ptr<CompletionClient>> clients;
  for (int c = 0; c < o.concurrency; ++c) clients.push_back(std::make_unique<CompletionClient>(o.endpoint));
  LoadRun run;
  run.model = o.model.empty() ? clients.front()->first_model_id() : o.model;

  LiveCounters own_counters;
  LiveCounters& counters = live ? *live : own_counters;
  std::vector<RequestResult> results(static_cast<size_t>(total));
  std::atomic<int64_t> next{0}, failures{0};
  std::atomic<bool> cancel{false};
  std::mutex mutex;
  std::condition_variable all_done;
  int running = o.concurrency;

  const auto start = Clock::now();
  const auto issue_until =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  const auto cancel_at =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(2 * o.duration_s));

  auto client_loop = [&](int c) {
    for (;;) {
      if (cancel.load() || (o.duration_s > 0 && Clock::now() >= issue_until)) break;
      const int64_t index = next.fetch_add(1);
      if (index >= total) break;
      const PlannedRequest plan = draw_request(o.workload, index);
      RequestResult& r = results[static_cast<size_t>(index)];
      r.index = index;
      r.client = c;
      r.prompt_len = static_cast<int64_t>(plan.prompt.size());
      r.gen_len = plan.gen_len;
      counters.started.fetch_add(1);
      clients[static_cast<size_t>(c)]->stream(completion_body(run.model, plan, o.temperature), r, start,
                                              &counters.tokens, &cancel);
      if (r.ok) {
        counters.completed.fetch_add(1);
      } else if (r.cancelled) {
        counters.failed.fetch_add(1);  // expected at the time limit: counted, not logged one by one
      } else {
        counters.failed.fetch_add(1);
        const int64_t n = failures.fetch_add(1);
        if (n < kLoggedFailures) spdlog::warn("request {}: {}", index, r.error);
        if (n == kLoggedFailures) spdlog::warn("further failed requests are not logged (see the report)");
      }
    }
    std::lock_guard lock(mutex);
    if (--running == 0) all_done.notify_all();
  };

  std::vector<std::thread> threads;
  for (int c = 0; c < o.concurrency; ++c) threads.emplace_back(client_loop, c);
  {
    // Watch for the hard stop (2x the duration cap, or an interrupt). Aborting again every 100 ms covers a
    // request that was still connecting when its socket was shut down.
    std::unique_lock lock(mutex);
    while (running > 0) {
      all_done.wait_for(lock, std::chrono::milliseconds(100));
      if (running == 0) break;
      const bool interrupted = o.interrupt && o.interrupt->load();
      if (interrupted || (o.duration_s > 0 && Clock::now() >= cancel_at)) {
        if (!cancel.exchange(true))
          spdlog::warn("{}: cancelling the open requests",
                       interrupted ? "interrupted" : "time limit (2x duration) reached");
        for (auto& client : clients) client->abort();
      }
    }
  }
  for (auto& t : threads) t.join();
  run.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  results.resize(static_cast<size_t>(std::min(next.load(), total)));
  run.results = std::move(results);
  return run;
}

}  // namespace sambay::loadgen
