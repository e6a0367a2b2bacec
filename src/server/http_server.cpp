#include "http_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <random>
#include <thread>

#include "api_error.h"
#include "completion_output.h"
#include "connection_watch.h"
#include "openai_request.h"
#include "openai_response.h"
#include "sambay/base/error.h"

namespace sambay::server {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// How often a handler waiting for tokens checks whether its client left or shutdown ran out.
constexpr auto kPollInterval = 100ms;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.status(), error_body(e)); }

// Compares without an early exit, so response times do not reveal how much of a key was right.
bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

struct HttpServer::Impl {
  Engine& engine;
  const TextModel& text;
  ServerOptions options;
  httplib::Server http;
  ServerMetrics metrics;
  int64_t started = unix_now();
  std::mt19937_64 id_rng{std::random_device{}()};
  std::mutex id_mu;

  std::atomic<bool> shutting_down{false};
  std::atomic<bool> abort_streams{false};  // the grace period is over: cancel what is left
  std::mutex shutdown_mu;
  std::condition_variable shutdown_cv;
  bool served = false;
  std::thread grace_timer;

  Impl(Engine& e, const TextModel& t, ServerOptions o) : engine(e), text(t), options(std::move(o)) {}

  std::string new_id(const char* prefix) {
    std::lock_guard lock(id_mu);
    return fmt::format("{}{:016x}", prefix, id_rng());
  }

  void install_routes();
  bool authorized(const httplib::Request& req, httplib::Response& res);
  void handle_generation(Endpoint endpoint, const httplib::Request& req, httplib::Response& res);
  void respond_whole(Route route, const std::shared_ptr<RequestStream>& stream, CompletionOutput& output,
                     const httplib::Request& req, httplib::Response& res);
  void respond_stream(Route route, std::shared_ptr<RequestStream> stream, std::unique_ptr<CompletionOutput> output,
                      const httplib::Request& req, httplib::Response& res);
  // Cancels the request when its client left or the shutdown grace period is over. Called after
  // every event; looks at most once per poll interval (tokens may come far more often).
  void cancel_if_abandoned(RequestStream& stream, const ConnectionWatch& watch,
                           std::chrono::steady_clock::time_point& next_check) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_check || stream.cancelled()) return;
    next_check = now + kPollInterval;
    if (abort_streams.load() || watch.peer_closed()) stream.cancel();
  }
  void record(Route route, const FinishEvent& f) {
    metrics.count(route, outcome_of(f.finish_reason));
    metrics.observe(f.first_token_seconds, f.total_seconds, f.completion_tokens > 0);
  }
};

bool HttpServer::Impl::authorized(const httplib::Request& req, httplib::Response& res) {
  if (options.api_key.empty() || req.path == "/health") return true;
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.empty()) {
    send_error(res, ApiError(401,
                             "You didn't provide an API key. You need to provide your API key in an Authorization "
                             "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                             "invalid_request_error", "", "missing_api_key"));
    return false;
  }
  if (header.compare(0, kBearer.size(), kBearer) != 0 ||
      !same_key(std::string_view(header).substr(kBearer.size()), options.api_key)) {
    send_error(res, ApiError(401, "Incorrect API key provided.", "invalid_request_error", "", "invalid_api_key"));
    return false;
  }
  return true;
}

void HttpServer::Impl::handle_generation(Endpoint endpoint, const httplib::Request& req, httplib::Response& res) {
  const Route route = endpoint == Endpoint::kChat ? Route::kChat : Route::kCompletions;
  std::shared_ptr<RequestStream> stream;
  std::unique_ptr<CompletionOutput> output;
  bool streaming = false;
  try {
    if (shutting_down.load()) throw ApiError(503, "the server is shutting down", "server_error");
    const OpenAIRequest request = parse_request(endpoint, req.body);
    if (!request.model.empty() && request.model != options.model_name)
      throw ApiError(404, fmt::format("The model `{}` does not exist.", request.model), "invalid_request_error",
                     "model", "model_not_found");
    BuiltRequest built = build_request(request, text, options.build);
    const EngineStats stats = engine.stats();
    if (stats.waiting >= engine.options().max_waiting)
      throw ApiError(429, "too many requests are waiting; retry later", "server_error", "", "queue_full");
    try {
      stream = engine.submit(std::move(built.generation));
    } catch (const Error& e) {
      throw ApiError(shutting_down.load() ? 503 : 400, e.what(), "invalid_request_error");
    }
    OutputOptions o{endpoint, built.starts_in_reasoning, request.logprobs, request.include_usage};
    ResponseHeader header{new_id(endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-"), unix_now(), options.model_name};
    output = std::make_unique<CompletionOutput>(std::move(header), text.tokenizer, o);
    streaming = request.stream;
  } catch (const ApiError& e) {
    metrics.count(route, Outcome::kRejected);
    send_error(res, e);
    return;
  }
  if (streaming) {
    respond_stream(route, std::move(stream), std::move(output), req, res);
  } else {
    respond_whole(route, stream, *output, req, res);
  }
}

void HttpServer::Impl::respond_whole(Route route, const std::shared_ptr<RequestStream>& stream,
                                     CompletionOutput& output, const httplib::Request& req, httplib::Response& res) {
  const ConnectionWatch watch(req.remote_addr, req.remote_port, req.local_port);
  auto next_check = std::chrono::steady_clock::now();
  for (;;) {
    std::optional<RequestEvent> event = stream->next(kPollInterval);
    cancel_if_abandoned(*stream, watch, next_check);
    if (!event) continue;
    if (event->token) output.add(*event->token);
    if (event->finish) {
      const FinishEvent& f = *event->finish;
      record(route, f);
      if (f.finish_reason == "error") {
        send_error(res, ApiError(500, f.error.empty() ? "generation failed" : f.error, "server_error"));
      } else {
        send_json(res, 200, output.response(f));
      }
      return;
    }
  }
}

void HttpServer::Impl::respond_stream(Route route, std::shared_ptr<RequestStream> stream,
                                      std::unique_ptr<CompletionOutput> output, const httplib::Request& req,
                                      httplib::Response& res) {
  // Shared by the provider (which writes the whole stream in one call: httplib stops calling a
  // provider once the server is stopping, which would cut streams short during a graceful
  // shutdown) and the releaser (which runs in every case, also when the provider never did).
  struct Job {
    std::shared_ptr<RequestStream> stream;
    std::unique_ptr<CompletionOutput> output;
    std::string remote_addr;
    int remote_port, local_port;
    bool finished = false;
  };
  auto job = std::make_shared<Job>(Job{std::move(stream), std::move(output), req.remote_addr, req.remote_port,
                                       req.local_port});
  metrics.stream_opened();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, route, job](size_t, httplib::DataSink& sink) {
        auto send = [&](const std::string& s) {
          return s.empty() || (sink.is_writable() && sink.write(s.data(), s.size()));
        };
        if (job->finished) return false;  // called again after a failed last write
        const ConnectionWatch watch(job->remote_addr, job->remote_port, job->local_port);
        auto next_check = std::chrono::steady_clock::now();
        bool client_ok = send(job->output->stream_start());
        while (client_ok) {
          std::optional<RequestEvent> event = job->stream->next(kPollInterval);
          cancel_if_abandoned(*job->stream, watch, next_check);
          if (!event) continue;
          if (event->token) client_ok = send(job->output->stream_token(*event->token));
          if (event->finish) {
            job->finished = true;
            record(route, *event->finish);
            if (!send(job->output->stream_finish(*event->finish))) return false;
            sink.done();
            return true;
          }
        }
        return false;  // the client left: the releaser cancels the request
      },
      [this, route, job](bool) {
        if (!job->finished) {
          job->stream->cancel();
          metrics.count(route, Outcome::kCancelled);
        }
        metrics.stream_closed();
      });
}

void HttpServer::Impl::install_routes() {
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return authorized(req, res) ? httplib::Server::HandlerResponse::Unhandled
                                : httplib::Server::HandlerResponse::Handled;
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generation(Endpoint::kChat, req, res);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generation(Endpoint::kCompletions, req, res);
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, model_list(options.model_name, started));
  });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (shutting_down.load()) {
      send_json(res, 503, {{"status", "shutting down"}});
    } else {
      send_json(res, 200, {{"status", "ok"}});
    }
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(engine.stats()), "text/plain; version=0.0.4");
  });
  // Statuses httplib sets itself (no route, body too large, malformed HTTP) get an OpenAI error body.
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      send_error(res, ApiError(404, fmt::format("no route for {} {}", req.method, req.path), "invalid_request_error",
                               "", "not_found"));
    } else if (res.status == 413) {
      send_error(res, ApiError(413, fmt::format("the request body exceeds {} bytes", options.max_body_bytes),
                               "invalid_request_error", "", "request_too_large"));
    } else {
      send_error(res, ApiError(res.status, fmt::format("HTTP error {}", res.status),
                               res.status >= 500 ? "server_error" : "invalid_request_error"));
    }
  });
  http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("{} {}: {}", req.method, req.path, what);
    send_error(res, ApiError(500, "internal error: " + what, "server_error"));
  });
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::debug("{} {} {} -> {}", req.remote_addr, req.method, req.path, res.status);
  });
}

HttpServer::HttpServer(Engine& engine, const TextModel& text, ServerOptions options)
    : impl_(std::make_unique<Impl>(engine, text, std::move(options))) {
  Impl& s = *impl_;
  s.http.set_payload_max_length(s.options.max_body_bytes);
  const size_t threads = static_cast<size_t>(std::max(1, s.options.http_threads));
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.install_routes();
}

HttpServer::~HttpServer() {
  shutdown();
  {
    std::lock_guard lock(impl_->shutdown_mu);
    impl_->served = true;
  }
  impl_->shutdown_cv.notify_all();
  if (impl_->grace_timer.joinable()) impl_->grace_timer.join();
}

int HttpServer::bind() {
  Impl& s = *impl_;
  int port = s.options.port;
  if (port == 0) {
    port = s.http.bind_to_any_port(s.options.host);
    if (port < 0) fail("cannot listen on {} (any port)", s.options.host);
  } else if (!s.http.bind_to_port(s.options.host, port)) {
    fail("cannot listen on {}:{} (in use, or the address is not local)", s.options.host, port);
  }
  return port;
}

void HttpServer::serve() {
  Impl& s = *impl_;
  s.http.listen_after_bind();  // returns after stop(), once every connection's handler is done
  {
    std::lock_guard lock(s.shutdown_mu);
    s.served = true;
  }
  s.shutdown_cv.notify_all();
  if (s.grace_timer.joinable()) s.grace_timer.join();
}

void HttpServer::shutdown() {
  Impl& s = *impl_;
  if (s.shutting_down.exchange(true)) return;
  // The timer exists before stop() lets serve() return and join it.
  s.grace_timer = std::thread([&s] {
    std::unique_lock lock(s.shutdown_mu);
    const auto grace = std::chrono::duration<double>(s.options.shutdown_grace_seconds);
    if (!s.shutdown_cv.wait_for(lock, grace, [&] { return s.served; })) {
      spdlog::warn("shutdown: grace period of {:.0f} s over, cancelling the requests left", grace.count());
      s.abort_streams.store(true);
    }
  });
  s.http.stop();
}

const ServerMetrics& HttpServer::metrics() const { return impl_->metrics; }

}  // namespace sambay::server
