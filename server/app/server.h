// The pprocd server: the template and its workers, the scheduler, the job
// manager, the gRPC service and its listeners, the HTTP listener, the
// pidfile. Start() brings them up in the order they depend on each other,
// Wait() serves until a stop signal (SIGTERM, SIGINT), Shutdown() or the
// end of the worker pool, reloading the callables on SIGHUP; Stop() takes
// them down in the reverse order, once.
//
// Start-up order matters: the template process is forked before any thread
// or gRPC object exists (gRPC is not fork-safe); only then do the scheduler
// thread and the gRPC server start. SIGTERM/SIGINT drain and stop. SIGHUP
// reloads the callables: a new template is started by exec (this program,
// with --serve-as-template) and loads them; new work goes to its workers.
//
// UNIX sockets are served by our own listeners (server/peer), which learn
// each caller's kernel credentials; TCP addresses are gRPC's own.
//
// Start(), Wait() and Stop() are called from the main thread, in that
// order, and Start() before any other thread exists; Shutdown() from any
// thread.
#ifndef PPROCD_SERVER_APP_SERVER_H_
#define PPROCD_SERVER_APP_SERVER_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "server/settings/server_settings.h"
#include "worker/registry.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace pprocd {

class CurrentRegistry;
class FarmService;
class HttpServer;
class JobManager;
class JobSockets;
class PeerRegistry;
class Pidfile;
class Scheduler;
class StatusSource;
class UnixListener;

// argv[1] of a template started by a reload (TemplateProcess::Exec); then
// the server's pid, then the server's own arguments.
inline constexpr char kServeAsTemplate[] = "--serve-as-template";

// What a server starts with.
struct Settings {
  // The command line over the config file, every default filled in.
  ServerSettings values;
  // The config file ("" = none) and what it says (its callables).
  std::string config_path;
  ServerConfig config;
  // The server's own command line: a reload's template is started with it.
  std::vector<std::string> args;
  // On a reload (SIGHUP): the callables of the command line and the config
  // file, read again. Called on the thread that runs Wait().
  std::function<absl::StatusOr<std::shared_ptr<Registry>>()> reload_callables;
};

// Why a server stops, and the exit code that goes with it.
struct StopReason {
  // "SIGTERM", "SIGINT", "Shutdown()" or "the worker pool has stopped".
  std::string reason;
  int exit_code = 0;
};

class Server {
 public:
  // Starts a server: once this returns, every listener serves, the health
  // service says SERVING and the pidfile holds this process's pid. The
  // error's message is the one line to show (nothing is left running).
  // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and every
  // thread started after it, and ignores SIGPIPE.
  static absl::StatusOr<std::unique_ptr<Server>> Start(Settings settings);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Stops what is still running (as Stop()) without logging.
  ~Server();

  // Serves until SIGTERM or SIGINT, Shutdown() or the end of the worker
  // pool; on SIGHUP, reloads the callables and goes on. Returns why it
  // stopped.
  StopReason Wait();

  // Makes Wait() return (within its 200 ms tick). Any thread.
  void Shutdown();

  // Drains and stops everything, logs `shutting down` and `stopped` with
  // `why`, and returns why.exit_code. Running calls have --grace-ms to
  // finish; background jobs stop at once (the next start takes them up).
  int Stop(const StopReason& why);

 private:
  explicit Server(Settings settings);

  struct Startup;
  // Start(), step by step in the order below; a failing step stops it.
  absl::Status StartAll();
  // The listen addresses, the state directory and its pidfile, the
  // inherited socket, the admin group.
  absl::Status ClaimStateAndAddresses(Startup& startup);
  // The callables, the template (forked first) and the scheduler.
  absl::Status StartWorkers(const Startup& startup);
  // The job sockets and the job manager over its store.
  absl::Status StartJobs();
  // The service, its UNIX listeners and the gRPC server (and its tcp:
  // ports, into `startup`).
  absl::Status StartGrpc(Startup& startup);
  // The metrics source and, with --http, its listener (its URL into
  // `http_url`).
  absl::Status StartHttp(std::string* http_url);
  // SERVING, the pidfile, and the ready lines.
  void Publish(const Startup& startup, const std::string& http_url);
  std::string JobStorePath() const;
  // The listeners, the job sockets, the HTTP listener, the job manager,
  // the gRPC server (after `grace`) and the scheduler, each if started.
  void StopAll(absl::Duration grace);
  void Reload();
  // The `started` and `settings` lines of the log and the ready lines on
  // stdout.
  void AnnounceReady(const std::string& http_url);

  const Settings settings_;
  sigset_t stop_signals_;
  std::atomic<bool> shutdown_requested_{false};
  bool stopped_ = false;
  // The addresses that serve, as shown: the inherited socket first.
  std::vector<std::string> ready_addresses_;
  uint32_t workers_ = 0;

  // Declared in the order they start; destroyed in reverse.
  std::unique_ptr<Pidfile> pidfile_;
  std::unique_ptr<CurrentRegistry> current_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<PeerRegistry> peers_;
  // The sockets jobs ask for; they go with their job (on_removed).
  std::unique_ptr<JobSockets> job_sockets_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<FarmService> service_;
  // Before the listeners: they stop (and join) before it goes.
  std::unique_ptr<grpc::Server> grpc_server_;
  // One per unix: address, or the one inherited socket.
  std::vector<std::unique_ptr<UnixListener>> listeners_;
  std::unique_ptr<StatusSource> status_source_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_APP_SERVER_H_
