// pprocd: the process farm server.
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
// One server per --state-dir: it holds STATE_DIR/pprocd.pid (server/
// pidfile.h) from start to exit and writes its pid there once ready. The
// template and the workers show as pprocd-template and pprocd-worker
// (worker/base/process_title.h), so `pidof pprocd` finds only the server.
#include <grp.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/log/log.h"
#include "grpc/health/v1/health.pb.h"
#include "pprocd/version.h"
#include "server/config/config.h"
#include "server/default_paths.h"
#include "server/front/farm_service.h"
#include "server/front/rpc_metrics.h"
#include "server/http/http_server.h"
#include "server/http/status_source.h"
#include "server/library_logs.h"
#include "server/listen_address.h"
#include "server/peer/peer_registry.h"
#include "server/peer/socket_activation.h"
#include "server/peer/unix_listener.h"
#include "server/pidfile.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/worker_slot.h"
#include "server/settings/settings_cli.h"
#include "server/settings/settings_table.h"
#include "worker/base/process_title.h"
#include "worker/base/status_macros.h"
#include "worker/builtins.h"
#include "worker/command_callable.h"
#include "worker/plugin_loader.h"
#include "worker/template_process.h"

namespace pprocd {
namespace {

constexpr char kServiceName[] = "pprocd.v1.ProcessFarmService";
// argv[1] of a template started by a reload (TemplateProcess::Exec); then
// the server's pid, then the server's own arguments.
constexpr char kServeAsTemplate[] = "--serve-as-template";
// How long a reload waits for the new template to load its callables.
constexpr absl::Duration kReloadTimeout = absl::Seconds(60);

// The settings (server/settings/settings_table.h) and the config file they
// may come from.
struct Flags : ServerSettings {
  // --config: the file the values above may come from ("" = none).
  std::string config_path;
};

// What the command line (and the config file it names) asks for.
struct Settings {
  Flags flags;
  ServerConfig config;
  // --check-config FILE ("" = not asked).
  std::string check_path;
};

// Why the server could not start (or stopped): one error line of the log
// with --log-format json; for humans, the plain "pprocd: why" otherwise.
int Fail(const std::string& message) {
  if (CurrentLogFormat() == LogFormat::kJson) {
    LogError("cannot serve", {{"error", message}});
  } else {
    std::fprintf(stderr, "pprocd: %s\n", message.c_str());
  }
  return 1;
}

// Sets the process's log as `flags` ask (both checked when parsed).
void ConfigureLogFrom(const Flags& flags) {
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;
  ParseLogFormat(flags.log_format, &format);
  ParseLogLevel(flags.log_level, &level);
  ConfigureLog(format, level);
}

// Adds the config file's command callables to `registry`, after the
// built-ins and plugins, then sets the [limits.NAME] of any callable.
// Returns one error per callable refused (a bad spec, or a name already
// taken) and per limits table naming no callable, each with its line.
std::vector<ConfigError> AddConfigCallables(const std::string& path, const ServerConfig& config,
                                            bool plugins_loaded, Registry* registry) {
  std::vector<ConfigError> errors;
  for (size_t i = 0; i < config.commands.size(); ++i) {
    const std::string& name = config.commands[i].name;
    absl::StatusOr<CallableDef> def = MakeCommandCallable(config.commands[i]);
    absl::Status added = def.ok() ? absl::OkStatus() : def.status();
    if (const CallableDef* taken = registry->Find(name); added.ok() && taken != nullptr) {
      added = absl::AlreadyExistsError(
          absl::StrCat("the name is already taken (origin: ", taken->origin, ")"));
    }
    if (added.ok()) added = registry->Add(*std::move(def));
    if (!added.ok()) {
      errors.push_back({path, config.command_lines[i], 0,
                        absl::StrCat("callable ", name, ": ", added.message())});
    }
  }
  for (const ServerConfig::NamedLimits& named : config.limits) {
    // Without the plugins (--check-config), a name may be one of theirs.
    if (!plugins_loaded && config.plugins.has_value() &&
        registry->Find(named.callable) == nullptr) {
      continue;
    }
    if (absl::Status set = registry->SetLimits(named.callable, named.limits); !set.ok()) {
      errors.push_back({path, named.line, 0, std::string(set.message())});
    }
  }
  return errors;
}

// The callables of a server with `settings`: the built-ins, the plugins,
// then the config file's command callables and [limits.NAME]. At start
// (`probe_plugins`) each plugin is first loaded in a child process; on a
// reload the server loads them directly, once the new template has.
absl::StatusOr<std::shared_ptr<Registry>> BuildRegistry(const Settings& settings,
                                                        bool probe_plugins) {
  auto registry = std::make_shared<Registry>();
  PPROCD_RETURN_IF_ERROR(RegisterBuiltins(registry.get()));
  for (const std::string& plugin : settings.flags.plugins) {
    PPROCD_RETURN_IF_ERROR(probe_plugins ? LoadPlugin(plugin, registry.get())
                                         : LoadPluginInThisProcess(plugin, registry.get()));
  }
  // Command callables come last: a name taken by a built-in or a plugin is
  // refused.
  if (std::vector<ConfigError> refused = AddConfigCallables(
          settings.flags.config_path, settings.config, /*plugins_loaded=*/true, registry.get());
      !refused.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("config ", settings.flags.config_path, ": ", refused.front().message));
  }
  return registry;
}

// --check-config: prints every error of the file at `path` (on stderr) or
// a one-line summary (on stdout). Starts nothing and loads no plugin.
int CheckConfig(const std::string& path) {
  ServerConfig config;
  std::vector<ConfigError> errors = CheckConfigFile(path, &config);
  if (errors.empty()) {
    Registry registry;
    if (absl::Status added = RegisterBuiltins(&registry); !added.ok()) {
      return Fail(added.ToString());
    }
    errors = AddConfigCallables(path, config, /*plugins_loaded=*/false, &registry);
  }
  for (const ConfigError& error : errors) std::fprintf(stderr, "%s\n", error.ToString().c_str());
  if (!errors.empty()) return 1;
  const std::vector<std::string> settings = KeysSet(config);
  std::vector<std::string> names;
  for (const CommandSpec& spec : config.commands) names.push_back(spec.name);
  std::printf("%s: ok (server: %s; callables: %s)\n", path.c_str(),
              settings.empty() ? "defaults" : absl::StrJoin(settings, ", ").c_str(),
              names.empty() ? "none" : absl::StrJoin(names, ", ").c_str());
  return 0;
}

absl::Status MakeStateDir(const std::string& dir) {
  if (absl::Status made = MakeDirectories(dir); !made.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot create --state-dir ", dir, ": ", made.message()));
  }
  return absl::OkStatus();
}

// Fills in what neither the command line nor the config file set: the
// listen address and the state directory (server/default_paths.h).
absl::Status ApplyDefaults(Flags* flags) {
  if (flags->listen.empty()) {
    absl::StatusOr<std::string> listen = DefaultListenAddress();
    if (!listen.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("pprocd: ", listen.status().message()));
    }
    flags->listen.push_back(*std::move(listen));
  }
  if (flags->state_dir.empty()) {
    absl::StatusOr<std::string> state_dir = DefaultStateDir();
    if (!state_dir.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("pprocd: ", state_dir.status().message()));
    }
    flags->state_dir = *std::move(state_dir);
  }
  return absl::OkStatus();
}

// Blocks SIGTERM, SIGINT and SIGHUP in this thread and every thread
// started after it, and ignores SIGPIPE; Serve() takes them with
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

absl::StatusOr<Settings> ParseSettings(int argc, char** argv, bool quiet);

// SIGHUP: loads the callables of the server's command line and config file
// again, in a new template; on success new work uses them (running work
// finishes on the old workers), otherwise the current set stays. Runs on
// the main thread: a template started by exec dies with the thread that
// started it.
void ReloadCallables(const std::vector<std::string>& args, CurrentRegistry* current,
                     Scheduler* scheduler) {
  std::vector<std::string> template_args = {kServeAsTemplate, std::to_string(getpid())};
  template_args.insert(template_args.end(), args.begin() + 1, args.end());
  LogInfo("reloading the callables", {{"reason", "SIGHUP"}});
  const auto failed = [](const absl::Status& why) {
    LogError("reload failed, the current callables stay", {{"error", why.message()}});
  };
  absl::StatusOr<TemplateProcess> fresh_template =
      TemplateProcess::Exec(template_args, kReloadTimeout);
  if (!fresh_template.ok()) return failed(fresh_template.status());
  std::vector<char*> argv;
  std::vector<std::string> copies = args;
  for (std::string& arg : copies) argv.push_back(arg.data());
  absl::StatusOr<Settings> settings =
      ParseSettings(static_cast<int>(argv.size()), argv.data(), /*quiet=*/true);
  if (!settings.ok()) return failed(settings.status());
  absl::StatusOr<std::shared_ptr<Registry>> registry =
      BuildRegistry(*settings, /*probe_plugins=*/false);
  if (!registry.ok()) return failed(registry.status());
  const size_t count = (*registry)->All().size();
  scheduler->ReplaceTemplate(*std::move(fresh_template));
  current->Replace(*std::move(registry));
  LogInfo("reloaded: new work uses the new callables", {{"callables", count}});
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

// The start event, once every listener serves: where, with how many
// workers, and every setting (one line each).
void LogStart(const Flags& flags, const std::vector<std::string>& addresses, uint32_t workers,
              const std::string& http_url) {
  const std::string listen = absl::StrJoin(addresses, ",");
  const std::string plugins = absl::StrJoin(flags.plugins, ",");
  char socket_mode[8];
  std::snprintf(socket_mode, sizeof(socket_mode), "%04o", static_cast<unsigned>(flags.socket_mode));
  LogInfo("started", {{"version", kVersion},
                      {"pid", getpid()},
                      {"listen", listen},
                      {"workers", workers},
                      {"state_dir", flags.state_dir},
                      {"http", http_url},
                      {"config", flags.config_path}});
  LogInfo("settings", {{"max_queued_items", flags.max_queued_items},
                       {"call_window", flags.call_window_items},
                       {"max_tasks_per_worker", flags.max_tasks_per_worker},
                       {"grace_ms", flags.grace_ms},
                       {"max_message_bytes", flags.max_message_bytes},
                       {"socket_mode", socket_mode},
                       {"keep_jobs_hours", flags.keep_jobs_hours},
                       {"max_store_mib", flags.max_store_mib},
                       {"admin_group", flags.admin_group},
                       {"plugins", plugins},
                       {"log_format", flags.log_format},
                       {"log_level", flags.log_level}});
}

int Serve(const Settings& settings, const std::vector<std::string>& args) {
  const Flags& flags = settings.flags;
  RouteLibraryLogs();
  std::vector<ListenAddress> addresses;
  for (const std::string& text : flags.listen) {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
    if (!address.ok()) return Fail(std::string(address.status().message()));
    addresses.push_back(*address);
  }
  if (absl::Status made = MakeStateDir(flags.state_dir); !made.ok()) {
    return Fail(std::string(made.message()));
  }
  // Two servers must not share a state directory (its job store, above all).
  absl::StatusOr<Pidfile> pidfile = Pidfile::Acquire(flags.state_dir);
  if (!pidfile.ok()) return Fail(std::string(pidfile.status().message()));
  // Socket-activated, the inherited socket takes the place of every unix:
  // address; tcp: addresses are still bound.
  absl::StatusOr<UniqueFd> activated = TakeActivatedSocket();
  if (!activated.ok()) return Fail(std::string(activated.status().message()));
  const bool socket_activated = activated->valid();
  for (const ListenAddress& address : addresses) {
    if (address.kind != ListenAddress::Kind::kUnix || socket_activated) continue;
    // The per-user socket's directory may be under /tmp, where anyone could
    // have made it first: it must be this user's alone.
    if (address.target == UserSocketPath()) {
      if (absl::Status mine = PreparePrivateDirectory(UserSocketDir()); !mine.ok()) {
        return Fail(std::string(mine.message()));
      }
    }
    if (absl::Status ready = PrepareUnixSocketPath(address.target); !ready.ok()) {
      return Fail(std::string(ready.message()));
    }
  }

  absl::StatusOr<std::optional<gid_t>> admin_gid = AdminGroupId(flags.admin_group);
  if (!admin_gid.ok()) return Fail(std::string(admin_gid.status().message()));
  // Plugins load before the template forks, so every worker shares them.
  absl::StatusOr<std::shared_ptr<Registry>> registry =
      BuildRegistry(settings, /*probe_plugins=*/true);
  if (!registry.ok()) return Fail(std::string(registry.status().message()));
  CurrentRegistry current(*registry);
  const sigset_t stop_signals = BlockStopSignals();
  // Fork the template first: no thread and no gRPC object exist yet. It
  // must not hold the inherited listening socket.
  if (socket_activated) CloseInNextForkedChild(activated->get());
  absl::StatusOr<TemplateProcess> template_process = TemplateProcess::Start(**registry);
  if (!template_process.ok()) return Fail(template_process.status().ToString());

  SchedulerOptions options;
  options.workers =
      flags.workers > 0 ? flags.workers : std::max(1u, std::thread::hardware_concurrency());
  options.max_queued_items = flags.max_queued_items;
  options.call_window_items = flags.call_window_items;
  options.max_tasks_per_worker = flags.max_tasks_per_worker;
  Scheduler scheduler(options, std::move(*template_process), &current);
  if (absl::Status started = scheduler.Start(); !started.ok()) {
    return Fail(started.ToString());
  }

  PeerRegistry peers;
  // The sockets jobs ask for; they go with their job (on_removed).
  JobSockets job_sockets(&peers);
  JobManagerOptions job_options;
  job_options.store.path = flags.state_dir + "/jobs.db";
  job_options.store.max_bytes = uint64_t{flags.max_store_mib} << 20;
  job_options.store.keep_finished = absl::Hours(flags.keep_jobs_hours);
  job_options.max_message_bytes = flags.max_message_bytes;
  job_options.on_removed = [&job_sockets](const std::string& job) { job_sockets.Close(job); };
  absl::StatusOr<std::unique_ptr<JobManager>> jobs =
      JobManager::Open(job_options, &scheduler, &current);
  if (jobs.ok()) {
    if (absl::Status started = (*jobs)->Start(); !started.ok()) jobs = started;
  }
  if (!jobs.ok()) {
    scheduler.Stop();
    return Fail(absl::StrCat("job store: ", jobs.status().message()));
  }

  // Links the descriptor of grpc.health.v1 so reflection can describe it.
  grpc::health::v1::HealthCheckRequest health_descriptor_anchor;
  (void)health_descriptor_anchor;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  FarmService service(&scheduler, &current, jobs->get(), &peers, *admin_gid, &job_sockets);
  const auto cannot_listen = [&flags, &scheduler, &jobs] {
    (*jobs)->Stop();
    scheduler.Stop();
    return Fail(absl::StrCat("cannot listen on ", flags.listen.front(),
                             (flags.listen.size() > 1 ? " (or another --listen address)" : ""),
                             ": address in use or not permitted"));
  };
  // Declared before the listeners: they stop (and join) before it goes.
  std::unique_ptr<grpc::Server> server;
  // One per unix: address, or the one inherited socket; made owner-only.
  std::vector<std::unique_ptr<UnixListener>> listeners;
  BindOptions socket_options;
  socket_options.mode = flags.socket_mode;
  if (socket_activated) {
    absl::StatusOr<std::unique_ptr<UnixListener>> adopted =
        UnixListener::Adopt(*std::move(activated), &peers);
    if (!adopted.ok()) {
      (*jobs)->Stop();
      scheduler.Stop();
      return Fail(std::string(adopted.status().message()));
    }
    listeners.push_back(*std::move(adopted));
  }
  for (const ListenAddress& address : addresses) {
    if (address.kind != ListenAddress::Kind::kUnix || socket_activated) continue;
    absl::StatusOr<std::unique_ptr<UnixListener>> bound =
        UnixListener::Bind(address.target, &peers, socket_options);
    if (!bound.ok()) return cannot_listen();
    listeners.push_back(*std::move(bound));
  }
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(static_cast<int>(flags.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(flags.max_message_bytes));
  std::vector<int> ports(addresses.size(), 0);
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (addresses[i].kind != ListenAddress::Kind::kTcp) continue;
    builder.AddListeningPort(addresses[i].GrpcUri(), grpc::InsecureServerCredentials(), &ports[i]);
  }
  builder.RegisterService(&service);
  builder.experimental().SetInterceptorCreators(MakeRpcMetricsInterceptors());
  server = builder.BuildAndStart();
  if (server == nullptr) return cannot_listen();
  job_sockets.SetServer(server.get());
  ReopenJobSockets(**jobs, job_sockets);
  for (const std::unique_ptr<UnixListener>& listener : listeners) {
    if (absl::Status started = listener->Start(server.get()); !started.ok()) {
      return Fail(started.ToString());
    }
  }
  // Metrics and the dashboard: after every listener, before the pidfile.
  StatusSource status_source(&scheduler, jobs->get(), job_options.store.path);
  std::unique_ptr<HttpServer> http;
  std::string http_url;
  if (!flags.http.empty()) {
    absl::StatusOr<std::pair<std::string, int>> http_address = ParseHttpAddress(flags.http);
    absl::StatusOr<std::unique_ptr<HttpServer>> started =
        http_address.ok()
            ? HttpServer::Start(http_address->first, http_address->second, &status_source)
            : http_address.status();
    if (!started.ok()) {
      server->Shutdown();
      (*jobs)->Stop();
      scheduler.Stop();
      return Fail(std::string(started.status().message()));
    }
    http = *std::move(started);
    const std::string& host = http_address->first;
    http_url = absl::StrCat("http://", host.find(':') != std::string::npos ? "[" : "", host,
                            host.find(':') != std::string::npos ? "]" : "", ":", http->port(), "/");
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kServiceName, true);

  // Ready: SIGHUP is taken (BlockStopSignals), so `pproc reload` may find
  // the server. Serving matters more than the pidfile.
  if (absl::Status published = pidfile->Publish(); !published.ok()) {
    LogWarn("`pproc reload` will not find this server", {{"error", published.message()}});
  }
  // The inherited socket (if any) comes first, in place of the unix: ones.
  std::vector<std::string> ready;
  if (socket_activated) ready.push_back(absl::StrCat("unix:", listeners.front()->path()));
  for (size_t i = 0; i < addresses.size(); ++i) {
    ListenAddress shown = addresses[i];
    if (shown.kind == ListenAddress::Kind::kTcp) {
      shown.target = absl::StrCat(shown.target.substr(0, shown.target.rfind(':')), ":", ports[i]);
    } else if (socket_activated) {
      continue;
    }
    ready.push_back(shown.Display());
  }
  LogStart(flags, ready, options.workers, http_url);
  for (const std::string& address : ready) {
    std::printf("pprocd ready on %s (%u workers)\n", address.c_str(), options.workers);
  }
  if (socket_activated || addresses.front().kind == ListenAddress::Kind::kUnix) {
    std::printf("try: grpcurl -plaintext -unix %s list\n",
                (socket_activated ? listeners.front()->path() : addresses.front().target).c_str());
  }
  std::fflush(stdout);

  int signal_number = 0;
  while (signal_number <= 0 && scheduler.running()) {
    const timespec tick{0, 200 * 1000 * 1000};
    signal_number = sigtimedwait(&stop_signals, nullptr, &tick);
    if (signal_number == SIGHUP) {
      ReloadCallables(args, &current, &scheduler);
      signal_number = 0;
    }
  }
  const int exit_code = signal_number > 0 ? 0 : 1;
  const std::string reason =
      signal_number > 0 ? SignalName(signal_number) : "the worker pool has stopped";
  const absl::Time stopping_at = absl::Now();
  LogInfo("shutting down", {{"reason", reason}, {"grace_ms", flags.grace_ms}});
  health->SetServingStatus(false);
  health->SetServingStatus(kServiceName, false);
  // No new connection from here on; the listeners remove their sockets.
  for (const std::unique_ptr<UnixListener>& listener : listeners) listener->Stop();
  job_sockets.CloseAll();
  if (http != nullptr) http->Stop();
  // Background jobs stop at once (the next start takes them up), without
  // waiting for the grace period of the calls of connected clients.
  (*jobs)->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(flags.grace_ms));
  // Shutdown returns once every call has finished, which can be before the
  // transports have written the last responses and trailers: give them a
  // moment, or a client may see its finished call end in a broken pipe.
  absl::SleepFor(absl::Milliseconds(100));
  scheduler.Stop();
  server->Wait();
  Log(exit_code == 0 ? LogLevel::kInfo : LogLevel::kError, "stopped",
      {{"reason", reason},
       {"took_ms", absl::ToInt64Milliseconds(absl::Now() - stopping_at)},
       {"exit_code", exit_code}});
  return exit_code;
}

// Parses the command line and loads the config file it names. Prints
// CLI11's help or errors unless `quiet`; an error status carries the exit
// code's reason (the --help request is an OutOfRange status with code 0).
absl::StatusOr<Settings> ParseSettings(int argc, char** argv, bool quiet) {
  Settings settings;
  Flags& flags = settings.flags;
  CLI::App app{"pprocd: a pool of worker processes serving registered callables over gRPC"};
  app.set_version_flag("--version", absl::StrCat("pprocd ", kVersion));
  AddSettingOptions(&app, &flags);
  CLI::Option* config_option =
      app.add_option("--config", flags.config_path,
                     "TOML file of server settings and command callables (README: Configuration "
                     "file); a flag given on the command line overrides the file's value")
          ->type_name("FILE");
  app.add_option("--check-config", settings.check_path,
                 "Validate this config file: print every error, or a summary; start nothing")
      ->type_name("FILE")
      ->excludes(config_option);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (!quiet) app.exit(error);
    // Aborted: a command-line error, already shown unless `quiet`.
    return error.get_exit_code() == 0 ? absl::CancelledError("help shown")
                                      : absl::AbortedError(error.what());
  }
  if (!settings.check_path.empty()) return settings;
  if (!flags.config_path.empty()) {
    absl::StatusOr<ServerConfig> loaded = LoadConfig(flags.config_path);
    if (!loaded.ok()) return loaded.status();
    settings.config = *std::move(loaded);
    MergeFileSettings(
        settings.config,
        [&app](const Setting& setting) { return GivenOnCommandLine(app, setting); }, &flags);
  }
  // Also on a reload: the config file's log settings take effect then.
  ConfigureLogFrom(flags);
  PPROCD_RETURN_IF_ERROR(ApplyDefaults(&flags));
  return settings;
}

// The process of a template started by a reload: argv is kServeAsTemplate,
// the server's pid, then the server's arguments.
[[noreturn]] void ServeAsTemplate(int argc, char** argv) {
  const pid_t server = static_cast<pid_t>(std::strtol(argv[2], nullptr, 10));
  std::vector<std::string> copies = {argv[0]};
  copies.insert(copies.end(), argv + 3, argv + argc);
  // From here on argv's memory holds the title, not the arguments.
  SetProcessTitle("pprocd-template");
  std::vector<char*> args;
  for (std::string& copy : copies) args.push_back(copy.data());
  absl::StatusOr<Settings> settings =
      ParseSettings(static_cast<int>(args.size()), args.data(), /*quiet=*/true);
  absl::StatusOr<std::shared_ptr<Registry>> registry =
      settings.ok() ? BuildRegistry(*settings, /*probe_plugins=*/true)
                    : absl::StatusOr<std::shared_ptr<Registry>>(settings.status());
  const Registry none;
  ServeExecutedTemplate(server, registry.status(), registry.ok() ? **registry : none);
}

}  // namespace
}  // namespace pprocd

int main(int argc, char** argv) {
  // Before any thread: the template and the workers later name themselves
  // in this memory.
  pprocd::SaveProcessTitleArea(argc, argv);
  if (argc >= 3 && std::string(argv[1]) == pprocd::kServeAsTemplate) {
    pprocd::ServeAsTemplate(argc, argv);
  }
  absl::StatusOr<pprocd::Settings> settings = pprocd::ParseSettings(argc, argv, /*quiet=*/false);
  if (!settings.ok()) {
    if (absl::IsCancelled(settings.status())) return 0;
    if (!absl::IsAborted(settings.status())) {
      std::fprintf(stderr, "%s\n", std::string(settings.status().message()).c_str());
    }
    return 1;
  }
  if (!settings->check_path.empty()) return pprocd::CheckConfig(settings->check_path);
  return pprocd::Serve(*settings, std::vector<std::string>(argv, argv + argc));
}
