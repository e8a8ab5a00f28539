#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "pproc/commands.h"
#include "pprocd/client/json.h"

namespace pprocd::pproc {
namespace {

// "integer" for PARAMETER_TYPE_INTEGER; empty when unspecified.
std::string TypeName(v1::ParameterType type) {
  if (type == v1::PARAMETER_TYPE_UNSPECIFIED) return "";
  absl::string_view name = v1::ParameterType_Name(type);
  if (name.empty()) return absl::StrCat(static_cast<int>(type));
  absl::ConsumePrefix(&name, "PARAMETER_TYPE_");
  return absl::AsciiStrToLower(name);
}

std::string FormatParameter(const v1::Parameter& parameter) {
  std::string text = parameter.name();
  std::string type = TypeName(parameter.type());
  if (!type.empty()) absl::StrAppend(&text, ":", type);
  if (parameter.has_default_value()) {
    absl::StrAppend(&text, "=", client::ValueToJson(parameter.default_value()));
  }
  return text;
}

int RunCallables(const GlobalFlags& globals, bool json) {
  return FetchAndPrint<v1::ListCallablesResponse>(
      globals, json, [](const client::Client& client) { return client.ListCallables(); },
      [](const v1::ListCallablesResponse& response) {
        std::string out;
        for (const v1::Callable& callable : response.callables()) {
          absl::StrAppend(&out, FormatCallable(callable), "\n");
        }
        return out;
      });
}

}  // namespace

std::string FormatCallable(const v1::Callable& callable) {
  std::vector<std::string> parameters;
  for (const v1::Parameter& parameter : callable.parameters()) {
    parameters.push_back(FormatParameter(parameter));
  }
  std::string line = absl::StrCat(callable.name(), "(", absl::StrJoin(parameters, ", "), ")");
  if (callable.kind() == v1::CALLABLE_KIND_CHANNEL) {
    absl::StrAppend(&line, " [channel]");
  }
  // Only the first line of a long description fits on this line.
  absl::string_view description = callable.description();
  description = absl::StripAsciiWhitespace(description.substr(0, description.find('\n')));
  if (!description.empty()) absl::StrAppend(&line, " — ", description);
  return line;
}

void AddCallablesCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand("callables",
                                         "List the callables the server can run, one per line:\n"
                                         "  name(param:type[=default], ...) — description");
  auto json = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "Print the ListCallables response as JSON instead");
  command->callback([&globals, exit_code, json] { *exit_code = RunCallables(globals, *json); });
}

}  // namespace pprocd::pproc
