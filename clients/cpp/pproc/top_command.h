// `pproc top`: the server's workers, calls, jobs and recent failures in the
// terminal, redrawn every second until q (or Ctrl-C). FormatTop is the
// screen's text, pure, for tests.
#ifndef PPROCD_CLIENTS_CPP_PPROC_TOP_COMMAND_H_
#define PPROCD_CLIENTS_CPP_PPROC_TOP_COMMAND_H_

#include <string>
#include <vector>

#include "pprocd/v1/service.pb.h"

namespace pprocd::pproc {

// The screen for `status` and `jobs` (newest first), at most `rows` lines
// of `columns` characters (longer lines are cut).
std::string FormatTop(const v1::GetStatusResponse& status, const std::vector<v1::Job>& jobs,
                      int rows, int columns);

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_TOP_COMMAND_H_
