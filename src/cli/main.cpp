// sambay: one binary, one subcommand per job.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "commands.h"
#include "sambay/base/error.h"

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries the results.
  spdlog::set_default_logger(spdlog::stderr_color_mt("sambay"));
  spdlog::set_pattern("%^%l%$: %v");

  CLI::App app{
      "sambay: a C++/CUDA engine for SambaY hybrid language models (Phi-4-mini-flash-reasoning) and Phi-4-mini"};
  app.require_subcommand(1);
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "more log output");
  app.add_flag("-q,--quiet", quiet, "errors only");
  app.parse_complete_callback([&] {
    spdlog::set_level(verbose ? spdlog::level::debug : quiet ? spdlog::level::err : spdlog::level::info);
  });
  sambay::cli::add_logits_command(app);
  sambay::cli::add_generate_command(app);
  sambay::cli::add_bench_command(app);
#ifdef SAMBAY_HAVE_TEXT
  sambay::cli::add_tokenize_command(app);
  sambay::cli::add_run_command(app);
  sambay::cli::add_chat_command(app);
#endif
#ifdef SAMBAY_HAVE_SERVER
  sambay::cli::add_serve_command(app);
#endif
#ifdef SAMBAY_HAVE_LOADGEN
  sambay::cli::add_loadgen_command(app);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const sambay::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
