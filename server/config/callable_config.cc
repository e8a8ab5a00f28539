#include "server/config/callable_config.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "worker/registry.h"

namespace pprocd::config_internal {
namespace {

using google::protobuf::Value;

// TOML names of the parameter types, as the file spells them.
const std::vector<std::pair<std::string, v1::ParameterType>>& ParameterTypes() {
  static const auto* types = new std::vector<std::pair<std::string, v1::ParameterType>>{
      {"any", v1::PARAMETER_TYPE_ANY},         {"integer", v1::PARAMETER_TYPE_INTEGER},
      {"number", v1::PARAMETER_TYPE_NUMBER},   {"string", v1::PARAMETER_TYPE_STRING},
      {"boolean", v1::PARAMETER_TYPE_BOOLEAN}, {"list", v1::PARAMETER_TYPE_LIST},
      {"struct", v1::PARAMETER_TYPE_STRUCT}};
  return *types;
}

// A required, non-empty string key; reported when missing or empty.
std::optional<std::string> RequiredName(TableReader& reader, std::string_view key,
                                        std::string_view what, ErrorList* errors) {
  const toml::node* node = reader.Find(key);
  if (node == nullptr) {
    errors->Add(reader.source(), absl::StrCat(reader.KeyPath(key), " is missing: every ",
                                              Abseil(what), " needs a ", Abseil(key)));
    return std::nullopt;
  }
  std::optional<std::string> name = reader.String(key);
  if (name.has_value() && name->empty()) {
    errors->Add(node->source(), absl::StrCat(reader.KeyPath(key), " must not be empty"));
    return std::nullopt;
  }
  return name;
}

// One of `choices` (TOML spelling → value) at `key`, or nullopt (reported
// unless absent).
template <typename T>
std::optional<T> Choice(TableReader& reader, std::string_view key,
                        const std::vector<std::pair<std::string, T>>& choices, ErrorList* errors) {
  std::optional<std::string> text = reader.String(key);
  if (!text.has_value()) return std::nullopt;
  std::string expected;
  for (const auto& [spelling, value] : choices) {
    if (*text == spelling) return value;
    absl::StrAppend(&expected, expected.empty() ? "" : ", ", "\"", spelling, "\"");
  }
  errors->Add(reader.Find(key)->source(), absl::StrCat(reader.KeyPath(key), " must be one of ",
                                                       expected, ", not \"", *text, "\""));
  return std::nullopt;
}

void ReadParam(const toml::table& table, const std::string& path, ErrorList* errors,
               ParamSpec* param) {
  TableReader reader(table, path, errors);
  param->name = RequiredName(reader, "name", "parameter", errors).value_or("");
  param->type = Choice(reader, "type", ParameterTypes(), errors).value_or(v1::PARAMETER_TYPE_ANY);
  param->description = reader.String("description").value_or("");
  if (const toml::node* node = reader.Find("default")) {
    param->default_value = ToValue(*node, reader.KeyPath("default"), errors);
    if (param->default_value.has_value() && !ValueMatchesType(param->type, *param->default_value)) {
      std::string type_name;
      for (const auto& [spelling, type] : ParameterTypes()) {
        if (type == param->type) type_name = spelling;
      }
      errors->Add(node->source(),
                  absl::StrCat(reader.KeyPath("default"), " must be of type ", type_name,
                               " (the parameter's type), not ", DescribeType(*node)));
    }
  }
  reader.ReportUnknownKeys();
}

void ReadParams(TableReader& reader, ErrorList* errors, CommandSpec* spec) {
  const toml::array* params = reader.Array("params");
  if (params == nullptr) return;
  std::map<std::string, int> lines;
  for (size_t i = 0; i < params->size(); ++i) {
    const toml::node& element = *params->get(i);
    const std::string path = absl::StrCat(reader.KeyPath("params"), "[", i, "]");
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      errors->Add(element.source(),
                  absl::StrCat(path,
                               " must be a table such as { name = \"x\", type = \"string\" "
                               "}, not ",
                               DescribeType(element)));
      continue;
    }
    ParamSpec param;
    ReadParam(*table, path, errors, &param);
    const int line = static_cast<int>(table->source().begin.line);
    if (!param.name.empty() && !lines.emplace(param.name, line).second) {
      errors->Add(table->source(),
                  absl::StrCat(path, ": parameter ", param.name,
                               " is declared twice (first on line ", lines[param.name], ")"));
    }
    spec->params.push_back(std::move(param));
  }
}

void ReadEnv(TableReader& reader, ErrorList* errors, CommandSpec* spec) {
  const toml::table* env = reader.Table("env");
  if (env == nullptr) return;
  for (const auto& [key, node] : *env) {
    const std::string path = absl::StrCat(reader.KeyPath("env"), ".", Abseil(key.str()));
    if (key.str().empty() || key.str().find('=') != std::string_view::npos) {
      errors->Add(key.source(), absl::StrCat(path,
                                             ": an environment variable's name must be "
                                             "non-empty and without '='"));
    } else if (const auto* text = node.as_string()) {
      spec->env[std::string(key.str())] = text->get();
    } else {
      errors->Add(node.source(), absl::StrCat(path, " must be a string, not ", DescribeType(node)));
    }
  }
}

// The first executable file called `program` in $PATH ("" when none), or
// `program` itself when it names a path.
std::string FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    std::string candidate = absl::StrCat(dir, "/", program);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// The source file of module `module` (dotted) under one of `path`'s
// directories: a.b is a/b.py or a/b/__init__.py. "" when none has it.
std::string FindModuleFile(const std::string& module, const std::vector<std::string>& path) {
  const std::string relative = absl::StrReplaceAll(module, {{".", "/"}});
  for (const std::string& dir : path) {
    for (const std::string& candidate : {absl::StrCat(dir, "/", relative, ".py"),
                                         absl::StrCat(dir, "/", relative, "/__init__.py")}) {
      struct stat file;
      if (::stat(candidate.c_str(), &file) == 0 && S_ISREG(file.st_mode)) return candidate;
    }
  }
  return "";
}

// A Python callable: python = "module:function" or "file.py:function",
// imported from python_path (relative to the config file; default: its
// directory) by `interpreter` (default python3, looked up in PATH; it must
// have pprocd's Python package). It runs in a forked Python pool.
void ReadPython(TableReader& reader, const std::string& base_dir, ErrorList* errors,
                CommandSpec* spec) {
  for (const char* key : {"argv", "mode", "output", "working_dir", "env"}) {
    if (const toml::node* node = reader.Find(key)) {
      errors->Add(node->source(),
                  absl::StrCat(reader.KeyPath(key), ": a Python callable (python = ...) has none"));
    }
  }
  const std::optional<std::string> target = reader.String("python");
  if (!target.has_value()) return;
  const size_t colon = target->rfind(':');
  const toml::source_region& where = reader.Find("python")->source();
  if (colon == std::string::npos || colon == 0 || colon + 1 == target->size()) {
    errors->Add(where, absl::StrCat(reader.KeyPath("python"),
                                    " must be \"module:function\" or \"file.py:function\", not \"",
                                    *target, "\""));
    return;
  }
  auto python = std::make_shared<PythonTarget>();
  python->qualname = target->substr(colon + 1);
  std::string module = target->substr(0, colon);
  std::vector<std::string> path;
  if (std::optional<std::vector<std::string>> entries = reader.StringList("python_path")) {
    for (const std::string& entry : *entries) path.push_back(ResolvePath(base_dir, entry));
  }
  if (absl::EndsWith(module, ".py")) {
    python->module_file = ResolvePath(base_dir, module);
    const size_t slash = python->module_file.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : python->module_file.substr(0, slash);
    python->module = python->module_file.substr(slash + 1, python->module_file.size() - slash - 4);
    if (path.empty()) path.push_back(dir);
  } else {
    python->module = module;
    if (path.empty()) path.push_back(base_dir.empty() ? "." : base_dir);
    python->module_file = FindModuleFile(module, path);
    if (python->module_file.empty()) {
      errors->Add(where, absl::StrCat(reader.KeyPath("python"), ": module ", module,
                                      " is not in python_path (", absl::StrJoin(path, ", "),
                                      "): add its directory to python_path"));
      return;
    }
  }
  for (std::string& entry : path) {
    char resolved[PATH_MAX];
    if (::realpath(entry.c_str(), resolved) != nullptr) entry = resolved;
  }
  char resolved[PATH_MAX];
  if (::realpath(python->module_file.c_str(), resolved) == nullptr) {
    errors->Add(where, absl::StrCat(reader.KeyPath("python"), ": cannot read ", python->module_file,
                                    ": ", std::strerror(errno)));
    return;
  }
  python->module_file = resolved;
  python->sys_path = std::move(path);
  const std::string interpreter = reader.String("interpreter").value_or("python3");
  python->interpreter =
      FindProgram(interpreter.find('/') == std::string::npos ? interpreter
                                                             : ResolvePath(base_dir, interpreter));
  if (python->interpreter.empty() || ::access(python->interpreter.c_str(), X_OK) != 0) {
    errors->Add(
        reader.Find("interpreter") != nullptr ? reader.Find("interpreter")->source() : where,
        absl::StrCat(reader.KeyPath("interpreter"), ": no program ", interpreter,
                     " (looked up in PATH)"));
    return;
  }
  if (python->interpreter.front() != '/' &&
      ::realpath(python->interpreter.c_str(), resolved) != nullptr) {
    python->interpreter = resolved;
  }
  if (const toml::node* channel = reader.Find("channel")) {
    if (const auto* flag = channel->as_boolean()) {
      python->channel = flag->get();
    } else {
      errors->Add(channel->source(),
                  absl::StrCat(reader.KeyPath("channel"), " must be true or false"));
    }
  }
  spec->python = std::move(python);
}

void ReadCallable(const toml::table& table, const std::string& path, const std::string& base_dir,
                  ErrorList* errors, CommandSpec* spec) {
  TableReader reader(table, path, errors);
  spec->name = RequiredName(reader, "name", "callable", errors).value_or("");
  spec->description = reader.String("description").value_or("");
  if (reader.Find("python") != nullptr) {
    ReadPython(reader, base_dir, errors, spec);
    ReadParams(reader, errors, spec);
    reader.ReportUnknownKeys();
    return;
  }
  if (reader.Find("argv") == nullptr) {
    errors->Add(table.source(), absl::StrCat(reader.KeyPath("argv"),
                                             " is missing: every callable needs a program to "
                                             "run, e.g. argv = [\"wc\", \"-l\"]"));
  } else if (std::optional<std::vector<std::string>> argv = reader.StringList("argv")) {
    if (argv->empty() || argv->front().empty()) {
      errors->Add(reader.Find("argv")->source(),
                  absl::StrCat(reader.KeyPath("argv"), " must start with a program"));
    }
    spec->argv = std::move(*argv);
  }
  if (std::optional<std::string> dir = reader.String("working_dir")) {
    spec->working_dir = dir->empty() ? "" : ResolvePath(base_dir, *dir);
  }
  ReadEnv(reader, errors, spec);
  spec->mode = Choice(reader, "mode",
                      std::vector<std::pair<std::string, CommandSpec::Mode>>{
                          {"per-invocation", CommandSpec::Mode::kPerInvocation},
                          {"persistent", CommandSpec::Mode::kPersistent}},
                      errors)
                   .value_or(CommandSpec::Mode::kPerInvocation);
  spec->output =
      Choice(reader, "output",
             std::vector<std::pair<std::string, CommandSpec::Output>>{
                 {"json", CommandSpec::Output::kJson}, {"bytes", CommandSpec::Output::kBytes}},
             errors)
          .value_or(CommandSpec::Output::kJson);
  ReadParams(reader, errors, spec);
  reader.ReportUnknownKeys();
}

}  // namespace

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (base_dir.empty() || path.empty() || path.front() == '/') return path;
  if (path == ".") return base_dir;
  std::string_view rest = path;
  while (rest.substr(0, 2) == "./") rest.remove_prefix(2);
  return absl::StrCat(base_dir, base_dir.back() == '/' ? "" : "/", Abseil(rest));
}

void ReadCallables(const toml::node& callables, const std::string& base_dir, ErrorList* errors,
                   ServerConfig* config) {
  const toml::array* array = callables.as_array();
  if (array == nullptr) {
    errors->Add(callables.source(),
                absl::StrCat("callable must be an array of tables ([[callable]]), not ",
                             DescribeType(callables)));
    return;
  }
  std::map<std::string, int> lines;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string path = absl::StrCat("callable[", i, "]");
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      errors->Add(element.source(), absl::StrCat(path, " must be a table ([[callable]]), not ",
                                                 DescribeType(element)));
      continue;
    }
    CommandSpec spec;
    ReadCallable(*table, path, base_dir, errors, &spec);
    const int line = static_cast<int>(table->source().begin.line);
    if (!spec.name.empty() && !lines.emplace(spec.name, line).second) {
      errors->Add(table->source(),
                  absl::StrCat(path, ": callable ", spec.name, " is declared twice (first on line ",
                               lines[spec.name], ")"));
    }
    config->commands.push_back(std::move(spec));
    config->command_lines.push_back(line);
  }
}

}  // namespace pprocd::config_internal
