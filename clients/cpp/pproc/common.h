// What pproc's subcommands share: exit statuses, the global flags, error
// reporting and connecting to the server.
//
// Thread-safety: call from main's thread.
#ifndef PPROCD_CLIENTS_CPP_PPROC_COMMON_H_
#define PPROCD_CLIENTS_CPP_PPROC_COMMON_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "pprocd/client/client.h"

namespace pprocd::pproc {

// Exit statuses.
inline constexpr int kExitOk = 0;
// map/queue: the call completed but at least one item failed.
inline constexpr int kExitItemFailed = 1;
// The RPC failed, or the command line or an input was invalid.
inline constexpr int kExitError = 2;
// (kExitInterrupted = 130 is in interrupt.h.)
// stdout's reader went away (`pproc ... | head`), as after SIGPIPE.
inline constexpr int kExitBrokenPipe = 141;

// Flags every subcommand sees.
struct GlobalFlags {
  // --address; empty means $PPROCD_ADDRESS, then the per-user socket,
  // then the system socket (client::LocateServer).
  std::string address;
  // --value-form: items cross the wire as one google.protobuf.Value each
  // instead of the packed form (the output is the same).
  bool value_form = false;
};

// Prints "pproc: <CODE>: <message>" on stderr and returns kExitError.
int ReportError(const absl::Status& status);

// Finds the server (client::LocateServer) and makes a client whose
// UNAVAILABLE errors say where it looked.
absl::StatusOr<std::unique_ptr<client::Client>> MakeClient(const GlobalFlags& flags);

// Appends `message` in the canonical proto3 JSON mapping (field names as in
// the .proto, every field printed) and a newline to `out`.
absl::Status AppendMessageJson(const google::protobuf::Message& message, std::string* out);

// The body of a one-RPC command: connects, fetches the response with
// `fetch`, and prints it as JSON (`json`) or with `format`. Returns the exit
// status.
template <typename Response, typename Fetch, typename Format>
int FetchAndPrint(const GlobalFlags& globals, bool json, Fetch fetch, Format format) {
  absl::StatusOr<std::unique_ptr<client::Client>> client = MakeClient(globals);
  if (!client.ok()) return ReportError(client.status());
  absl::StatusOr<Response> response = fetch(**client);
  if (!response.ok()) return ReportError(response.status());
  std::string out;
  if (json) {
    if (absl::Status printed = AppendMessageJson(*response, &out); !printed.ok()) {
      return ReportError(printed);
    }
  } else {
    out = format(*response);
  }
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_COMMON_H_
