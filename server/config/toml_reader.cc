#include "server/config/toml_reader.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pprocd::config_internal {
namespace {

// The largest integer a JSON number (a double) holds exactly.
constexpr int64_t kMaxExactInteger = int64_t{1} << 53;

}  // namespace

// ErrorList

void ErrorList::Add(const toml::source_region& where, std::string message) {
  errors_.push_back({file_, static_cast<int>(where.begin.line),
                     static_cast<int>(where.begin.column), std::move(message)});
}

void ErrorList::AddUnplaced(std::string message) {
  errors_.push_back({file_, 0, 0, std::move(message)});
}

std::vector<ConfigError> ErrorList::Take() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
  });
  return std::move(errors_);
}

std::string DescribeType(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

std::optional<google::protobuf::Value> ToValue(const toml::node& node, const std::string& path,
                                               ErrorList* errors) {
  google::protobuf::Value value;
  if (const auto* text = node.as_string()) {
    value.set_string_value(text->get());
  } else if (const auto* integer = node.as_integer()) {
    if (integer->get() > kMaxExactInteger || integer->get() < -kMaxExactInteger) {
      errors->Add(node.source(), absl::StrCat(path, ": the integer ", integer->get(),
                                              " is too large for a JSON number (at most 2^53)"));
      return std::nullopt;
    }
    value.set_number_value(static_cast<double>(integer->get()));
  } else if (const auto* real = node.as_floating_point()) {
    if (!std::isfinite(real->get())) {
      errors->Add(node.source(), absl::StrCat(path, ": inf and nan have no JSON value"));
      return std::nullopt;
    }
    value.set_number_value(real->get());
  } else if (const auto* boolean = node.as_boolean()) {
    value.set_bool_value(boolean->get());
  } else if (const auto* array = node.as_array()) {
    google::protobuf::ListValue* list = value.mutable_list_value();
    bool ok = true;
    for (size_t i = 0; i < array->size(); ++i) {
      std::optional<google::protobuf::Value> element =
          ToValue(*array->get(i), absl::StrCat(path, "[", i, "]"), errors);
      if (element.has_value()) {
        *list->add_values() = std::move(*element);
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
  } else if (const auto* table = node.as_table()) {
    auto* fields = value.mutable_struct_value()->mutable_fields();
    bool ok = true;
    for (const auto& [key, child] : *table) {
      std::optional<google::protobuf::Value> field =
          ToValue(child, absl::StrCat(path, ".", Abseil(key.str())), errors);
      if (field.has_value()) {
        (*fields)[std::string(key.str())] = std::move(*field);
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
  } else {
    errors->Add(node.source(),
                absl::StrCat(path, ": ", DescribeType(node), " has no JSON value; use a string"));
    return std::nullopt;
  }
  return value;
}

// TableReader

TableReader::TableReader(const toml::table& table, std::string path, ErrorList* errors)
    : table_(table), path_(std::move(path)), errors_(errors) {}

std::string TableReader::KeyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", Abseil(key));
}

const toml::node* TableReader::Find(std::string_view key) {
  known_.emplace(key);
  return table_.get(key);
}

void TableReader::ReportType(std::string_view key, const toml::node& node,
                             std::string_view expected) {
  errors_->Add(node.source(), absl::StrCat(KeyPath(key), " must be ", Abseil(expected), ", not ",
                                           DescribeType(node)));
}

std::optional<std::string> TableReader::String(std::string_view key) {
  const toml::node* node = Find(key);
  if (node == nullptr) return std::nullopt;
  if (const auto* text = node->as_string()) return text->get();
  ReportType(key, *node, "a string");
  return std::nullopt;
}

std::optional<int64_t> TableReader::Integer(std::string_view key, int64_t min, int64_t max) {
  const toml::node* node = Find(key);
  if (node == nullptr) return std::nullopt;
  const auto* integer = node->as_integer();
  if (integer == nullptr) {
    ReportType(key, *node, "an integer");
    return std::nullopt;
  }
  if (integer->get() < min || integer->get() > max) {
    errors_->Add(node->source(), absl::StrCat(KeyPath(key), " must be between ", min, " and ", max,
                                              ", not ", integer->get()));
    return std::nullopt;
  }
  return integer->get();
}

std::optional<std::vector<std::string>> TableReader::StringList(std::string_view key) {
  const toml::node* node = Find(key);
  if (node == nullptr) return std::nullopt;
  const auto* array = node->as_array();
  if (array == nullptr) {
    ReportType(key, *node, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> strings;
  bool ok = true;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    if (const auto* text = element.as_string()) {
      strings.push_back(text->get());
    } else {
      errors_->Add(element.source(), absl::StrCat(KeyPath(key), "[", i, "] must be a string, not ",
                                                  DescribeType(element)));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return strings;
}

const toml::table* TableReader::Table(std::string_view key) {
  const toml::node* node = Find(key);
  if (node == nullptr) return nullptr;
  if (const auto* table = node->as_table()) return table;
  ReportType(key, *node, "a table");
  return nullptr;
}

const toml::array* TableReader::Array(std::string_view key) {
  const toml::node* node = Find(key);
  if (node == nullptr) return nullptr;
  if (const auto* array = node->as_array()) return array;
  ReportType(key, *node, "an array");
  return nullptr;
}

void TableReader::ReportUnknownKeys() {
  for (const auto& [key, node] : table_) {
    if (known_.count(key.str()) == 0) {
      errors_->Add(key.source(), absl::StrCat("unknown key ", KeyPath(key.str()),
                                              " (known: ", absl::StrJoin(known_, ", "), ")"));
    }
  }
}

}  // namespace pprocd::config_internal
