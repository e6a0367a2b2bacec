#pragma once
// Options and helpers shared by the subcommands.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "sambay/model/language_model.h"
#include "sambay/ops/ops.h"
#include "sambay/ops/profiled_ops.h"

namespace sambay::cli {

struct ModelOptions {
  std::string model_dir;
  std::string device = "auto";
  bool dummy = false;
  uint64_t seed = 0;
  int threads = 0;  // 0: all cores
  bool profile = false;  // time every op and print a table at the end
  std::string tokenizer_dir;  // --tokenizer: where the tokenizer and chat template are (default: model_dir)

  const std::string& text_dir() const { return tokenizer_dir.empty() ? model_dir : tokenizer_dir; }
};

// Adds --model/-m, --device, --dummy, --seed, --threads.
void add_model_options(CLI::App& cmd, ModelOptions& o);
// Adds --tokenizer, for the commands that read or write text.
void add_tokenizer_option(CLI::App& cmd, ModelOptions& o);

struct LoadedModel {
  std::unique_ptr<Ops> backend;
  std::unique_ptr<ProfiledOps> profiler;  // set with --profile; wraps the backend
  Ops* ops = nullptr;
  std::unique_ptr<LanguageModel> model;
  double load_seconds = 0;
};

LoadedModel load_model(const ModelOptions& o);

// Peak resident memory of this process, in bytes.
size_t peak_rss_bytes();

}  // namespace sambay::cli
