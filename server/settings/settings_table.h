// The table of the server's settings: one row per setting, naming its
// command-line flag, its key in a config file's [server] table, its type and
// allowed values, its help text and its field in ServerSettings and
// FileSettings (server/settings/server_settings.h).
//
// Everything about a setting is made from its row: the CLI11 option and so
// `pprocd --help` (settings_cli.h), the [server] reader of the config file
// (server/config/config.cc), the merge of the file under the command line
// and the `--check-config` summary (below). A setting's default is its
// field's initializer in ServerSettings.
//
// The table is built once, on first use, and never changes: safe from any
// thread.
#ifndef PPROCD_SERVER_SETTINGS_SETTINGS_TABLE_H_
#define PPROCD_SERVER_SETTINGS_SETTINGS_TABLE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "server/settings/server_settings.h"

namespace pprocd {

// Where a setting of type T lives: its value, and what a config file says
// (nullptr for a setting of the command line only).
template <typename T>
struct SettingField {
  using Type = T;
  T ServerSettings::*value = nullptr;
  std::optional<T> FileSettings::*file = nullptr;
};

struct Setting {
  // How a value is read, beyond its type.
  enum class Form {
    kValue,
    // A file path: in a config file, resolved against the file's directory
    // (a single path must not be empty).
    kPath,
    // Addresses as --listen takes them: each checked, and in a config file a
    // relative unix: path resolved.
    kListenAddress,
    // A file mode in octal, such as 0600 (a uint32_t).
    kOctalMode,
  };
  using Field = std::variant<SettingField<uint32_t>, SettingField<uint64_t>,
                             SettingField<std::string>, SettingField<std::vector<std::string>>>;

  // The long flag, "--workers".
  std::string flag;
  // The key in [server], "workers"; empty for a setting of the command line
  // only.
  std::string key;
  std::string help;
  Field field;
  Form form = Form::kValue;
  // Integers: the allowed range, both ends included (by default the whole
  // range of the field's type).
  uint64_t min = 0;
  uint64_t max = 0;
  // Strings: the allowed values (empty = any).
  std::vector<std::string> choices;
  // Whether --help shows the default.
  bool show_default = false;
  // The value's name in --help ("" = CLI11's: TEXT, UINT, ...).
  std::string type_name;

  // Modifiers, for writing the rows.
  Setting&& Range(uint64_t low, uint64_t high) && {
    min = low;
    max = high;
    return std::move(*this);
  }
  Setting&& Choices(std::vector<std::string> allowed) && {
    choices = std::move(allowed);
    return std::move(*this);
  }
  Setting&& ShowDefault() && {
    show_default = true;
    return std::move(*this);
  }
  Setting&& TypeName(std::string name) && {
    type_name = std::move(name);
    return std::move(*this);
  }
  Setting&& As(Form how) && {
    form = how;
    return std::move(*this);
  }

  // Whether the allowed range of an integer is narrower than its type's
  // (the command line checks it then; the type checks the rest).
  bool HasNarrowRange() const;
  // The choices as an error names them: "\"a\", \"b\" or \"c\"".
  std::string ChoicesText() const;
};

// A row: `flag` and [server] `key` for the field `value`, read from a
// config file into `file`.
template <typename T>
Setting MakeSetting(std::string flag, std::string key, T ServerSettings::*value,
                    std::optional<T> FileSettings::*file, std::string help) {
  Setting setting;
  setting.flag = std::move(flag);
  setting.key = std::move(key);
  setting.help = std::move(help);
  setting.field = SettingField<T>{value, file};
  if constexpr (std::is_integral_v<T>) setting.max = std::numeric_limits<T>::max();
  return setting;
}

// A row of a setting that no config file sets.
template <typename T>
Setting MakeFlagOnlySetting(std::string flag, T ServerSettings::*value, std::string help) {
  return MakeSetting<T>(std::move(flag), "", value, nullptr, std::move(help));
}

// Every server setting, in the order of `--help` and of the --check-config
// summary.
const std::vector<Setting>& ServerSettingsTable();

// Takes each value that `file` sets into `settings`, unless
// `given_on_command_line(row)`: an explicit flag wins over the file.
void MergeFileSettings(const FileSettings& file,
                       const std::function<bool(const Setting&)>& given_on_command_line,
                       ServerSettings* settings);

// The [server] keys that `file` sets, in table order.
std::vector<std::string> KeysSet(const FileSettings& file);

}  // namespace pprocd

#endif  // PPROCD_SERVER_SETTINGS_SETTINGS_TABLE_H_
