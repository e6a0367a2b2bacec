// sambay serve: the OpenAI-compatible HTTP server over the batching engine.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "commands.h"
#include "common.h"
#include "http_server.h"
#include "sambay/base/error.h"
#include "sambay/engine/engine.h"
#include "sambay/engine/text_model.h"
#ifdef SAMBAY_HAVE_CUDA
#include "sambay/ops/cuda/cuda_ops.h"
#endif

namespace sambay::cli {
namespace {

struct Options {
  ModelOptions model;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string served_model_name;
  std::optional<int64_t> ctx;
  std::optional<double> mem_fraction;
  int max_seqs = 16;
  int64_t max_batch_tokens = 2048;
  size_t max_body_bytes = size_t{8} << 20;
  int http_threads = 0;
  double shutdown_grace = 30;
  bool match_special_in_content = false;
};

constexpr int64_t kPageSize = 16;
constexpr double kCudaMemFraction = 0.9;
// On the CPU the state lives in host memory next to everything else on the machine.
constexpr double kCpuMemFraction = 0.5;

size_t mem_available_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  size_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

// Working memory of one step (activations at max_batch_tokens, logits of every sequence) plus
// allocator slack: kept out of the cache budget so a full batch cannot run out of memory.
size_t activation_reserve(const LanguageModel& m, int max_seqs, int64_t max_batch_tokens, bool device) {
  const size_t per_token = m.activation_bytes_per_token();
  const size_t logits = static_cast<size_t>(max_seqs) * static_cast<size_t>(m.info().vocab_size) * 4 * 2;
  const size_t slack = device ? size_t{512} << 20 : size_t{64} << 20;
  return per_token * static_cast<size_t>(max_batch_tokens) + logits + slack;
}

// Bytes the state cache may take: a fraction of the device's memory less what is already in use
// (the weights), or on the CPU a fraction of MemAvailable; minus the activation reserve.
size_t state_budget(const Options& o, const LoadedModel& lm) {
  const LanguageModel& c = *lm.model;
#ifdef SAMBAY_HAVE_CUDA
  if (auto* cuda = dynamic_cast<CudaOps*>(lm.backend.get())) {
    const double total = static_cast<double>(cuda->properties().totalGlobalMem);
    const double usable = total * o.mem_fraction.value_or(kCudaMemFraction) - cuda->device_bytes_in_use();
    const double reserve = activation_reserve(c, o.max_seqs, o.max_batch_tokens, true);
    spdlog::info("device memory: {:.2f} GiB total, {:.2f} GiB in use, {:.2f} GiB activation reserve",
                 total / 1073741824.0, cuda->device_bytes_in_use() / 1073741824.0, reserve / 1073741824.0);
    return static_cast<size_t>(std::max(0.0, usable - reserve));
  }
#endif
  const double available = static_cast<double>(mem_available_bytes());
  const double reserve = activation_reserve(c, o.max_seqs, o.max_batch_tokens, false);
  spdlog::info("host memory: {:.2f} GiB available, {:.2f} GiB activation reserve", available / 1073741824.0,
               reserve / 1073741824.0);
  return static_cast<size_t>(std::max(0.0, available * o.mem_fraction.value_or(kCpuMemFraction) - reserve));
}

// The engine's shape: the context length (--ctx, else the model's, lowered when memory is short)
// and the slots and pages the memory budget holds.
EngineOptions plan_engine(const Options& o, const LoadedModel& lm, const TextModel& text) {
  const LanguageModel& model = *lm.model;
  const StateLayout layout = model.state_layout();
  const DType kv_dtype = lm.ops->activation_dtype();
  const size_t budget = state_budget(o, lm);
  int64_t ctx = o.ctx ? *o.ctx : text.defaults.context_length;
  if (ctx <= 0) ctx = model.info().max_position_embeddings;
  CacheBudget plan;
  try {
    plan = plan_cache(layout, kv_dtype, budget, o.max_seqs, ctx, kPageSize);
  } catch (const Error&) {
    if (o.ctx) throw;  // the user asked for this context: say it does not fit
    // The longest context one sequence can have in the budget, in whole pages.
    const StateSizes s = StateCache::sizes(layout, kv_dtype);
    const size_t fixed = s.mamba_per_seq + s.rings_per_seq;
    const int64_t fits = budget > fixed ? static_cast<int64_t>((budget - fixed) / s.kv_per_token) : 0;
    const int64_t lowered = fits / kPageSize * kPageSize;
    if (lowered < kPageSize) throw;
    spdlog::warn("context lowered from {} to {} positions to fit the memory budget", ctx, lowered);
    ctx = lowered;
    plan = plan_cache(layout, kv_dtype, budget, o.max_seqs, ctx, kPageSize);
  }
  EngineOptions e;
  e.max_seqs = plan.max_seqs;
  e.max_seq_len = ctx;
  e.num_pages = plan.num_pages;
  e.page_size = kPageSize;
  e.max_batch_tokens = o.max_batch_tokens;
  spdlog::info("state cache: {} slots, {} pages of {} positions ({:.1f} MiB of a {:.1f} MiB budget), context {}",
               e.max_seqs, e.num_pages, e.page_size, plan.bytes / 1048576.0, budget / 1048576.0, e.max_seq_len);
  spdlog::info("maximum concurrency at the full context of {}: {} sequences", e.max_seq_len, plan.full_length_seqs);
  return e;
}

// SIGINT and SIGTERM: the first starts a graceful shutdown, a second ends the process at once.
// Handlers rather than a blocked mask and sigwait: libraries start threads before main (OpenBLAS's
// pool, for one), and a signal the kernel delivers to such a thread would otherwise kill the
// process. The handler only writes the signal number to a pipe; a watcher thread does the rest.
int g_signal_pipe[2] = {-1, -1};
std::atomic<int> g_stop_signals{0};

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signals.fetch_add(1) >= 1) {
    constexpr char msg[] = "second signal: exiting now\n";
    [[maybe_unused]] ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(1);
  }
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t w = write(g_signal_pipe[1], &b, 1);
}

class SignalWatch {
 public:
  SignalWatch() {
    SAMBAY_CHECK(pipe2(g_signal_pipe, O_CLOEXEC) == 0, "serve: cannot create the signal pipe");
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server
  }
  ~SignalWatch() {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (thread_.joinable()) {
      const unsigned char end = 0;  // not a signal number: ends the watcher
      [[maybe_unused]] ssize_t w = write(g_signal_pipe[1], &end, 1);
      thread_.join();
    }
    close(g_signal_pipe[0]);
    close(g_signal_pipe[1]);
  }
  void start(std::function<void()> on_shutdown) {
    thread_ = std::thread([on_shutdown = std::move(on_shutdown)] {
      unsigned char sig = 0;
      while (true) {
        const ssize_t n = read(g_signal_pipe[0], &sig, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n != 1 || sig == 0) return;
        spdlog::info("{}: shutting down (no new requests; those in flight finish)",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        on_shutdown();
      }
    });
  }

 private:
  std::thread thread_;
};

std::string default_model_name(const std::string& dir) {
  std::filesystem::path p(dir);
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

void serve(const Options& o) {
  SignalWatch signals;
  LoadedModel lm = load_model(o.model);
  const TextModel text = load_text_model(o.model.text_dir(), o.model.model_dir, lm.model->info());
  const EngineOptions engine_options = plan_engine(o, lm, text);
  Engine engine(*lm.model, &text.tokenizer, engine_options);

  server::ServerOptions s;
  s.host = o.host;
  s.port = o.port;
  s.api_key = o.api_key;
  s.model_name = o.served_model_name.empty() ? default_model_name(o.model.model_dir) : o.served_model_name;
  s.max_body_bytes = o.max_body_bytes;
  s.http_threads = o.http_threads > 0 ? o.http_threads : std::max(64, 2 * engine_options.max_seqs + 16);
  s.shutdown_grace_seconds = o.shutdown_grace;
  s.build.context_length = engine_options.max_seq_len;
  s.build.vocab_size = lm.model->info().vocab_size;
  s.build.match_special_in_content = o.match_special_in_content;
  server::HttpServer http(engine, text, s);
  const int port = http.bind();
  engine.start();
  signals.start([&http] { http.shutdown(); });
  spdlog::info("serving '{}' on http://{}:{} ({})", s.model_name, o.host, port,
               o.api_key.empty() ? "no API key" : "API key required");
  http.serve();
  engine.stop(true);
  const EngineStats st = engine.stats();
  spdlog::info("stopped: {} requests finished, {} cancelled, {} failed", st.requests_finished, st.requests_cancelled,
               st.requests_failed);
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("serve", "serve the model over an OpenAI-compatible HTTP API");
  add_model_options(*cmd, opts->model);
  add_tokenizer_option(*cmd, opts->model);
  cmd->add_option("--host", opts->host, "address to listen on (default: loopback only)");
  cmd->add_option("--port", opts->port, "port to listen on (0: any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--api-key", opts->api_key, "require 'Authorization: Bearer KEY' on /v1 and /metrics");
  cmd->add_option("--served-model-name", opts->served_model_name, "the model's name in the API (default: folder name)");
  cmd->add_option("--ctx", opts->ctx, "context length per sequence (default: the model's, capped by memory)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--mem-fraction", opts->mem_fraction,
                  "share of device memory (CUDA, default 0.9) or of MemAvailable (CPU, default 0.5) to use")
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--max-seqs", opts->max_seqs, "sequences running at once at most")->check(CLI::PositiveNumber);
  cmd->add_option("--max-batch-tokens", opts->max_batch_tokens, "tokens per engine step")->check(CLI::PositiveNumber);
  cmd->add_option("--max-body-bytes", opts->max_body_bytes, "largest request body accepted (413 beyond)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--http-threads", opts->http_threads, "connections served at once (default: max(64, 2*slots+16))")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--shutdown-grace", opts->shutdown_grace,
                  "seconds requests in flight may take to finish after SIGTERM/SIGINT before they are cancelled")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--match-special-in-content", opts->match_special_in_content,
                "let role-token strings in messages act as role tokens (Hugging Face's behaviour)");
  cmd->callback([opts] { serve(*opts); });
}

}  // namespace sambay::cli
