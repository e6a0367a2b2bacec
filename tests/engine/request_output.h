#pragma once
// What a request streamed back from the engine, collected until its finish event.
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "sambay/engine/request.h"

namespace sambay::test {

struct Output {
  std::vector<int32_t> tokens;
  std::string text;
  std::vector<float> logprobs;
  FinishEvent finish;
};

// Every event of a stream, until its finish event.
inline Output collect(RequestStream& s) {
  Output o;
  while (true) {
    auto e = s.next(std::chrono::seconds(60));
    if (!e) throw std::runtime_error("no event within 60 s");
    if (e->token) {
      if (e->token->token >= 0) {
        o.tokens.push_back(e->token->token);
        o.logprobs.push_back(e->token->logprob);
      }
      o.text += e->token->text;
    }
    if (e->finish) {
      o.finish = *e->finish;
      return o;
    }
  }
}

inline GenerationRequest greedy_request(std::vector<int32_t> prompt, int max_tokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0;
  r.stop.max_tokens = max_tokens;
  return r;
}

}  // namespace sambay::test
