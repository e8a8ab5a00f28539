#include "pproc/common.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "pprocd/client/address.h"

namespace pprocd::pproc {

int ReportError(const absl::Status& status) {
  std::string line = absl::StrCat("pproc: ", absl::StatusCodeToString(status.code()), ": ",
                                  status.message(), "\n");
  std::fputs(line.c_str(), stderr);
  return kExitError;
}

absl::StatusOr<std::unique_ptr<client::Client>> MakeClient(const GlobalFlags& flags) {
  absl::StatusOr<client::Located> located = client::LocateServer(flags.address);
  if (!located.ok()) return located.status();
  client::ClientOptions options;
  options.packed = !flags.value_form;
  options.no_server_hint = std::move(located->no_server_hint);
  return std::make_unique<client::Client>(std::move(located->target), options);
}

absl::Status AppendMessageJson(const google::protobuf::Message& message, std::string* out) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print the response as JSON: ", status.message().ToString()));
  }
  absl::StrAppend(out, json, "\n");
  return absl::OkStatus();
}

}  // namespace pprocd::pproc
