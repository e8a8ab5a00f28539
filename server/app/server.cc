#include "server/app/server.h"

#include <grp.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/log/log.h"
#include "base/status_macros.h"
#include "grpc/health/v1/health.pb.h"
#include "pprocd/version.h"
#include "server/app/callables.h"
#include "server/default_paths.h"
#include "server/front/farm_service.h"
#include "server/front/job_sockets.h"
#include "server/front/rpc_metrics.h"
#include "server/http/http_server.h"
#include "server/http/status_source.h"
#include "server/jobs/job_manager.h"
#include "server/library_logs.h"
#include "server/listen_address.h"
#include "server/peer/peer_registry.h"
#include "server/peer/socket_activation.h"
#include "server/peer/unix_listener.h"
#include "server/pidfile.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/worker_slot.h"
#include "worker/template_process.h"

namespace pprocd {
namespace {

constexpr char kServiceName[] = "pprocd.v1.ProcessFarmService";
// How long a reload waits for the new template to load its callables.
constexpr absl::Duration kReloadTimeout = absl::Seconds(60);

// An error whose message is `status`'s (code included) for the one line
// shown when the server cannot start.
absl::Status Shown(const absl::Status& status) { return absl::InternalError(status.ToString()); }

absl::Status MakeStateDir(const std::string& dir) {
  if (absl::Status made = MakeDirectories(dir); !made.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot create --state-dir ", dir, ": ", made.message()));
  }
  return absl::OkStatus();
}

// Blocks SIGTERM, SIGINT and SIGHUP in this thread and every thread
// started after it, and ignores SIGPIPE; Wait() takes them with
// sigtimedwait.
sigset_t BlockStopSignals() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// The group id of --admin-group (none when empty); NotFound for an unknown
// group.
absl::StatusOr<std::optional<gid_t>> AdminGroupId(const std::string& name) {
  if (name.empty()) return std::optional<gid_t>();
  group entry;
  group* found = nullptr;
  std::vector<char> buffer(16384);
  if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return absl::NotFoundError(absl::StrCat("--admin-group ", name, ": no such group"));
  }
  return std::optional<gid_t>(found->gr_gid);
}

// Makes the path of each unix: address ready to bind (none when the
// socket is inherited).
absl::Status PrepareSocketPaths(const std::vector<ListenAddress>& addresses,
                                bool socket_activated) {
  for (const ListenAddress& address : addresses) {
    if (address.kind != ListenAddress::Kind::kUnix || socket_activated) continue;
    // The per-user socket's directory may be under /tmp, where anyone could
    // have made it first: it must be this user's alone.
    if (address.target == UserSocketPath()) {
      PPROCD_RETURN_IF_ERROR(PreparePrivateDirectory(UserSocketDir()));
    }
    PPROCD_RETURN_IF_ERROR(PrepareUnixSocketPath(address.target));
  }
  return absl::OkStatus();
}

}  // namespace

Server::Server(Settings settings) : settings_(std::move(settings)) {}

Server::~Server() {
  if (!stopped_) StopAll(absl::ZeroDuration());
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Settings settings) {
  std::unique_ptr<Server> server(new Server(std::move(settings)));
  if (absl::Status started = server->StartAll(); !started.ok()) return started;
  return server;
}

// What the start-up steps hand each other.
struct Server::Startup {
  std::vector<ListenAddress> addresses;
  // The socket systemd passed (socket activation), or none.
  UniqueFd activated;
  bool socket_activated = false;
  std::optional<gid_t> admin_gid;
  // The port each tcp: address got (0 for the others).
  std::vector<int> ports;
};

absl::Status Server::StartAll() {
  Startup startup;
  PPROCD_RETURN_IF_ERROR(ClaimStateAndAddresses(startup));
  PPROCD_RETURN_IF_ERROR(StartWorkers(startup));
  PPROCD_RETURN_IF_ERROR(StartJobs());
  PPROCD_RETURN_IF_ERROR(StartGrpc(startup));
  std::string http_url;
  PPROCD_RETURN_IF_ERROR(StartHttp(&http_url));
  Publish(startup, http_url);
  return absl::OkStatus();
}

absl::Status Server::ClaimStateAndAddresses(Startup& startup) {
  const ServerSettings& values = settings_.values;
  RouteLibraryLogs();
  for (const std::string& text : values.listen) {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
    if (!address.ok()) return address.status();
    startup.addresses.push_back(*address);
  }
  // Two servers must not share a state directory (its job store, above all).
  PPROCD_RETURN_IF_ERROR(MakeStateDir(values.state_dir));
  absl::StatusOr<Pidfile> pidfile = Pidfile::Acquire(values.state_dir);
  if (!pidfile.ok()) return pidfile.status();
  pidfile_ = std::make_unique<Pidfile>(*std::move(pidfile));
  // Socket-activated, the inherited socket takes the place of every unix:
  // address; tcp: addresses are still bound.
  absl::StatusOr<UniqueFd> activated = TakeActivatedSocket();
  if (!activated.ok()) return activated.status();
  startup.activated = *std::move(activated);
  startup.socket_activated = startup.activated.valid();
  PPROCD_RETURN_IF_ERROR(PrepareSocketPaths(startup.addresses, startup.socket_activated));
  absl::StatusOr<std::optional<gid_t>> admin_gid = AdminGroupId(values.admin_group);
  if (!admin_gid.ok()) return admin_gid.status();
  startup.admin_gid = *admin_gid;
  return absl::OkStatus();
}

absl::Status Server::StartWorkers(const Startup& startup) {
  const ServerSettings& values = settings_.values;
  // Plugins load before the template forks, so every worker shares them.
  absl::StatusOr<std::shared_ptr<Registry>> registry = BuildRegistry(
      values.plugins, settings_.config_path, settings_.config, /*probe_plugins=*/true);
  if (!registry.ok()) return registry.status();
  current_ = std::make_unique<CurrentRegistry>(*registry);
  stop_signals_ = BlockStopSignals();
  // Fork the template first: no thread and no gRPC object exist yet. It
  // must not hold the inherited listening socket.
  if (startup.socket_activated) CloseInNextForkedChild(startup.activated.get());
  absl::StatusOr<TemplateProcess> template_process = TemplateProcess::Start(**registry);
  if (!template_process.ok()) return Shown(template_process.status());

  SchedulerOptions options;
  options.workers =
      values.workers > 0 ? values.workers : std::max(1u, std::thread::hardware_concurrency());
  options.max_queued_items = values.max_queued_items;
  options.call_window_items = values.call_window_items;
  options.max_tasks_per_worker = values.max_tasks_per_worker;
  workers_ = options.workers;
  scheduler_ = std::make_unique<Scheduler>(options, std::move(*template_process), current_.get());
  if (absl::Status started = scheduler_->Start(); !started.ok()) return Shown(started);
  return absl::OkStatus();
}

std::string Server::JobStorePath() const { return settings_.values.state_dir + "/jobs.db"; }

absl::Status Server::StartJobs() {
  const ServerSettings& values = settings_.values;
  peers_ = std::make_unique<PeerRegistry>();
  job_sockets_ = std::make_unique<JobSockets>(peers_.get());
  JobManagerOptions job_options;
  job_options.store.path = JobStorePath();
  job_options.store.max_bytes = uint64_t{values.max_store_mib} << 20;
  job_options.store.keep_finished = absl::Hours(values.keep_jobs_hours);
  job_options.max_message_bytes = values.max_message_bytes;
  job_options.on_removed = [sockets = job_sockets_.get()](const std::string& job) {
    sockets->Close(job);
  };
  absl::StatusOr<std::unique_ptr<JobManager>> jobs =
      JobManager::Open(job_options, scheduler_.get(), current_.get());
  if (jobs.ok()) {
    if (absl::Status started = (*jobs)->Start(); !started.ok()) jobs = started;
  }
  if (!jobs.ok()) return absl::InternalError(absl::StrCat("job store: ", jobs.status().message()));
  jobs_ = *std::move(jobs);
  return absl::OkStatus();
}

absl::Status Server::StartGrpc(Startup& startup) {
  const ServerSettings& values = settings_.values;
  // Links the descriptor of grpc.health.v1 so reflection can describe it.
  grpc::health::v1::HealthCheckRequest health_descriptor_anchor;
  (void)health_descriptor_anchor;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  service_ = std::make_unique<FarmService>(scheduler_.get(), current_.get(), jobs_.get(),
                                           peers_.get(), startup.admin_gid, job_sockets_.get());
  const absl::Status cannot_listen = absl::UnavailableError(
      absl::StrCat("cannot listen on ", values.listen.front(),
                   (values.listen.size() > 1 ? " (or another --listen address)" : ""),
                   ": address in use or not permitted"));
  BindOptions socket_options;
  socket_options.mode = values.socket_mode;
  if (startup.socket_activated) {
    absl::StatusOr<std::unique_ptr<UnixListener>> adopted =
        UnixListener::Adopt(std::move(startup.activated), peers_.get());
    if (!adopted.ok()) return adopted.status();
    listeners_.push_back(*std::move(adopted));
  }
  for (const ListenAddress& address : startup.addresses) {
    if (address.kind != ListenAddress::Kind::kUnix || startup.socket_activated) continue;
    absl::StatusOr<std::unique_ptr<UnixListener>> bound =
        UnixListener::Bind(address.target, peers_.get(), socket_options);
    if (!bound.ok()) return cannot_listen;
    listeners_.push_back(*std::move(bound));
  }
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(static_cast<int>(values.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(values.max_message_bytes));
  startup.ports.assign(startup.addresses.size(), 0);
  for (size_t i = 0; i < startup.addresses.size(); ++i) {
    if (startup.addresses[i].kind != ListenAddress::Kind::kTcp) continue;
    builder.AddListeningPort(startup.addresses[i].GrpcUri(), grpc::InsecureServerCredentials(),
                             &startup.ports[i]);
  }
  builder.RegisterService(service_.get());
  builder.experimental().SetInterceptorCreators(MakeRpcMetricsInterceptors());
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr) return cannot_listen;
  job_sockets_->SetServer(grpc_server_.get());
  ReopenJobSockets(*jobs_, *job_sockets_);
  for (const std::unique_ptr<UnixListener>& listener : listeners_) {
    if (absl::Status started = listener->Start(grpc_server_.get()); !started.ok()) {
      return Shown(started);
    }
  }
  return absl::OkStatus();
}

absl::Status Server::StartHttp(std::string* http_url) {
  const ServerSettings& values = settings_.values;
  // Metrics and the dashboard: after every listener, before the pidfile.
  status_source_ = std::make_unique<StatusSource>(scheduler_.get(), jobs_.get(), JobStorePath());
  if (values.http.empty()) return absl::OkStatus();
  absl::StatusOr<std::pair<std::string, int>> http_address = ParseHttpAddress(values.http);
  absl::StatusOr<std::unique_ptr<HttpServer>> started =
      http_address.ok()
          ? HttpServer::Start(http_address->first, http_address->second, status_source_.get())
          : http_address.status();
  if (!started.ok()) return started.status();
  http_ = *std::move(started);
  const std::string& host = http_address->first;
  const bool v6 = host.find(':') != std::string::npos;
  *http_url = absl::StrCat("http://", v6 ? "[" : "", host, v6 ? "]" : "", ":", http_->port(), "/");
  return absl::OkStatus();
}

void Server::Publish(const Startup& startup, const std::string& http_url) {
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kServiceName, true);

  // Ready: SIGHUP is taken (BlockStopSignals), so `pproc reload` may find
  // the server. Serving matters more than the pidfile.
  if (absl::Status published = pidfile_->Publish(); !published.ok()) {
    LogWarn("`pproc reload` will not find this server", {{"error", published.message()}});
  }
  // The inherited socket (if any) comes first, in place of the unix: ones.
  if (startup.socket_activated) {
    ready_addresses_.push_back(absl::StrCat("unix:", listeners_.front()->path()));
  }
  for (size_t i = 0; i < startup.addresses.size(); ++i) {
    ListenAddress shown = startup.addresses[i];
    if (shown.kind == ListenAddress::Kind::kTcp) {
      shown.target =
          absl::StrCat(shown.target.substr(0, shown.target.rfind(':')), ":", startup.ports[i]);
    } else if (startup.socket_activated) {
      continue;
    }
    ready_addresses_.push_back(shown.Display());
  }
  AnnounceReady(http_url);
  if (startup.socket_activated || startup.addresses.front().kind == ListenAddress::Kind::kUnix) {
    std::printf(
        "try: grpcurl -plaintext -unix %s list\n",
        (startup.socket_activated ? listeners_.front()->path() : startup.addresses.front().target)
            .c_str());
  }
  std::fflush(stdout);
}

void Server::AnnounceReady(const std::string& http_url) {
  const ServerSettings& values = settings_.values;
  const std::string listen = absl::StrJoin(ready_addresses_, ",");
  const std::string plugins = absl::StrJoin(values.plugins, ",");
  char socket_mode[8];
  std::snprintf(socket_mode, sizeof(socket_mode), "%04o",
                static_cast<unsigned>(values.socket_mode));
  LogInfo("started", {{"version", kVersion},
                      {"pid", getpid()},
                      {"listen", listen},
                      {"workers", workers_},
                      {"state_dir", values.state_dir},
                      {"http", http_url},
                      {"config", settings_.config_path}});
  LogInfo("settings", {{"max_queued_items", values.max_queued_items},
                       {"call_window", values.call_window_items},
                       {"max_tasks_per_worker", values.max_tasks_per_worker},
                       {"grace_ms", values.grace_ms},
                       {"max_message_bytes", values.max_message_bytes},
                       {"socket_mode", socket_mode},
                       {"keep_jobs_hours", values.keep_jobs_hours},
                       {"max_store_mib", values.max_store_mib},
                       {"admin_group", values.admin_group},
                       {"plugins", plugins},
                       {"log_format", values.log_format},
                       {"log_level", values.log_level}});
  for (const std::string& address : ready_addresses_) {
    std::printf("pprocd ready on %s (%u workers)\n", address.c_str(), workers_);
  }
}

StopReason Server::Wait() {
  int signal_number = 0;
  while (signal_number <= 0 && scheduler_->running() && !shutdown_requested_.load()) {
    const timespec tick{0, 200 * 1000 * 1000};
    signal_number = sigtimedwait(&stop_signals_, nullptr, &tick);
    if (signal_number == SIGHUP) {
      Reload();
      signal_number = 0;
    }
  }
  if (signal_number > 0) return {SignalName(signal_number), 0};
  if (shutdown_requested_.load()) return {"Shutdown()", 0};
  return {"the worker pool has stopped", 1};
}

void Server::Shutdown() { shutdown_requested_.store(true); }

int Server::Stop(const StopReason& why) {
  const absl::Time stopping_at = absl::Now();
  LogInfo("shutting down", {{"reason", why.reason}, {"grace_ms", settings_.values.grace_ms}});
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus(false);
  health->SetServingStatus(kServiceName, false);
  StopAll(absl::Milliseconds(settings_.values.grace_ms));
  Log(why.exit_code == 0 ? LogLevel::kInfo : LogLevel::kError, "stopped",
      {{"reason", why.reason},
       {"took_ms", absl::ToInt64Milliseconds(absl::Now() - stopping_at)},
       {"exit_code", why.exit_code}});
  return why.exit_code;
}

void Server::StopAll(absl::Duration grace) {
  stopped_ = true;
  // No new connection from here on; the listeners remove their sockets.
  for (const std::unique_ptr<UnixListener>& listener : listeners_) listener->Stop();
  if (job_sockets_ != nullptr) job_sockets_->CloseAll();
  if (http_ != nullptr) http_->Stop();
  // Background jobs stop at once (the next start takes them up), without
  // waiting for the grace period of the calls of connected clients.
  if (jobs_ != nullptr) jobs_->Stop();
  if (grpc_server_ != nullptr) {
    grpc_server_->Shutdown(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(absl::ToInt64Milliseconds(grace)));
    // Shutdown returns once every call has finished, which can be before the
    // transports have written the last responses and trailers: give them a
    // moment, or a client may see its finished call end in a broken pipe.
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (scheduler_ != nullptr) scheduler_->Stop();
  if (grpc_server_ != nullptr) grpc_server_->Wait();
}

// SIGHUP: loads the callables of the server's command line and config file
// again, in a new template; on success new work uses them (running work
// finishes on the old workers), otherwise the current set stays. Runs on
// the main thread: a template started by exec dies with the thread that
// started it.
void Server::Reload() {
  const std::vector<std::string>& args = settings_.args;
  std::vector<std::string> template_args = {kServeAsTemplate, std::to_string(getpid())};
  template_args.insert(template_args.end(), args.begin() + 1, args.end());
  LogInfo("reloading the callables", {{"reason", "SIGHUP"}});
  const auto failed = [](const absl::Status& why) {
    LogError("reload failed, the current callables stay", {{"error", why.message()}});
  };
  absl::StatusOr<TemplateProcess> fresh_template =
      TemplateProcess::Exec(template_args, kReloadTimeout);
  if (!fresh_template.ok()) return failed(fresh_template.status());
  absl::StatusOr<std::shared_ptr<Registry>> registry = settings_.reload_callables();
  if (!registry.ok()) return failed(registry.status());
  const size_t count = (*registry)->All().size();
  scheduler_->ReplaceTemplate(*std::move(fresh_template));
  current_->Replace(*std::move(registry));
  LogInfo("reloaded: new work uses the new callables", {{"callables", count}});
}

}  // namespace pprocd
