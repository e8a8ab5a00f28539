// pproc's subcommands. Each Add*Command registers one CLI11 subcommand on
// `app`; when the command line selects it, it runs during parsing and
// stores its exit status in `*exit_code`. `globals` and `exit_code` must
// outlive parsing.
//
// Thread-safety: call from main's thread.
#ifndef PPROCD_CLIENTS_CPP_PPROC_COMMANDS_H_
#define PPROCD_CLIENTS_CPP_PPROC_COMMANDS_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
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
// Background jobs:
//   pproc submit CALLABLE ITEM... [--name N] [--key K] [--retries R]
//                [--retry-backoff-ms MS] [--unordered] [--limit N]
//                [--chunksize N] [--timeout-ms N] [--fresh] [--socket PATH]
//                [--attach] [--stats]
//   pproc jobs [--state STATE] [--name N] [--all] [--json]
//   pproc attach JOB... [--after-seq N] [--stats]
//   pproc cancel JOB...
//   pproc rm JOB... [--force]
void AddJobCommands(CLI::App& app, const GlobalFlags& globals, int* exit_code);
// pproc top [--once]
void AddTopCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code);
// pproc reload [--state-dir DIR] [--wait] [--wait-seconds N]
void AddReloadCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code);

// One line of `pproc callables`:
//   name(param:type[=default], ...) — description
// A channel callable gets " [channel]" after the parentheses.
std::string FormatCallable(const v1::Callable& callable);

// `pproc status`: one "field_name: value" line per field, in field order,
// zeros included.
std::string FormatStatus(const v1::GetStatusResponse& status);

// "SUCCEEDED" for JOB_STATE_SUCCEEDED.
std::string JobStateName(v1::JobState state);

// Parses a --state value: a JobState name, with or without "JOB_STATE_", in
// any case ("succeeded"). INVALID_ARGUMENT listing the states otherwise
// (UNSPECIFIED included).
absl::StatusOr<v1::JobState> ParseJobState(absl::string_view text);

// One line for a job, as `pproc cancel` prints it and `pproc attach` ends:
//   ID (NAME) STATE, DONE/TOTAL items[: ERROR]
// " (NAME)" only for a named job; only the error's first line.
std::string FormatJobSummary(const v1::Job& job);

// `pproc jobs`' table: a header, then one line per job, columns
// ID NAME STATE DONE/TOTAL CALLABLE CREATED ENDED ERROR, left-aligned and
// two spaces apart; times as "YYYY-MM-DD HH:MM:SS" in `zone`; '-' for an
// empty field; only the error's first line.
std::string FormatJobsTable(const std::vector<v1::Job>& jobs, absl::TimeZone zone);

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_COMMANDS_H_
