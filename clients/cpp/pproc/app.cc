#include "pproc/app.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "pproc/commands.h"
#include "pproc/common.h"
#include "pprocd/client/address.h"
#include "pprocd/client/version.h"

namespace pprocd::pproc {

std::vector<std::string> KeepListsWhole(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() >= 2 && arg.front() == '[' && arg.back() == ']') {
      arg.push_back(' ');
    }
    args.push_back(std::move(arg));
  }
  return args;
}

int RunPproc(int argc, const char* const* argv) {
  CLI::App app(
      "pproc: command-line client for pprocd, a local process farm that runs "
      "registered callables in a pool of worker processes.",
      "pproc");
  app.footer(R"(
Examples:
  pproc callables
  pproc map fib 1..30
  pproc queue fib 25 30 35
  seq 100 | pproc map fib - > out.jsonl
  pproc map calculate '[1, 2]' '{"i": 3, "j": 4}'
  pproc map chaos '"crash"' '"ok"'
  pproc status
  pproc top
  pproc submit --name squares square 1..1000
  pproc attach squares
  pproc jobs --state running
  pproc cancel squares && pproc rm squares
  pproc reload --state-dir /var/lib/pprocd --wait

Run 'pproc COMMAND --help' for a command's options and output format.)");
  app.set_version_flag("--version", std::string("pproc ") + client::kVersion);
  app.require_subcommand(1);
  // Global options may also follow the subcommand: pproc map f 1 --address A.
  app.fallthrough();

  GlobalFlags globals;
  app.add_option("--address", globals.address,
                 "Server address: unix:PATH, a socket path, tcp:HOST:PORT or "
                 "HOST:PORT (default: $PPROCD_ADDRESS, else the first that exists of the "
                 "per-user socket " +
                     client::UserSocketPath() + " and the system socket " +
                     client::kSystemSocketPath + ")");
  app.add_flag("--value-form", globals.value_form,
               "Send and receive items as one protobuf Value each (as grpcurl does) "
               "instead of in the packed form; the output is the same");

  int exit_code = kExitOk;
  AddCallablesCommand(app, globals, &exit_code);
  AddRunCommands(app, globals, &exit_code);
  AddStatusCommand(app, globals, &exit_code);
  AddTopCommand(app, globals, &exit_code);
  AddJobCommands(app, globals, &exit_code);
  AddReloadCommand(app, globals, &exit_code);

  // CLI11 takes the arguments last first.
  std::vector<std::string> args = KeepListsWhole(argc, argv);
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& error) {
    // CLI11 reports usage errors, and --help, with exceptions.
    int status = app.exit(error);
    return status == 0 ? kExitOk : kExitError;
  }
  return exit_code;
}

}  // namespace pprocd::pproc
