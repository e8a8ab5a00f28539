#include "server/config/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/log/log_format.h"
#include "server/config/callable_config.h"
#include "server/config/toml_reader.h"
#include "server/listen_address.h"
#include "worker/base/status_macros.h"
#include "worker/base/unique_fd.h"

namespace pprocd {
namespace {

using config_internal::ErrorList;
using config_internal::ResolvePath;
using config_internal::TableReader;

constexpr int64_t kMaxUint32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

// server.listen, each address checked as --listen would and a relative
// unix: path resolved.
void ReadListen(TableReader& reader, const std::string& base_dir, ErrorList* errors,
                ServerConfig* config) {
  std::optional<std::vector<std::string>> listen = reader.StringList("listen");
  if (!listen.has_value()) return;
  const toml::array& nodes = *reader.Find("listen")->as_array();
  if (listen->empty()) {
    errors->Add(nodes.source(), "server.listen must name at least one address");
    return;
  }
  for (size_t i = 0; i < listen->size(); ++i) {
    std::string& text = (*listen)[i];
    if (text.rfind("unix:", 0) == 0 && text.rfind("unix://", 0) != 0) {
      text = absl::StrCat("unix:", ResolvePath(base_dir, text.substr(5)));
    }
    absl::StatusOr<ListenAddress> address = ParseListenAddress(text);
    if (!address.ok()) {
      errors->Add(nodes.get(i)->source(),
                  absl::StrCat("server.listen[", i, "]: ",
                               absl::StrReplaceAll(address.status().message(),
                                                   {{"--listen: ", ""}, {"--listen ", ""}})));
    }
  }
  config->listen = std::move(listen);
}

template <typename T>
void ReadInteger(TableReader& reader, std::string_view key, int64_t min, int64_t max,
                 std::optional<T>* out) {
  if (std::optional<int64_t> value = reader.Integer(key, min, max)) {
    *out = static_cast<T>(*value);
  }
}

void ReadServer(const toml::table& table, const std::string& base_dir, ErrorList* errors,
                ServerConfig* config) {
  TableReader reader(table, "server", errors);
  ReadListen(reader, base_dir, errors, config);
  ReadInteger(reader, "workers", 0, kMaxUint32, &config->workers);
  if (std::optional<std::string> dir = reader.String("state_dir")) {
    if (dir->empty()) {
      errors->Add(reader.Find("state_dir")->source(), "server.state_dir must not be empty");
    } else {
      config->state_dir = ResolvePath(base_dir, *dir);
    }
  }
  ReadInteger(reader, "max_queued_items", 0, kMaxInt64, &config->max_queued_items);
  ReadInteger(reader, "call_window", 16, int64_t{1} << 30, &config->call_window);
  ReadInteger(reader, "max_tasks_per_worker", 0, kMaxInt64, &config->max_tasks_per_worker);
  ReadInteger(reader, "grace_ms", 0, kMaxUint32, &config->grace_ms);
  ReadInteger(reader, "max_message_bytes", 4096, int64_t{1} << 30, &config->max_message_bytes);
  ReadInteger(reader, "keep_jobs_hours", 1, 24 * 3650, &config->keep_jobs_hours);
  ReadInteger(reader, "max_store_mib", 1, 1 << 20, &config->max_store_mib);
  if (std::optional<std::string> group = reader.String("admin_group")) {
    config->admin_group = std::move(group);
  }
  if (std::optional<std::string> format = reader.String("log_format")) {
    LogFormat parsed;
    if (ParseLogFormat(*format, &parsed)) {
      config->log_format = std::move(format);
    } else {
      errors->Add(reader.Find("log_format")->source(),
                  "server.log_format must be \"text\" or \"json\"");
    }
  }
  if (std::optional<std::string> level = reader.String("log_level")) {
    LogLevel parsed;
    if (ParseLogLevel(*level, &parsed)) {
      config->log_level = std::move(level);
    } else {
      errors->Add(reader.Find("log_level")->source(),
                  "server.log_level must be \"debug\", \"info\", \"warn\" or \"error\"");
    }
  }
  if (std::optional<std::vector<std::string>> plugins = reader.StringList("plugins")) {
    for (std::string& plugin : *plugins) plugin = ResolvePath(base_dir, plugin);
    config->plugins = std::move(plugins);
  }
  reader.ReportUnknownKeys();
}

// [limits] holds one table per callable: [limits.NAME] with the keys of
// CallableLimits.
void ReadLimits(const toml::table& table, ErrorList* errors, ServerConfig* config) {
  for (const auto& [name, node] : table) {
    const std::string path = absl::StrCat("limits.", config_internal::Abseil(name.str()));
    const toml::table* limits = node.as_table();
    if (limits == nullptr) {
      errors->Add(node.source(), absl::StrCat(path, " must be a table of limits, not ",
                                              config_internal::DescribeType(node)));
      continue;
    }
    TableReader reader(*limits, path, errors);
    ServerConfig::NamedLimits named;
    named.callable = std::string(name.str());
    named.line = static_cast<int>(limits->source().begin.line);
    v1::CallableLimits& out = named.limits;
    if (auto v = reader.Integer("max_memory_mib", 1, int64_t{1} << 30)) out.set_max_memory_mib(*v);
    if (auto v = reader.Integer("cpu_seconds", 1, kMaxUint32)) out.set_cpu_seconds(*v);
    if (auto v = reader.Integer("max_open_files", 16, kMaxUint32)) out.set_max_open_files(*v);
    if (auto v = reader.Integer("timeout_ms", 1, kMaxUint32)) out.set_timeout_ms(*v);
    if (auto v = reader.Integer("max_concurrent", 1, kMaxUint32)) out.set_max_concurrent(*v);
    reader.ReportUnknownKeys();
    config->limits.push_back(std::move(named));
  }
}

// The directory `path` is in: "" for a bare file name.
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The whole file at `path`.
absl::Status ReadFile(const std::string& path, std::string* text) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "cannot open");
  char buffer[64 * 1024];
  while (true) {
    const ssize_t got = read(fd.get(), buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus(errno, "cannot read");
    if (got == 0) return absl::OkStatus();
    text->append(buffer, static_cast<size_t>(got));
  }
}

}  // namespace

std::string ConfigError::ToString() const {
  if (line <= 0) return absl::StrCat(file, ": ", message);
  if (column <= 0) return absl::StrCat(file, ":", line, ": ", message);
  return absl::StrCat(file, ":", line, ":", column, ": ", message);
}

std::vector<ConfigError> ParseConfig(std::string_view text, const std::string& file,
                                     const std::string& base_dir, ServerConfig* config) {
  *config = ServerConfig();
  ErrorList errors(file);
  toml::parse_result parsed = toml::parse(text, std::string_view(file));
  if (!parsed) {
    errors.Add(parsed.error().source(), std::string(parsed.error().description()));
    return errors.Take();
  }
  TableReader root(parsed.table(), "", &errors);
  if (const toml::table* server = root.Table("server")) {
    ReadServer(*server, base_dir, &errors, config);
  }
  if (const toml::node* callables = root.Find("callable")) {
    config_internal::ReadCallables(*callables, base_dir, &errors, config);
  }
  if (const toml::table* limits = root.Table("limits")) ReadLimits(*limits, &errors, config);
  root.ReportUnknownKeys();
  return errors.Take();
}

std::vector<ConfigError> CheckConfigFile(const std::string& path, ServerConfig* config) {
  std::string text;
  if (absl::Status read = ReadFile(path, &text); !read.ok()) {
    return {ConfigError{path, 0, 0, std::string(read.message())}};
  }
  return ParseConfig(text, path, DirectoryOf(path), config);
}

absl::StatusOr<ServerConfig> LoadConfig(const std::string& path) {
  ServerConfig config;
  std::vector<ConfigError> errors = CheckConfigFile(path, &config);
  if (errors.empty()) return config;
  return absl::InvalidArgumentError(absl::StrJoin(
      errors, "\n",
      [](std::string* out, const ConfigError& error) { out->append(error.ToString()); }));
}

}  // namespace pprocd
