// sambay loadgen: a load generator for OpenAI-compatible servers, the one tool for every serving
// benchmark. Closed loop: N clients send streamed completions back to back; the report gives throughput
// and latency distributions (TTFT, TPOT, ITL) on stdout and, with --json, every request.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "commands.h"
#include "loadgen/load_runner.h"
#include "loadgen/report.h"
#include "loadgen/stats.h"
#include "sambay/base/error.h"

namespace sambay::cli {
namespace {

using namespace sambay::loadgen;

struct Options {
  LoadOptions load;
  std::string workload;                 // preset name
  int64_t prompt_len = 0, gen_len = 0;  // 0: from the preset
  std::optional<double> range_ratio;    // unset: the preset's (0 without one)
  std::string json_path;
  bool json_itl = false;
};

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// The command line as typed, for the JSON record.
std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), out;
  size_t begin = 0;
  while (begin < all.size()) {
    size_t end = all.find('\0', begin);
    if (end == std::string::npos) end = all.size();
    const std::string arg = all.substr(begin, end - begin);
    if (!out.empty()) out += ' ';
    out += arg.find_first_of(" \t\"'") == std::string::npos ? arg : fmt::format("'{}'", arg);
    begin = end + 1;
  }
  return out;
}

// Resolves the preset and the explicit lengths into the workload; returns its name for the report.
std::string resolve_workload(Options& o) {
  std::string name = "custom";
  if (!o.workload.empty()) {
    const auto preset = find_workload_preset(o.workload);
    SAMBAY_CHECK(preset.has_value(), "unknown workload \"{}\"", o.workload);
    o.load.workload.prompt_len = preset->prompt_len;
    o.load.workload.gen_len = preset->gen_len;
    if (!o.range_ratio) o.load.workload.range_ratio = preset->range_ratio;
    name = o.workload;
  } else {
    SAMBAY_CHECK(o.prompt_len > 0 && o.gen_len > 0, "give --workload, or both --prompt-len and --gen-len");
  }
  if (o.range_ratio) o.load.workload.range_ratio = *o.range_ratio;
  if (o.prompt_len > 0 || o.gen_len > 0) {
    if (o.prompt_len > 0) o.load.workload.prompt_len = o.prompt_len;
    if (o.gen_len > 0) o.load.workload.gen_len = o.gen_len;
    if (!o.workload.empty()) name = o.workload + " (lengths overridden)";
  }
  return name;
}

// While the run goes on: a live line on a terminal, else one log line every 10 s.
class Progress {
 public:
  Progress(const LiveCounters& live, int64_t total) : live_(live), total_(total), tty_(isatty(STDERR_FILENO) == 1) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Progress() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (tty_) fmt::print(stderr, "\n");
  }

 private:
  void loop() {
    const auto start = std::chrono::steady_clock::now();
    const auto period = tty_ ? std::chrono::milliseconds(500) : std::chrono::milliseconds(10000);
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const int64_t done = live_.completed.load(), failed = live_.failed.load(), tokens = live_.tokens.load();
      const std::string text =
          fmt::format("{:.1f} s: {}/{} requests done, {} failed, {} open, {} tokens streamed, {:.1f} tok/s", t, done,
                      total_, failed, live_.started.load() - done - failed, tokens, t > 0 ? tokens / t : 0.0);
      if (tty_) {
        fmt::print(stderr, "\r\033[K{}", text);
        std::fflush(stderr);
      } else {
        spdlog::info("{}", text);
      }
    }
  }

  const LiveCounters& live_;
  int64_t total_;
  bool tty_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

void run(Options& o) {
  RunDescription description;
  description.workload_name = resolve_workload(o);
  description.command_line = command_line();
  o.load.interrupt = &g_interrupted;

  LiveCounters live;
  std::signal(SIGINT, on_interrupt);
  LoadRun result;
  {
    const int64_t total = o.load.requests > 0 ? o.load.requests : o.load.concurrency;
    Progress progress(live, total);
    result = run_load(o.load, &live);
  }
  std::signal(SIGINT, SIG_DFL);

  description.options = o.load;
  description.model = result.model;
  const Summary summary = summarize(result.results, result.wall_s);
  fmt::print("{}", format_report(description, summary));
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    SAMBAY_CHECK(out.good(), "cannot write {}", o.json_path);
    out << report_json(description, summary, result.results, o.json_itl).dump(2) << '\n';
    SAMBAY_CHECK(out.good(), "writing {} failed", o.json_path);
  }
  if (g_interrupted.load()) fail("interrupted: the figures cover part of the run");
  if (summary.failed > 0) fail("{} of {} requests failed", summary.failed, summary.requests);
}

}  // namespace

void add_loadgen_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  LoadOptions& l = opts->load;
  CLI::App* cmd =
      app.add_subcommand("loadgen", "benchmark an OpenAI-compatible server with concurrent streamed completions");
  cmd->add_option("--url", l.endpoint.url, "server base URL; requests go to URL/v1/completions")->required();
  cmd->add_option("--api-key", l.endpoint.api_key, "sent as \"Authorization: Bearer KEY\"");
  cmd->add_option("--model", l.model, "model name in the requests (default: the first of GET /v1/models)");
  std::vector<std::string> presets;
  for (const auto& p : workload_presets()) presets.emplace_back(p.name);
  cmd->add_option("--workload", opts->workload,
                  "preset: paper-2k-32k (prompt 2000, generation 32000) or long-prompt (prompt 32000, generation 500)")
      ->check(CLI::IsMember(presets));
  cmd->add_option("--prompt-len", opts->prompt_len, "mean prompt tokens (overrides the preset's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--gen-len", opts->gen_len, "mean generated tokens (overrides the preset's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--range-ratio", opts->range_ratio,
                  "lengths uniform in [mean*(1-r), mean*(1+r)], as vLLM's random dataset (default: 0.1 with a "
                  "--workload preset, else 0: exact means)")
      ->check(CLI::Range(0.0, 0.999999));
  cmd->add_option("--token-min", l.workload.token_min, "smallest prompt token id")->capture_default_str();
  cmd->add_option("--token-max", l.workload.token_max, "prompt token ids are below this")->capture_default_str();
  cmd->add_option("-c,--concurrency", l.concurrency, "clients sending requests back to back")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("-n,--requests", l.requests, "requests in all (default: one per client)")->check(CLI::PositiveNumber);
  cmd->add_option("--duration", l.duration_s,
                  "seconds after which no request starts; requests still open at twice this are cancelled")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", l.workload.seed, "seed of the lengths and prompts")->capture_default_str();
  cmd->add_option("--temperature", l.temperature, "sampling temperature")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--timeout", l.endpoint.read_timeout_s, "seconds of silence after which a request fails")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--connect-timeout", l.endpoint.connect_timeout_s, "seconds to wait for a connection")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--json", opts->json_path, "also write the run, its summary and every request to this JSON file");
  cmd->add_flag("--json-itl", opts->json_itl, "put every inter-token gap of every request in the JSON file");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace sambay::cli
