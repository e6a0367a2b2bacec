#pragma once
// The OpenAI-compatible HTTP server: routes, API-key check, body limit, server-sent events,
// cancellation of requests whose client left, and graceful shutdown. httplib stays inside the .cpp.
#include <cstddef>
#include <memory>
#include <string>

#include "metrics.h"
#include "request_builder.h"
#include "sambay/engine/engine.h"
#include "sambay/engine/text_model.h"

namespace sambay::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;            // 0: any free port (bind() returns it)
  std::string api_key;        // empty: no key needed
  std::string model_name;     // what /v1/models lists and responses name
  size_t max_body_bytes = size_t{8} << 20;
  int http_threads = 64;      // connections served at once (each open stream holds one)
  double shutdown_grace_seconds = 30;  // after a shutdown request, streams in flight may finish this long
  BuildOptions build;
};

class HttpServer {
 public:
  HttpServer(Engine& engine, const TextModel& text, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; throws sambay::Error when it cannot. Returns the port.
  int bind();
  // Serves until shutdown() and the requests in flight are done.
  void serve();
  // Stops accepting connections; requests in flight finish, and after the grace period the
  // remaining ones are cancelled (their streams end cleanly). Thread-safe, idempotent.
  void shutdown();

  const ServerMetrics& metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sambay::server
