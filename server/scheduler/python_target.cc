#include "server/scheduler/python_target.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json/json.h"

namespace pprocd {
namespace {

std::string JsonString(const std::string& text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

}  // namespace

std::string PythonTarget::PoolKey() const {
  // NUL never occurs in a path or a module name: the fields cannot run into
  // each other.
  std::string key =
      absl::StrCat(interpreter, std::string(1, '\0'), module, std::string(1, '\0'), module_file);
  for (const std::string& entry : sys_path) absl::StrAppend(&key, std::string(1, '\0'), entry);
  return key;
}

std::string PythonTarget::TaskCallable() const {
  return channel ? absl::StrCat("channel:", qualname) : qualname;
}

std::string PythonTarget::DisplayName() const { return absl::StrCat(module, ":", qualname); }

std::vector<std::string> PythonTarget::TemplateArgv(pid_t server) const {
  std::vector<std::string> quoted;
  quoted.reserve(sys_path.size());
  for (const std::string& entry : sys_path) quoted.push_back(JsonString(entry));
  std::string spec =
      absl::StrCat("{\"module\":", JsonString(module), ",\"module_file\":", JsonString(module_file),
                   ",\"sys_path\":[", absl::StrJoin(quoted, ","), "],\"server_pid\":", server, "}");
  return {interpreter, "-I", "-c", kPythonTemplateBootstrap, std::move(spec)};
}

}  // namespace pprocd
