// sambay tokenize: JSON lines in, token ids out.
//   {"text": "..."}                                     -> encoded with added tokens recognised
//   {"messages": [...], "add_generation_prompt": bool}  -> rendered with the chat template, then
//                                                          encoded as Hugging Face does
// One {"ids": [...]} line per input line; a line that cannot be handled gets {"error": "..."}.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>
#include <string>

#include "commands.h"
#include "sambay/base/error.h"
#include "sambay/text/chat_template.h"
#include "sambay/text/tokenizer.h"

namespace sambay::cli {
namespace {

struct Options {
  std::string model_dir;
  bool plain_content = false;
};

int run(const Options& o) {
  const Tokenizer tok = Tokenizer::from_model_dir(o.model_dir);
  std::optional<ChatTemplate> tmpl;
  int errors = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    nlohmann::json out;
    try {
      const auto in = nlohmann::ordered_json::parse(line);
      if (!in.is_object()) fail("each line must be a JSON object");
      if (in.contains("text")) {
        if (!in["text"].is_string()) fail("'text' must be a string");
        out["ids"] = tok.encode(in["text"].get<std::string>());
      } else if (in.contains("messages")) {
        if (!tmpl) tmpl = ChatTemplate::from_model_dir(o.model_dir);
        const bool gen = in.value("add_generation_prompt", false);
        const auto segments = tmpl->render_segments(in["messages"], gen);
        std::vector<Tokenizer::Segment> parts;
        for (const auto& s : segments)
          parts.push_back(s.from_content && o.plain_content ? Tokenizer::Segment::content(s.text)
                                                            : Tokenizer::Segment::template_text(s.text));
        out["ids"] = tok.encode_segments(parts);
      } else {
        fail("a line needs 'text' or 'messages'");
      }
    } catch (const nlohmann::json::exception& e) {
      out = {{"error", fmt::format("not valid JSON: {}", e.what())}};
      ++errors;
    } catch (const Error& e) {
      out = {{"error", e.what()}};
      ++errors;
    }
    std::cout << out.dump() << '\n' << std::flush;
  }
  return errors ? 1 : 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("tokenize", "JSON lines of text or messages on stdin -> token ids on stdout");
  cmd->add_option("-m,--model", opts->model_dir, "model folder (tokenizer.json, tokenizer_config.json)")->required();
  cmd->add_flag("--plain-content", opts->plain_content,
                "treat role-token strings inside message content as plain text (default: as Hugging Face)");
  cmd->callback([opts] {
    if (run(*opts) != 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace sambay::cli
