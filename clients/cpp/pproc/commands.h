// pproc's subcommands. Each Add*Command registers one CLI11 subcommand on
// `app`; when the command line selects it, it runs during parsing and
// stores its exit status in `*exit_code`. `globals` and `exit_code` must
// outlive parsing.
//
// Thread-safety: call from main's thread.
#ifndef PPROCD_CLIENTS_CPP_PPROC_COMMANDS_H_
#define PPROCD_CLIENTS_CPP_PPROC_COMMANDS_H_

#include <string>

#include "CLI/CLI.hpp"
#include "pproc/common.h"
#include "pprocd/v1/callable.pb.h"
#include "pprocd/v1/service.pb.h"

namespace pprocd::pproc {

// pproc callables [--json]
void AddCallablesCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code);
// pproc status [--json]
void AddStatusCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code);
// pproc map|queue NAME ITEM... [--limit N] [--chunksize N] [--timeout-ms N]
//                              [--fresh] [--stats]
void AddRunCommands(CLI::App& app, const GlobalFlags& globals, int* exit_code);

// One line of `pproc callables`:
//   name(param:type[=default], ...) — description
// A channel callable gets " [channel]" after the parentheses.
std::string FormatCallable(const v1::Callable& callable);

// `pproc status`: one "field_name: value" line per field, in field order,
// zeros included.
std::string FormatStatus(const v1::GetStatusResponse& status);

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_COMMANDS_H_
