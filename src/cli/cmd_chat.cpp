// sambay chat: an interactive multi-turn conversation on the terminal. The history is kept and
// each turn continues from the model's state after the previous one. /clear forgets the history,
// /exit (or end of input) leaves, Ctrl-C stops a reply that is being generated.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "line_reader.h"
#include "sambay/base/error.h"
#include "sambay/text/reasoning.h"
#include "text_model.h"

namespace sambay::cli {
namespace {

std::atomic<bool> interrupted{false};

void on_sigint(int) { interrupted = true; }

struct Options {
  ModelOptions model;
  SamplingOptions sampling;
  std::string system;
  int64_t context = 0;
  bool match_special_in_content = false;
  bool hide_reasoning = false;
};

void say(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void run(const Options& o) {
  LoadedModel lm = load_model(o.model);
  const TextModel text = load_text_model(o.model.text_dir(), o.model.model_dir, lm.model->info());
  const int64_t context = o.context > 0 ? o.context : text.defaults.context_length;
  TextSession session(*lm.model, text.tokenizer, context);

  // No SA_RESTART: Ctrl-C must interrupt a blocking read of the next line.
  struct sigaction sa{};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);

  nlohmann::json messages = nlohmann::json::array();
  auto start = [&] {
    messages = nlohmann::json::array();
    if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
  };
  start();
  say("sambay chat: /clear forgets the conversation, /exit leaves, Ctrl-C stops a reply.\n");
  for (;;) {
    say("> ");
    std::string line;
    const ReadResult got = read_line(line);
    if (got == ReadResult::kEnd) break;
    if (got == ReadResult::kInterrupted) {
      interrupted = false;
      say("\n");
      continue;
    }
    if (line == "/exit" || line == "/quit") break;
    if (line == "/clear") {
      start();
      session.reset();
      say("(conversation cleared)\n");
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    std::vector<int32_t> ids;
    try {
      ids = text.encode_chat(messages, true, o.match_special_in_content);
      interrupted = false;
      ReasoningSplitter reasoning;
      const GenerationResult r = session.generate(
          ids, o.sampling.params(text.defaults, o.model.seed), o.sampling.stop_config(text.defaults),
          [&](std::string_view piece) {
            say(o.hide_reasoning ? reasoning.push(piece).content : std::string(piece));
            return true;
          },
          &interrupted);
      if (o.hide_reasoning) say(reasoning.finish().content);
      interrupted = false;
      // The history keeps the whole reply, reasoning included, as the model wrote it.
      messages.push_back({{"role", "assistant"}, {"content", r.text}});
      const int n = static_cast<int>(r.tokens.size());
      say("\n");
      fmt::print(stderr, "[{} tokens, {:.1f} tok/s{}]\n", n, n > 1 ? (n - 1) / std::max(r.decode_seconds, 1e-9) : 0.0,
                 r.finish_reason == "cancelled" ? ", stopped" : "");
    } catch (const Error& e) {  // e.g. the conversation outgrew the context: keep the session usable
      messages.erase(messages.end() - 1);
      fmt::print(stderr, "error: {}\n", e.what());
    }
  }
  say("\n");
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("chat", "interactive multi-turn chat on the terminal");
  add_model_options(*cmd, opts->model);
  add_tokenizer_option(*cmd, opts->model);
  add_sampling_options(*cmd, opts->sampling);
  cmd->add_option("--system", opts->system, "a system message");
  cmd->add_option("--ctx", opts->context, "context length (default: the model folder's)")->check(CLI::PositiveNumber);
  cmd->add_flag("--hide-reasoning", opts->hide_reasoning, "show only answers, not the <think> blocks");
  cmd->add_flag("--match-special-in-content", opts->match_special_in_content,
                "let role-token strings in messages act as role tokens (Hugging Face's behaviour)");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace sambay::cli
