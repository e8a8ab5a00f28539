#include "server/config/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "server/config/callable_config.h"
#include "server/config/toml_reader.h"
#include "server/listen_address.h"
#include "server/settings/settings_table.h"

namespace pprocd {
namespace {

using config_internal::ErrorList;
using config_internal::ResolvePath;
using config_internal::TableReader;

constexpr int64_t kMaxUint32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

// A list of addresses (server.listen), each checked as --listen would and
// a relative unix: path resolved.
void ReadListen(TableReader& reader, const std::string& key, const std::string& base_dir,
                ErrorList* errors, std::optional<std::vector<std::string>>* out) {
  std::optional<std::vector<std::string>> listen = reader.StringList(key);
  if (!listen.has_value()) return;
  const toml::array& nodes = *reader.Find(key)->as_array();
  if (listen->empty()) {
    errors->Add(nodes.source(),
                absl::StrCat(reader.KeyPath(key), " must name at least one address"));
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
                  absl::StrCat(reader.KeyPath(key), "[", i, "]: ",
                               absl::StrReplaceAll(address.status().message(),
                                                   {{"--listen: ", ""}, {"--listen ", ""}})));
    }
  }
  *out = std::move(listen);
}

// The value of one row of the settings table, checked as the row says,
// into its field of `file` (left unset when absent or refused).
template <typename T>
void ReadSetting(TableReader& reader, const Setting& setting, const SettingField<T>& field,
                 const std::string& base_dir, ErrorList* errors, FileSettings* file) {
  std::optional<T>& out = file->*field.file;
  const std::string& key = setting.key;
  if constexpr (std::is_integral_v<T>) {
    // TOML integers are int64: a wider range ends there.
    const int64_t max =
        static_cast<int64_t>(std::min<uint64_t>(setting.max, static_cast<uint64_t>(kMaxInt64)));
    if (std::optional<int64_t> value =
            reader.Integer(key, static_cast<int64_t>(setting.min), max)) {
      out = static_cast<T>(*value);
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    std::optional<std::string> text = reader.String(key);
    if (!text.has_value()) return;
    if (!setting.choices.empty() &&
        std::find(setting.choices.begin(), setting.choices.end(), *text) == setting.choices.end()) {
      errors->Add(reader.Find(key)->source(),
                  absl::StrCat(reader.KeyPath(key), " must be ", setting.ChoicesText()));
      return;
    }
    if (setting.form == Setting::Form::kPath) {
      if (text->empty()) {
        errors->Add(reader.Find(key)->source(),
                    absl::StrCat(reader.KeyPath(key), " must not be empty"));
        return;
      }
      *text = ResolvePath(base_dir, *text);
    }
    out = std::move(text);
  } else {
    static_assert(std::is_same_v<T, std::vector<std::string>>);
    if (setting.form == Setting::Form::kListenAddress) {
      ReadListen(reader, key, base_dir, errors, &out);
      return;
    }
    std::optional<std::vector<std::string>> list = reader.StringList(key);
    if (!list.has_value()) return;
    if (setting.form == Setting::Form::kPath) {
      for (std::string& path : *list) path = ResolvePath(base_dir, path);
    }
    out = std::move(list);
  }
}

// The [server] table: one key per row of the settings table that has one.
void ReadServer(const toml::table& table, const std::string& base_dir, ErrorList* errors,
                FileSettings* file) {
  TableReader reader(table, "server", errors);
  for (const Setting& setting : ServerSettingsTable()) {
    if (setting.key.empty()) continue;
    std::visit(
        [&](const auto& field) { ReadSetting(reader, setting, field, base_dir, errors, file); },
        setting.field);
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
