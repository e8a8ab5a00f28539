// pprocd: the process farm server.
//
// Start-up order matters: the template process is forked before any thread
// or gRPC object exists (gRPC is not fork-safe); only then do the scheduler
// thread and the gRPC server start. SIGTERM/SIGINT drain and stop.
//
// UNIX sockets are served by our own listeners (server/peer), which learn
// each caller's kernel credentials; TCP addresses are gRPC's own.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "server/config/config.h"
#include "server/front/farm_service.h"
#include "server/listen_address.h"
#include "server/peer/peer_registry.h"
#include "server/peer/socket_activation.h"
#include "server/peer/unix_listener.h"
#include "server/scheduler/scheduler.h"
#include "worker/builtins.h"
#include "worker/command_callable.h"
#include "worker/plugin_loader.h"
#include "worker/template_process.h"

namespace pprocd {
namespace {

constexpr char kServiceName[] = "pprocd.v1.ProcessFarmService";

struct Flags {
  std::vector<std::string> listen = {"unix:run/pprocd.sock"};
  std::string state_dir = "var";
  uint32_t workers = 0;
  uint64_t max_queued_items = 1000000;
  uint64_t call_window_items = 16384;
  uint32_t grace_ms = 5000;
  uint32_t max_message_bytes = 16u << 20;
  uint64_t max_tasks_per_worker = 0;
  std::vector<std::string> plugins;
  // --config: the file the values above may come from ("" = none).
  std::string config_path;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "pprocd: %s\n", message.c_str());
  return 1;
}

// Takes each value `config` sets into `flags`, unless its flag was given on
// the command line: an explicit flag wins over the file.
void ApplyConfig(const ServerConfig& config, const CLI::App& app, Flags* flags) {
  const auto take = [&app](const char* flag, const auto& value, auto* into) {
    if (value.has_value() && app.count(flag) == 0) *into = *value;
  };
  take("--listen", config.listen, &flags->listen);
  take("--state-dir", config.state_dir, &flags->state_dir);
  take("--workers", config.workers, &flags->workers);
  take("--max-queued-items", config.max_queued_items, &flags->max_queued_items);
  take("--call-window", config.call_window, &flags->call_window_items);
  take("--max-tasks-per-worker", config.max_tasks_per_worker, &flags->max_tasks_per_worker);
  take("--plugin", config.plugins, &flags->plugins);
  take("--grace-ms", config.grace_ms, &flags->grace_ms);
  take("--max-message-bytes", config.max_message_bytes, &flags->max_message_bytes);
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
  std::vector<std::string> settings;
  const auto note = [&settings](const char* key, bool set) {
    if (set) settings.push_back(key);
  };
  note("listen", config.listen.has_value());
  note("workers", config.workers.has_value());
  note("state_dir", config.state_dir.has_value());
  note("max_queued_items", config.max_queued_items.has_value());
  note("call_window", config.call_window.has_value());
  note("max_tasks_per_worker", config.max_tasks_per_worker.has_value());
  note("grace_ms", config.grace_ms.has_value());
  note("max_message_bytes", config.max_message_bytes.has_value());
  note("plugins", config.plugins.has_value());
  std::vector<std::string> names;
  for (const CommandSpec& spec : config.commands) names.push_back(spec.name);
  std::printf("%s: ok (server: %s; callables: %s)\n", path.c_str(),
              settings.empty() ? "defaults" : absl::StrJoin(settings, ", ").c_str(),
              names.empty() ? "none" : absl::StrJoin(names, ", ").c_str());
  return 0;
}

absl::Status MakeStateDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("cannot create --state-dir ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Blocks SIGTERM, SIGINT and SIGPIPE handling in this thread and every
// thread started after it; main() takes SIGTERM/SIGINT with sigtimedwait.
sigset_t BlockStopSignals() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int Serve(const Flags& flags, const ServerConfig& config) {
  std::vector<ListenAddress> addresses;
  for (const std::string& text : flags.listen) {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
    if (!address.ok()) return Fail(std::string(address.status().message()));
    addresses.push_back(*address);
  }
  if (absl::Status made = MakeStateDir(flags.state_dir); !made.ok()) {
    return Fail(std::string(made.message()));
  }
  // Socket-activated, the inherited socket takes the place of every unix:
  // address; tcp: addresses are still bound.
  absl::StatusOr<UniqueFd> activated = TakeActivatedSocket();
  if (!activated.ok()) return Fail(std::string(activated.status().message()));
  const bool socket_activated = activated->valid();
  for (const ListenAddress& address : addresses) {
    if (address.kind != ListenAddress::Kind::kUnix || socket_activated) continue;
    if (absl::Status ready = PrepareUnixSocketPath(address.target); !ready.ok()) {
      return Fail(std::string(ready.message()));
    }
  }

  Registry registry;
  if (absl::Status added = RegisterBuiltins(&registry); !added.ok()) {
    return Fail(added.ToString());
  }
  // Plugins load before the template forks, so every worker shares them.
  for (const std::string& plugin : flags.plugins) {
    if (absl::Status loaded = LoadPlugin(plugin, &registry); !loaded.ok()) {
      return Fail(std::string(loaded.message()));
    }
  }
  // Command callables from the config file come last: a name taken by a
  // built-in or a plugin is refused.
  if (std::vector<ConfigError> refused =
          AddConfigCallables(flags.config_path, config, /*plugins_loaded=*/true, &registry);
      !refused.empty()) {
    return Fail(absl::StrCat("config ", flags.config_path, ": ", refused.front().message));
  }
  const sigset_t stop_signals = BlockStopSignals();
  // Fork the template first: no thread and no gRPC object exist yet. It
  // must not hold the inherited listening socket.
  if (socket_activated) CloseInNextForkedChild(activated->get());
  absl::StatusOr<TemplateProcess> template_process = TemplateProcess::Start(registry);
  if (!template_process.ok()) return Fail(template_process.status().ToString());

  SchedulerOptions options;
  options.workers =
      flags.workers > 0 ? flags.workers : std::max(1u, std::thread::hardware_concurrency());
  options.max_queued_items = flags.max_queued_items;
  options.call_window_items = flags.call_window_items;
  options.max_tasks_per_worker = flags.max_tasks_per_worker;
  Scheduler scheduler(options, std::move(*template_process), &registry);
  if (absl::Status started = scheduler.Start(); !started.ok()) {
    return Fail(started.ToString());
  }

  // Links the descriptor of grpc.health.v1 so reflection can describe it.
  grpc::health::v1::HealthCheckRequest health_descriptor_anchor;
  (void)health_descriptor_anchor;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  PeerRegistry peers;
  FarmService service(&scheduler, &registry, &peers);
  const auto cannot_listen = [&flags, &scheduler] {
    scheduler.Stop();
    return Fail(absl::StrCat("cannot listen on ", flags.listen.front(),
                             (flags.listen.size() > 1 ? " (or another --listen address)" : ""),
                             ": address in use or not permitted"));
  };
  // Declared before the listeners: they stop (and join) before it goes.
  std::unique_ptr<grpc::Server> server;
  // One per unix: address, or the one inherited socket; made owner-only.
  std::vector<std::unique_ptr<UnixListener>> listeners;
  if (socket_activated) {
    absl::StatusOr<std::unique_ptr<UnixListener>> adopted =
        UnixListener::Adopt(*std::move(activated), &peers);
    if (!adopted.ok()) {
      scheduler.Stop();
      return Fail(std::string(adopted.status().message()));
    }
    listeners.push_back(*std::move(adopted));
  }
  for (const ListenAddress& address : addresses) {
    if (address.kind != ListenAddress::Kind::kUnix || socket_activated) continue;
    absl::StatusOr<std::unique_ptr<UnixListener>> bound =
        UnixListener::Bind(address.target, &peers);
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
  server = builder.BuildAndStart();
  if (server == nullptr) return cannot_listen();
  for (const std::unique_ptr<UnixListener>& listener : listeners) {
    if (absl::Status started = listener->Start(server.get()); !started.ok()) {
      return Fail(started.ToString());
    }
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kServiceName, true);

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
  }
  const int exit_code = signal_number > 0 ? 0 : 1;
  if (signal_number > 0) {
    std::fprintf(stderr, "pprocd: %s received; draining (grace %u ms)\n", strsignal(signal_number),
                 flags.grace_ms);
  } else {
    std::fprintf(stderr, "pprocd: the worker pool has stopped; shutting down\n");
  }
  health->SetServingStatus(false);
  health->SetServingStatus(kServiceName, false);
  // No new connection from here on; the listeners remove their sockets.
  for (const std::unique_ptr<UnixListener>& listener : listeners) listener->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(flags.grace_ms));
  // Shutdown returns once every call has finished, which can be before the
  // transports have written the last responses and trailers: give them a
  // moment, or a client may see its finished call end in a broken pipe.
  absl::SleepFor(absl::Milliseconds(100));
  scheduler.Stop();
  server->Wait();
  std::fprintf(stderr, "pprocd: stopped\n");
  return exit_code;
}

}  // namespace
}  // namespace pprocd

int main(int argc, char** argv) {
  pprocd::Flags flags;
  CLI::App app{"pprocd: a pool of worker processes serving registered callables over gRPC"};
  app.add_option("--listen", flags.listen,
                 "Address to serve on, repeatable: unix:PATH (default unix:run/pprocd.sock) or "
                 "tcp:HOST:PORT (port 0 picks a free port)")
      ->take_all();
  app.add_option("--state-dir", flags.state_dir, "Directory for the server's state")
      ->capture_default_str();
  app.add_option("--workers", flags.workers, "Pooled worker processes (default: CPU count)");
  app.add_option("--max-queued-items", flags.max_queued_items,
                 "Inputs waiting for a worker, over all calls, before RESOURCE_EXHAUSTED")
      ->capture_default_str();
  app.add_option("--call-window", flags.call_window_items,
                 "Per call: inputs and unsent results held at most (flow control)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{16}, uint64_t{1} << 30));
  app.add_option("--max-tasks-per-worker", flags.max_tasks_per_worker,
                 "Replace a pooled worker after it has run this many items (0 = never)")
      ->capture_default_str();
  app.add_option("--plugin", flags.plugins,
                 "Shared library of callables written with pprocd/callable.h, repeatable; "
                 "loaded at start (a plugin that fails to load stops the server)");
  app.add_option("--grace-ms", flags.grace_ms,
                 "On SIGTERM/SIGINT: how long running calls may finish before they are cancelled")
      ->capture_default_str();
  app.add_option("--max-message-bytes", flags.max_message_bytes,
                 "Largest request or response message")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{4096}, uint32_t{1} << 30));
  CLI::Option* config_option =
      app.add_option("--config", flags.config_path,
                     "TOML file of server settings and command callables (README: Configuration "
                     "file); a flag given on the command line overrides the file's value")
          ->type_name("FILE");
  std::string check_path;
  app.add_option("--check-config", check_path,
                 "Validate this config file: print every error, or a summary; start nothing")
      ->type_name("FILE")
      ->excludes(config_option);
  CLI11_PARSE(app, argc, argv);
  if (!check_path.empty()) return pprocd::CheckConfig(check_path);
  pprocd::ServerConfig config;
  if (!flags.config_path.empty()) {
    absl::StatusOr<pprocd::ServerConfig> loaded = pprocd::LoadConfig(flags.config_path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
      return 1;
    }
    config = *std::move(loaded);
    pprocd::ApplyConfig(config, app, &flags);
  }
  return pprocd::Serve(flags, config);
}
