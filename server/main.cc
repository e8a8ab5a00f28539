// pprocd: the process farm server. This file reads the command line (and
// the config file it names), answers --check-config, starts a Server
// (server/app/server.h) and turns how it ended into the exit code.
//
// One server per --state-dir: it holds STATE_DIR/pprocd.pid (server/
// pidfile.h) from start to exit and writes its pid there once ready. The
// template and the workers show as pprocd-template and pprocd-worker
// (base/process_title.h), so `pidof pprocd` finds only the server.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/log/log.h"
#include "base/process_title.h"
#include "base/status_macros.h"
#include "pprocd/version.h"
#include "server/app/callables.h"
#include "server/app/server.h"
#include "server/config/config.h"
#include "server/default_paths.h"
#include "server/settings/settings_cli.h"
#include "server/settings/settings_table.h"
#include "worker/builtins.h"
#include "worker/template_process.h"

namespace pprocd {
namespace {

// What the command line (and the config file it names) asks for.
struct CommandLine {
  Settings settings;
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

// Sets the process's log as `values` ask (both checked when parsed).
void ConfigureLogFrom(const ServerSettings& values) {
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;
  ParseLogFormat(values.log_format, &format);
  ParseLogLevel(values.log_level, &level);
  ConfigureLog(format, level);
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

// Fills in what neither the command line nor the config file set: the
// listen address and the state directory (server/default_paths.h).
absl::Status ApplyDefaults(ServerSettings* values) {
  if (values->listen.empty()) {
    absl::StatusOr<std::string> listen = DefaultListenAddress();
    if (!listen.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("pprocd: ", listen.status().message()));
    }
    values->listen.push_back(*std::move(listen));
  }
  if (values->state_dir.empty()) {
    absl::StatusOr<std::string> state_dir = DefaultStateDir();
    if (!state_dir.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("pprocd: ", state_dir.status().message()));
    }
    values->state_dir = *std::move(state_dir);
  }
  return absl::OkStatus();
}

// Parses the command line `args` and loads the config file it names. Prints
// CLI11's help or errors unless `quiet`; an error status carries the exit
// code's reason (the --help request is a Cancelled status, exit code 0).
absl::StatusOr<CommandLine> ParseCommandLine(std::vector<std::string> args, bool quiet) {
  CommandLine command_line;
  Settings& settings = command_line.settings;
  settings.args = args;
  CLI::App app{"pprocd: a pool of worker processes serving registered callables over gRPC"};
  app.set_version_flag("--version", absl::StrCat("pprocd ", kVersion));
  AddSettingOptions(&app, &settings.values);
  CLI::Option* config_option =
      app.add_option("--config", settings.config_path,
                     "TOML file of server settings and command callables (README: Configuration "
                     "file); a flag given on the command line overrides the file's value")
          ->type_name("FILE");
  app.add_option("--check-config", command_line.check_path,
                 "Validate this config file: print every error, or a summary; start nothing")
      ->type_name("FILE")
      ->excludes(config_option);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& error) {
    if (!quiet) app.exit(error);
    // Aborted: a command-line error, already shown unless `quiet`.
    return error.get_exit_code() == 0 ? absl::CancelledError("help shown")
                                      : absl::AbortedError(error.what());
  }
  if (!command_line.check_path.empty()) return command_line;
  if (!settings.config_path.empty()) {
    absl::StatusOr<ServerConfig> loaded = LoadConfig(settings.config_path);
    if (!loaded.ok()) return loaded.status();
    settings.config = *std::move(loaded);
    MergeFileSettings(
        settings.config,
        [&app](const Setting& setting) { return GivenOnCommandLine(app, setting); },
        &settings.values);
  }
  // Also on a reload: the config file's log settings take effect then.
  ConfigureLogFrom(settings.values);
  PPROCD_RETURN_IF_ERROR(ApplyDefaults(&settings.values));
  // On SIGHUP: the same command line and config file, read again.
  settings.reload_callables = [args]() -> absl::StatusOr<std::shared_ptr<Registry>> {
    absl::StatusOr<CommandLine> again = ParseCommandLine(args, /*quiet=*/true);
    if (!again.ok()) return again.status();
    const Settings& reread = again->settings;
    return BuildRegistry(reread.values.plugins, reread.config_path, reread.config,
                         /*probe_plugins=*/false);
  };
  return command_line;
}

// The process of a template started by a reload: argv is kServeAsTemplate,
// the server's pid, then the server's arguments.
[[noreturn]] void ServeAsTemplate(int argc, char** argv) {
  const pid_t server = static_cast<pid_t>(std::strtol(argv[2], nullptr, 10));
  std::vector<std::string> args = {argv[0]};
  args.insert(args.end(), argv + 3, argv + argc);
  // From here on argv's memory holds the title, not the arguments.
  SetProcessTitle("pprocd-template");
  absl::StatusOr<CommandLine> command_line = ParseCommandLine(args, /*quiet=*/true);
  absl::StatusOr<std::shared_ptr<Registry>> registry =
      command_line.ok()
          ? BuildRegistry(command_line->settings.values.plugins, command_line->settings.config_path,
                          command_line->settings.config,
                          /*probe_plugins=*/true)
          : absl::StatusOr<std::shared_ptr<Registry>>(command_line.status());
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
  absl::StatusOr<pprocd::CommandLine> command_line =
      pprocd::ParseCommandLine(std::vector<std::string>(argv, argv + argc), /*quiet=*/false);
  if (!command_line.ok()) {
    if (absl::IsCancelled(command_line.status())) return 0;
    if (!absl::IsAborted(command_line.status())) {
      std::fprintf(stderr, "%s\n", std::string(command_line.status().message()).c_str());
    }
    return 1;
  }
  if (!command_line->check_path.empty()) return pprocd::CheckConfig(command_line->check_path);
  absl::StatusOr<std::unique_ptr<pprocd::Server>> server =
      pprocd::Server::Start(std::move(command_line->settings));
  if (!server.ok()) return pprocd::Fail(std::string(server.status().message()));
  const pprocd::StopReason why = (*server)->Wait();
  return (*server)->Stop(why);
}
