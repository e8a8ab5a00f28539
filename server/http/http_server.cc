#include "server/http/http_server.h"

#include <sys/socket.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"
#include "server/http/dashboard_assets.h"

namespace pprocd {
namespace {

// Requests served at once; more wait in the queue.
constexpr size_t kThreads = 2;

void Answer(const absl::StatusOr<std::string>& body, const char* content_type,
            httplib::Response& response) {
  if (!body.ok()) {
    response.status = 503;
    response.set_content(absl::StrCat(body.status().message(), "\n"), "text/plain");
    return;
  }
  response.set_header("Cache-Control", "no-store");
  response.set_content(*body, content_type);
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> ParseHttpAddress(const std::string& text) {
  const size_t colon = text.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http ", text, ": expected HOST:PORT, such as 127.0.0.1:9464"));
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(host, port);
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, int port,
                                                              const StatusSource* source) {
  std::unique_ptr<HttpServer> http(new HttpServer());
  http->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *http->server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // SO_REUSEADDR only: the library's default adds SO_REUSEPORT, with which a
  // second server would share the port instead of being refused.
  server.set_socket_options([](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.Get("/metrics", [source](const httplib::Request&, httplib::Response& response) {
    Answer(source->MetricsText(), "text/plain; version=0.0.4; charset=utf-8", response);
  });
  server.Get("/api/status", [source](const httplib::Request&, httplib::Response& response) {
    Answer(source->StatusJson(), "application/json", response);
  });
  for (const DashboardAsset& asset : DashboardAssets()) {
    const std::string path = asset.name == "index.html" ? "/" : absl::StrCat("/", asset.name);
    server.Get(path, [asset](const httplib::Request&, httplib::Response& response) {
      response.set_content(asset.content.data(), asset.content.size(), asset.content_type);
    });
  }
  if (port == 0) {
    http->port_ = server.bind_to_any_port(host);
  } else if (server.bind_to_port(host, port)) {
    http->port_ = port;
  } else {
    http->port_ = -1;
  }
  if (http->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", host, ":", port, ": in use or not permitted"));
  }
  http->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() only ends a loop that is running: wait for it to run (it has
  // nothing to fail on once bound).
  for (int i = 0; i < 5000 && !server.is_running(); ++i) absl::SleepFor(absl::Milliseconds(1));
  return http;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pprocd
