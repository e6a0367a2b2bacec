#include "common.h"

#include <omp.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include "sambay/base/timer.h"
#include "sambay/ops/backend.h"

namespace sambay::cli {

void add_model_options(CLI::App& cmd, ModelOptions& o) {
  cmd.add_option("-m,--model", o.model_dir, "Hugging Face model folder (config.json + weights)")->required();
  cmd.add_option("--device", o.device, "cpu, cuda or auto (cuda when a GPU is usable)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd.add_flag("--dummy", o.dummy, "random weights at the folder's shapes instead of reading safetensors");
  cmd.add_option("--seed", o.seed, "seed for dummy weights and sampling");
  cmd.add_option("--threads", o.threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd.add_flag("--profile", o.profile, "time every op and print a table at the end (stderr)");
}

void add_tokenizer_option(CLI::App& cmd, ModelOptions& o) {
  // As vLLM's --tokenizer: a model folder without tokenizer files (or with dummy weights for a
  // family that shares another folder's tokenizer) takes them from here.
  cmd.add_option("--tokenizer", o.tokenizer_dir,
                 "folder with tokenizer.json and the chat template (default: the model folder)")
      ->check(CLI::ExistingDirectory);
}

// "loading [##########          ] 217/434" on one line of the terminal, erased when done.
void draw_progress(int done, int total) {
  constexpr int kWidth = 30;
  const int filled = total > 0 ? done * kWidth / total : kWidth;
  std::fprintf(stderr, "\rloading [%.*s%*s] %d/%d", filled, "##############################", kWidth - filled, "", done,
               total);
  if (done >= total) std::fprintf(stderr, "\r%*s\r", kWidth + 24, "");
  std::fflush(stderr);
}

LoadedModel load_model(const ModelOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  LoadedModel m;
  Timer timer;
  m.backend = make_backend(o.device);
  m.ops = m.backend.get();
  if (o.profile) {
    m.profiler = std::make_unique<ProfiledOps>(*m.backend);
    m.ops = m.profiler.get();
  }
  LoadOptions load{o.dummy, o.seed, {}};
  if (isatty(STDERR_FILENO)) load.progress = draw_progress;  // a bar only on a terminal
  m.model = load_language_model(o.model_dir, *m.ops, load);
  if (m.profiler) m.profiler->reset();
  m.load_seconds = timer.seconds();
  const ModelInfo& c = m.model->info();
  spdlog::info("loaded {} ({}, {} layers, hidden {}, vocab {}, {:.2f} GB of {} weights) in {:.1f} s", o.model_dir,
               c.architecture, c.num_layers, c.hidden_size, c.vocab_size, m.model->weight_bytes() / 1e9,
               o.dummy ? "dummy" : "checkpoint", m.load_seconds);
  return m;
}

size_t peak_rss_bytes() {
  struct rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<size_t>(ru.ru_maxrss) * 1024;
}

}  // namespace sambay::cli
