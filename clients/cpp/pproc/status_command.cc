#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "pproc/commands.h"

namespace pprocd::pproc {
namespace {

int RunStatus(const GlobalFlags& globals, bool json) {
  return FetchAndPrint<v1::GetStatusResponse>(
      globals, json, [](const client::Client& client) { return client.GetStatus(); },
      [](const v1::GetStatusResponse& response) { return FormatStatus(response); });
}

}  // namespace

std::string FormatStatus(const v1::GetStatusResponse& status) {
  // Reflection, so fields added to the proto show up without a change here.
  // GetStatusResponse has only integer fields.
  const google::protobuf::Descriptor* descriptor = status.GetDescriptor();
  const google::protobuf::Reflection* reflection = status.GetReflection();
  std::string out;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated()) continue;
    std::string value;
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
        value = absl::StrCat(reflection->GetUInt32(status, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        value = absl::StrCat(reflection->GetUInt64(status, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
        value = absl::StrCat(reflection->GetInt32(status, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        value = absl::StrCat(reflection->GetInt64(status, field));
        break;
      default:
        continue;
    }
    absl::StrAppend(&out, field->name(), ": ", value, "\n");
  }
  return out;
}

void AddStatusCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command =
      app.add_subcommand("status",
                         "Show the server's pool and queue counters, one 'name: value' per "
                         "line");
  auto json = std::make_shared<bool>(false);
  command->add_flag("--json", *json,
                    "Print the GetStatus response as JSON instead (64-bit "
                    "counters are strings, per the proto3 JSON mapping)");
  command->callback([&globals, exit_code, json] { *exit_code = RunStatus(globals, *json); });
}

}  // namespace pprocd::pproc
