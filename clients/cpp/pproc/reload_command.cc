// pproc reload: asks the server to load its callables again, the way
// `systemctl reload pprocd` does, by sending it SIGHUP. The server is the
// process that holds STATE_DIR/pprocd.pid (server/pidfile.h): the lock,
// not the pid written in a file that may be stale, names it.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "pproc/commands.h"
#include "server/default_paths.h"
#include "server/pidfile.h"

namespace pprocd::pproc {
namespace {

struct ReloadFlags {
  // --state-dir; empty: the server's default (DefaultStateDir()).
  std::string state_dir;
  bool wait = false;
  uint32_t wait_seconds = 60;
};

// Polls `client`'s GetStatus until callable_reloads passes `before`.
absl::Status WaitForReload(const client::Client& client, uint64_t before, absl::Duration limit) {
  const absl::Time deadline = absl::Now() + limit;
  while (true) {
    absl::StatusOr<v1::GetStatusResponse> status = client.GetStatus();
    if (!status.ok()) return status.status();
    if (status->callable_reloads() > before) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no reload took effect within ", absl::FormatDuration(limit),
          ": a reload that fails keeps the current callables, and the server's log says why"));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

int RunReload(const GlobalFlags& globals, const ReloadFlags& flags) {
  std::unique_ptr<client::Client> client;
  uint64_t reloads_before = 0;
  if (flags.wait) {
    absl::StatusOr<std::unique_ptr<client::Client>> made = MakeClient(globals);
    if (!made.ok()) return ReportError(made.status());
    client = *std::move(made);
    absl::StatusOr<v1::GetStatusResponse> status = client->GetStatus();
    if (!status.ok()) return ReportError(status.status());
    reloads_before = status->callable_reloads();
  }
  std::string state_dir = flags.state_dir;
  if (state_dir.empty()) {
    absl::StatusOr<std::string> by_default = DefaultStateDir();
    if (!by_default.ok()) return ReportError(by_default.status());
    state_dir = *std::move(by_default);
  }
  absl::StatusOr<pid_t> server = ReadServerPid(state_dir);
  if (!server.ok()) return ReportError(server.status());
  if (::kill(*server, SIGHUP) != 0) {
    return ReportError(
        ErrnoStatus(errno, absl::StrCat("send SIGHUP to pprocd (pid ", *server, ")")));
  }
  std::printf("pproc: sent SIGHUP to pprocd (pid %d, from %s/%s): it loads its callables again\n",
              static_cast<int>(*server), state_dir.c_str(), kPidfileName);
  std::fflush(stdout);
  if (!flags.wait) return kExitOk;
  if (absl::Status waited =
          WaitForReload(*client, reloads_before, absl::Seconds(flags.wait_seconds));
      !waited.ok()) {
    return ReportError(waited);
  }
  absl::StatusOr<v1::ListCallablesResponse> callables = client->ListCallables();
  if (!callables.ok()) return ReportError(callables.status());
  std::printf("pproc: reloaded: %d callables; new work uses them\n", callables->callables_size());
  return kExitOk;
}

}  // namespace

void AddReloadCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand(
      "reload",
      "Ask the server to load its callables again (its command line and config file), as "
      "SIGHUP does: sends SIGHUP to the server that holds STATE_DIR/pprocd.pid");
  auto flags = std::make_shared<ReloadFlags>();
  command->add_option("--state-dir", flags->state_dir,
                      "The server's --state-dir, where its pidfile is (default: the server's, "
                      "$XDG_STATE_HOME/pprocd, else ~/.local/state/pprocd)");
  command->add_flag("--wait", flags->wait,
                    "Then wait (through --address) until the server reports that the reload "
                    "took effect; exit status 2 if none did in --wait-seconds");
  command->add_option("--wait-seconds", flags->wait_seconds, "How long --wait waits")
      ->capture_default_str();
  command->callback([&globals, exit_code, flags] { *exit_code = RunReload(globals, *flags); });
}

}  // namespace pprocd::pproc
