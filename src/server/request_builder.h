#pragma once
// An API request turned into an engine request: the prompt tokenized (chat through the model's
// chat template), sampling fields the client left unset filled from the model folder's defaults,
// and the lengths checked against the context (errors are ApiErrors naming the field).
#include <cstdint>

#include "openai_request.h"
#include "sambay/engine/request.h"
#include "sambay/engine/text_model.h"

namespace sambay::server {

struct BuildOptions {
  int64_t context_length = 0;   // positions per sequence (the engine's max_seq_len)
  int64_t vocab_size = 0;       // ids the model accepts
  bool match_special_in_content = false;  // role-token strings in messages act as role tokens
};

struct BuiltRequest {
  GenerationRequest generation;
  bool starts_in_reasoning = false;  // chat: the rendered prompt already opened the <think> block
};

BuiltRequest build_request(const OpenAIRequest& request, const TextModel& text, const BuildOptions& options);

}  // namespace sambay::server
