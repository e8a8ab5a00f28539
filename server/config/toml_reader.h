// Reading a parsed TOML document key by key, for the config file: typed
// getters that report a missing, mistyped or out-of-range value with its
// position, and every key nobody asked for as unknown. Internal to the
// config module (it exposes toml++ types); single-threaded.
#ifndef PPROCD_SERVER_CONFIG_TOML_READER_H_
#define PPROCD_SERVER_CONFIG_TOML_READER_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "server/config/config.h"
#include "toml++/toml.h"

namespace pprocd::config_internal {

// The errors of one file, each with its position when it has one.
class ErrorList {
 public:
  explicit ErrorList(std::string file) : file_(std::move(file)) {}

  void Add(const toml::source_region& where, std::string message);
  void AddUnplaced(std::string message);
  bool empty() const { return errors_.empty(); }
  // Every error, in file order.
  std::vector<ConfigError> Take();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// toml++ speaks std::string_view; abseil 20220623's absl::string_view is a
// type of its own, which absl::StrCat needs.
inline absl::string_view Abseil(std::string_view text) { return {text.data(), text.size()}; }

// How a TOML node's type is named in messages: "a string", "an integer", ...
std::string DescribeType(const toml::node& node);

// Converts a TOML value to its JSON-shaped protobuf value: tables become
// structs, arrays lists, integers and floats numbers. Dates and times, an
// integer beyond 2^53 and a non-finite float have no such value: each is
// reported (under `path`) and nullopt returned.
std::optional<google::protobuf::Value> ToValue(const toml::node& node, const std::string& path,
                                               ErrorList* errors);

// The keys of one table. Each getter marks its key as known and returns
// nullopt when the key is absent or its value is wrong (then reported).
// Call ReportUnknownKeys() once, after the getters.
class TableReader {
 public:
  // `path` names the table in messages ("server", "callable[0]"); `errors`
  // must outlive the reader.
  TableReader(const toml::table& table, std::string path, ErrorList* errors);

  // "path.key" (or "key" for the root table).
  std::string KeyPath(std::string_view key) const;
  // The node at `key`, or nullptr; marks the key known.
  const toml::node* Find(std::string_view key);
  // A table's position, for errors about a key it lacks.
  const toml::source_region& source() const { return table_.source(); }

  std::optional<std::string> String(std::string_view key);
  std::optional<int64_t> Integer(std::string_view key, int64_t min, int64_t max);
  // An array of strings.
  std::optional<std::vector<std::string>> StringList(std::string_view key);
  // A table; nullptr (reported if present) when it is something else.
  const toml::table* Table(std::string_view key);
  // An array; nullptr (reported if present) when it is something else.
  const toml::array* Array(std::string_view key);

  // Reports each key of the table that no getter asked for.
  void ReportUnknownKeys();

 private:
  void ReportType(std::string_view key, const toml::node& node, std::string_view expected);

  const toml::table& table_;
  std::string path_;
  ErrorList* errors_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace pprocd::config_internal

#endif  // PPROCD_SERVER_CONFIG_TOML_READER_H_
