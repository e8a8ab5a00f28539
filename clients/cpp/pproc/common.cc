#include "pproc/common.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "pprocd/client/address.h"

namespace pprocd::pproc {

int ReportError(const absl::Status& status) {
  std::string line = absl::StrCat("pproc: ", absl::StatusCodeToString(status.code()), ": ",
                                  status.message(), "\n");
  std::fputs(line.c_str(), stderr);
  return kExitError;
}

absl::StatusOr<std::unique_ptr<client::Client>> MakeClient(const GlobalFlags& flags) {
  absl::StatusOr<std::string> target = client::ResolveAddress(flags.address);
  if (!target.ok()) return target.status();
  return std::make_unique<client::Client>(*std::move(target));
}

}  // namespace pprocd::pproc
