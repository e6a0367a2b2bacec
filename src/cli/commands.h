#pragma once
#include <CLI/CLI.hpp>

namespace sambay::cli {

// Each adds its subcommand to `app`; the subcommand runs from its callback.
void add_logits_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_serve_command(CLI::App& app);  // built with SAMBAY_HAVE_SERVER
void add_loadgen_command(CLI::App& app);  // built with SAMBAY_HAVE_LOADGEN

}  // namespace sambay::cli
