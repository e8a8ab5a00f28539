// HttpServer: the optional HTTP listener of pprocd (--http HOST:PORT):
//   /metrics      the Prometheus text format (0.0.4)
//   /api/status   workers, calls, jobs and recent failures as JSON
//   /             the live dashboard (files embedded in the binary)
//
// It serves on its own threads (two) and never blocks the scheduler: it asks
// through StatusSource and waits there. Anyone who can connect sees every
// user's jobs and calls: bind it to loopback unless that is wanted.
//
// Thread-safe. The StatusSource must outlive the server.
#ifndef PPROCD_SERVER_HTTP_HTTP_SERVER_H_
#define PPROCD_SERVER_HTTP_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/http/status_source.h"

namespace httplib {
class Server;
}

namespace pprocd {

class HttpServer {
 public:
  // Binds `host`:`port` (port 0 picks a free one) and starts serving.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& host, int port,
                                                           const StatusSource* source);
  // Stops and joins (Stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port it listens on.
  int port() const { return port_; }
  // Stops accepting, ends the connections and joins the threads. Idempotent.
  void Stop();

 private:
  HttpServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// Splits "HOST:PORT" (a bracketed IPv6 host too) for --http.
absl::StatusOr<std::pair<std::string, int>> ParseHttpAddress(const std::string& text);

}  // namespace pprocd

#endif  // PPROCD_SERVER_HTTP_HTTP_SERVER_H_
