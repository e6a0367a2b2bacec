// Tokenizer throughput: load time of tokenizer.json, encode MB/s on one thread and on all
// threads, decode MB/s. The text is every golden text (100+ languages, code, edge cases, chat
// prompts) joined and repeated to the requested size; compare.mjs encodes the same text with
// tiktoken and Hugging Face tokenizers (run this first with --write-text / --write-ids).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sambay/text/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds of the calling thread / of the process: on a shared machine these exclude the time
// other programs held the cores, which wall-clock figures include.
double cpu_seconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The golden texts, in file order (lines split on "\n" only: the texts hold U+2028 and U+0085).
std::vector<std::string> golden_texts(const std::string& dir) {
  std::vector<std::string> texts;
  for (const char* name : {"encode-golden.jsonl", "chat-golden.jsonl"}) {
    const std::string data = read_file(dir + "/" + name);
    size_t start = 0;
    while (start < data.size()) {
      size_t end = data.find('\n', start);
      if (end == std::string::npos) end = data.size();
      if (end > start) {
        const auto row = nlohmann::json::parse(data.substr(start, end - start));
        texts.push_back(row.contains("text") ? row["text"].get<std::string>() : row["prompt"].get<std::string>());
      }
      start = end + 1;
    }
  }
  return texts;
}

struct Args {
  std::string tokenizer = SAMBAY_SOURCE_DIR "/models/tiny-flash/tokenizer.json";
  std::string data = SAMBAY_SOURCE_DIR "/tests/data/tokenizer";
  double mb = 16;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int repeat = 5;
  std::string write_text, write_ids;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + k);
      return argv[++i];
    };
    if (k == "--tokenizer") a.tokenizer = next();
    else if (k == "--data") a.data = next();
    else if (k == "--mb") a.mb = std::stod(next());
    else if (k == "--threads") a.threads = std::stoi(next());
    else if (k == "--repeat") a.repeat = std::stoi(next());
    else if (k == "--write-text") a.write_text = next();
    else if (k == "--write-ids") a.write_ids = next();
    else throw std::runtime_error("unknown option " + k +
                                  " (options: --tokenizer F --data DIR --mb N --threads N --repeat N"
                                  " --write-text F --write-ids F)");
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse_args(argc, argv);

  // Load time: best and median of several loads of the same file.
  std::vector<double> loads;
  for (int i = 0; i < std::max(3, args.repeat); ++i) {
    const auto t0 = Clock::now();
    const sambay::Tokenizer t = sambay::Tokenizer::from_file(args.tokenizer);
    loads.push_back(seconds_since(t0) * 1e3);
  }
  std::sort(loads.begin(), loads.end());
  std::printf("load %s: best %.1f ms, median %.1f ms\n", args.tokenizer.c_str(), loads.front(), loads[loads.size() / 2]);
  const sambay::Tokenizer tok = sambay::Tokenizer::from_file(args.tokenizer);

  // The text, and the document boundaries the multi-thread run splits at.
  const std::vector<std::string> texts = golden_texts(args.data);
  std::string text;
  std::vector<size_t> doc_starts;
  const size_t target = static_cast<size_t>(args.mb * 1e6);
  while (text.size() < target) {
    for (const std::string& t : texts) {
      doc_starts.push_back(text.size());
      text += t;
      text += "\n\n";
    }
  }
  doc_starts.push_back(text.size());
  std::printf("text: %.2f MB (%zu golden texts repeated, %zu documents)\n", text.size() / 1e6, texts.size(),
              doc_starts.size() - 1);
  if (!args.write_text.empty()) std::ofstream(args.write_text, std::ios::binary) << text;

  // One thread, one call over the whole text (as tiktoken and HF are measured in compare.mjs).
  std::vector<int32_t> ids;
  double best = 1e30, best_cpu = 1e30;
  for (int r = 0; r < args.repeat; ++r) {
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    ids = tok.encode(text);
    best_cpu = std::min(best_cpu, cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - c0);
    best = std::min(best, seconds_since(t0));
  }
  std::printf("encode, 1 thread, whole text:    %8.1f MB/s  %6.2f M tokens/s  (%zu tokens, best of %d: %.3f s; %.1f MB per CPU-s)\n",
              text.size() / best / 1e6, ids.size() / best / 1e6, ids.size(), args.repeat, best,
              text.size() / best_cpu / 1e6);
  if (!args.write_ids.empty()) {
    std::ofstream out(args.write_ids, std::ios::binary);
    out.write(reinterpret_cast<const char*>(ids.data()), static_cast<std::streamsize>(ids.size() * sizeof(int32_t)));
  }

  // Documents handed out from a shared counter, each encoded separately (as a server encodes
  // prompts): on one thread, then on all threads.
  const size_t docs = doc_starts.size() - 1;
  auto run_documents = [&](int threads) {
    double best_wall = 1e30, best_cpu = 1e30;
    size_t tokens = 0;
    for (int r = 0; r < args.repeat; ++r) {
      std::atomic<size_t> next{0};
      std::atomic<size_t> count{0};
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          std::vector<int32_t> local;
          size_t n = 0;
          for (size_t d; (d = next.fetch_add(1)) < docs;) {
            local.clear();
            tok.encode_into(std::string_view(text).substr(doc_starts[d], doc_starts[d + 1] - doc_starts[d]), local);
            n += local.size();
          }
          count += n;
        });
      }
      for (auto& th : pool) th.join();
      best_wall = std::min(best_wall, seconds_since(t0));
      best_cpu = std::min(best_cpu, cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0);
      tokens = count;
    }
    std::printf("encode, %d thread%s, per document:%8.1f MB/s  %6.2f M tokens/s  (%zu tokens; %.1f MB per CPU-s)\n",
                threads, threads == 1 ? "" : "s", text.size() / best_wall / 1e6, tokens / best_wall / 1e6, tokens,
                text.size() / best_cpu / 1e6);
  };
  run_documents(1);
  if (args.threads > 1) run_documents(args.threads);

  double best_dec = 1e30;
  std::string decoded;
  for (int r = 0; r < args.repeat; ++r) {
    const auto t0 = Clock::now();
    decoded = tok.decode(ids);
    best_dec = std::min(best_dec, seconds_since(t0));
  }
  std::printf("decode, 1 thread:                %8.1f MB/s\n", decoded.size() / best_dec / 1e6);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "tokenizer_bench: %s\n", e.what());
  return 1;
}
