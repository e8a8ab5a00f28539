// pproc's command line: builds the CLI11 application, parses `argv` and runs
// the chosen subcommand.
//
// Thread-safety: call from one thread at a time (it writes stdout/stderr).
#ifndef PPROCD_CLIENTS_CPP_PPROC_APP_H_
#define PPROCD_CLIENTS_CPP_PPROC_APP_H_

#include <string>
#include <vector>

namespace pprocd::pproc {

// Runs pproc with `argv` (argv[0] is the program name) and returns its exit
// status (see common.h). Prints results on stdout, errors on stderr.
int RunPproc(int argc, const char* const* argv);

// Returns the arguments after argv[0], each one that is a bracketed list
// ('[...]') given one trailing space. CLI11 2.1 splits such an argument of a
// multi-value option at its commas (Option::_add_result), which would cut a
// JSON list ITEM like '[2, 10]' into "2" and " 10"; JSON ignores the space.
std::vector<std::string> KeepListsWhole(int argc, const char* const* argv);

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_APP_H_
