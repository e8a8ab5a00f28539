// libFuzzer target: the config file reader (server/config/*: toml++ and our
// reading of its document).
//
// The input is the text of a config file, parsed as if it were
// /etc/pprocd/pprocd.toml. Checked:
// - every error names the file, says something, and errors come in file
//   order; parsing the same text twice gives the same errors;
// - a file without errors gives what the server relies on: commands with a
//   name and a program, one line each, names unique; paths resolved against
//   the file's directory; parameter defaults of their parameter's type;
// - its callables are then added to a registry after the built-ins, as the
//   server adds them (a refusal is an error for the user, not a crash), and
//   every callable's ListCallables description serializes to a message
//   that a client can parse (valid UTF-8 everywhere).
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "pprocd/v1/callable.pb.h"
#include "server/config/config.h"
#include "tests/fuzz/fuzz_check.h"
#include "worker/builtins.h"
#include "worker/command_callable.h"
#include "worker/registry.h"

namespace pprocd {
namespace {

constexpr char kFile[] = "/etc/pprocd/pprocd.toml";
constexpr char kBaseDir[] = "/etc/pprocd";

std::vector<std::string> Describe(const std::vector<ConfigError>& errors) {
  std::vector<std::string> lines;
  for (const ConfigError& error : errors) lines.push_back(error.ToString());
  return lines;
}

void CheckErrors(const std::vector<ConfigError>& errors) {
  for (size_t i = 0; i < errors.size(); ++i) {
    const ConfigError& error = errors[i];
    FUZZ_CHECK(error.file == kFile, "an error names its file");
    FUZZ_CHECK(!error.message.empty(), "an error says what is wrong");
    FUZZ_CHECK(error.line >= 0 && error.column >= 0, "a position of an error");
    FUZZ_CHECK(absl::StartsWith(error.ToString(), kFile), "an error as the user sees it");
    if (i > 0) {
      const ConfigError& before = errors[i - 1];
      FUZZ_CHECK(
          std::make_pair(before.line, before.column) <= std::make_pair(error.line, error.column),
          "errors in file order");
    }
  }
}

void CheckResolved(const std::string& path, const char* what) {
  FUZZ_CHECK(!path.empty() && path.front() == '/', what);
}

void CheckConfig(const ServerConfig& config) {
  FUZZ_CHECK(config.commands.size() == config.command_lines.size(), "a line per command");
  std::set<std::string> names;
  for (size_t i = 0; i < config.commands.size(); ++i) {
    const CommandSpec& spec = config.commands[i];
    FUZZ_CHECK(!spec.name.empty(), "a command has a name");
    FUZZ_CHECK(names.insert(spec.name).second, "command names are unique");
    FUZZ_CHECK(!spec.argv.empty() && !spec.argv.front().empty(), "a command has a program");
    FUZZ_CHECK(config.command_lines[i] > 0, "a command's line");
    if (!spec.working_dir.empty()) CheckResolved(spec.working_dir, "working_dir resolved");
    for (const ParamSpec& param : spec.params) {
      FUZZ_CHECK(!param.name.empty(), "a parameter has a name");
      if (param.default_value.has_value()) {
        FUZZ_CHECK(ValueMatchesType(param.type, *param.default_value), "a default of its type");
      }
    }
  }
  if (config.state_dir.has_value()) CheckResolved(*config.state_dir, "state_dir resolved");
  if (config.plugins.has_value()) {
    for (const std::string& plugin : *config.plugins) {
      CheckResolved(plugin, "a plugin's path resolved");
    }
  }
  if (config.listen.has_value()) {
    FUZZ_CHECK(!config.listen->empty(), "listen names an address");
    for (const std::string& address : *config.listen) {
      if (absl::StartsWith(address, "unix:") && !absl::StartsWith(address, "unix://") &&
          !absl::StartsWith(address, "unix-abstract:")) {
        CheckResolved(address.substr(5), "a unix: path resolved");
      }
    }
  }
  for (const ServerConfig::NamedLimits& limits : config.limits) {
    FUZZ_CHECK(limits.line > 0, "a limits table's line");
  }
}

// The server's registry for `config`: built-ins, then its callables and
// limits. Every callable's description must reach a client intact.
void CheckRegistry(const ServerConfig& config) {
  Registry registry;
  FUZZ_CHECK(RegisterBuiltins(&registry).ok(), "built-in callables");
  for (const CommandSpec& spec : config.commands) {
    absl::StatusOr<CallableDef> def = MakeCommandCallable(spec);
    if (!def.ok()) {
      FUZZ_CHECK(def.status().code() == absl::StatusCode::kInvalidArgument,
                 "MakeCommandCallable's code");
      continue;
    }
    if (registry.Find(spec.name) != nullptr) continue;  // Refused: the name is taken.
    FUZZ_CHECK(registry.Add(*std::move(def)).ok(), "a new command callable is added");
  }
  for (const ServerConfig::NamedLimits& named : config.limits) {
    const absl::Status set = registry.SetLimits(named.callable, named.limits);
    FUZZ_CHECK(set.ok() || set.code() == absl::StatusCode::kNotFound, "SetLimits' code");
  }
  for (const CallableDef* def : registry.All()) {
    const v1::Callable described = pprocd::Describe(*def);
    std::string bytes;
    FUZZ_CHECK(described.SerializeToString(&bytes), "a description serializes");
    v1::Callable parsed;
    FUZZ_CHECK(parsed.ParseFromString(bytes), "a client parses a description");
  }
}

}  // namespace
}  // namespace pprocd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pprocd;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ServerConfig config;
  const std::vector<ConfigError> errors = ParseConfig(text, kFile, kBaseDir, &config);
  CheckErrors(errors);
  ServerConfig again;
  FUZZ_CHECK(Describe(ParseConfig(text, kFile, kBaseDir, &again)) == Describe(errors),
             "the same errors every time");
  if (!errors.empty()) return 0;
  CheckConfig(config);
  CheckRegistry(config);
  return 0;
}
