// sambay run: one prompt in, the reply streamed out as it is generated, then the speeds.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "common.h"
#include "sambay/base/error.h"
#include "sambay/text/reasoning.h"
#include "text_model.h"

namespace sambay::cli {
namespace {

struct Options {
  ModelOptions model;
  SamplingOptions sampling;
  std::string prompt, system;
  bool raw = false;
  bool match_special_in_content = false;
  bool hide_reasoning = false;
};

void run(const Options& o) {
  LoadedModel lm = load_model(o.model);
  const TextModel text = load_text_model(o.model.text_dir(), o.model.model_dir, lm.model->info());
  std::vector<int32_t> ids;
  if (o.raw) {
    ids = text.tokenizer.encode(o.prompt);
  } else {
    nlohmann::json messages = nlohmann::json::array();
    if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
    messages.push_back({{"role", "user"}, {"content", o.prompt}});
    ids = text.encode_chat(messages, true, o.match_special_in_content);
  }
  const int64_t context = std::min<int64_t>(text.defaults.context_length,
                                            static_cast<int64_t>(ids.size()) + o.sampling.max_tokens + 1);
  TextSession session(*lm.model, text.tokenizer, std::max<int64_t>(context, static_cast<int64_t>(ids.size()) + 1));
  ReasoningSplitter reasoning;
  auto print = [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };
  const GenerationResult r = session.generate(
      ids, o.sampling.params(text.defaults, o.model.seed), o.sampling.stop_config(text.defaults),
      [&](std::string_view piece) {
        print(o.hide_reasoning ? reasoning.push(piece).content : std::string(piece));
        return true;
      });
  if (o.hide_reasoning) print(reasoning.finish().content);
  std::fputc('\n', stdout);
  const int generated = static_cast<int>(r.tokens.size());
  fmt::print(stderr, "prompt: {} tokens, {:.1f} tok/s; generation: {} tokens, {:.1f} tok/s ({})\n", r.prompt_tokens,
             r.prompt_tokens / std::max(r.prefill_seconds, 1e-9), generated,
             generated > 1 ? (generated - 1) / std::max(r.decode_seconds, 1e-9) : 0.0, r.finish_reason);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("run", "generate a reply to one prompt, streamed as it is made");
  add_model_options(*cmd, opts->model);
  add_tokenizer_option(*cmd, opts->model);
  add_sampling_options(*cmd, opts->sampling);
  cmd->add_option("-p,--prompt", opts->prompt, "the user's message (or raw text with --raw)")->required();
  cmd->add_option("--system", opts->system, "a system message");
  cmd->add_flag("--raw", opts->raw, "feed the prompt as it is, without the chat template");
  cmd->add_flag("--hide-reasoning", opts->hide_reasoning, "print only the answer, not the <think> block");
  cmd->add_flag("--match-special-in-content", opts->match_special_in_content,
                "let role-token strings in the prompt act as role tokens (Hugging Face's behaviour)");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace sambay::cli
