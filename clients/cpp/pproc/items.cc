#include "pproc/items.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pprocd/client/json.h"

namespace pprocd::pproc {
namespace {

// Parses A..B where A and B are decimal integers with an optional '-'.
// Returns nullopt when `item` does not have that shape at all.
std::optional<absl::StatusOr<ItemSpec>> ParseRange(absl::string_view item) {
  size_t dots = item.find("..");
  if (dots == absl::string_view::npos) return std::nullopt;
  absl::string_view first_text = item.substr(0, dots);
  absl::string_view last_text = item.substr(dots + 2);
  const auto is_integer = [](absl::string_view text) {
    if (!text.empty() && text[0] == '-') text.remove_prefix(1);
    if (text.empty()) return false;
    for (char c : text) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  if (!is_integer(first_text) || !is_integer(last_text)) return std::nullopt;
  ItemSpec spec;
  spec.kind = ItemSpec::Kind::kRange;
  if (!absl::SimpleAtoi(first_text, &spec.first) || !absl::SimpleAtoi(last_text, &spec.last) ||
      spec.first < -kMaxRangeBound || spec.first > kMaxRangeBound || spec.last < -kMaxRangeBound ||
      spec.last > kMaxRangeBound) {
    return absl::StatusOr<ItemSpec>(absl::InvalidArgumentError(
        absl::StrCat("invalid item '", item, "': range bounds must be within +-2^53")));
  }
  if (spec.last < spec.first) {
    return absl::StatusOr<ItemSpec>(absl::InvalidArgumentError(absl::StrCat(
        "invalid item '", item, "': the range is empty (", last_text, " < ", first_text, ")")));
  }
  return absl::StatusOr<ItemSpec>(std::move(spec));
}

}  // namespace

std::optional<uint64_t> ItemSpec::count() const {
  switch (kind) {
    case Kind::kValue:
      return 1;
    case Kind::kRange:
      return static_cast<uint64_t>(last - first) + 1;
    case Kind::kStdin:
      return std::nullopt;
  }
  return std::nullopt;
}

absl::StatusOr<ItemSpec> ParseItem(absl::string_view item) {
  ItemSpec spec;
  if (item == "-") {
    spec.kind = ItemSpec::Kind::kStdin;
    return spec;
  }
  if (std::optional<absl::StatusOr<ItemSpec>> range = ParseRange(item)) {
    return *std::move(range);
  }
  absl::StatusOr<google::protobuf::Value> value = client::ParseJsonValue(item);
  if (!value.ok()) {
    absl::string_view shown = absl::StripAsciiWhitespace(item);
    // A bare word is most likely a string missing its JSON quotes.
    std::string hint;
    if (!shown.empty() && (absl::ascii_isalpha(shown[0]) || shown[0] == '_')) {
      hint = absl::StrCat("; strings need JSON quotes, e.g. '\"", shown, "\"'");
    }
    return absl::InvalidArgumentError(absl::StrCat("invalid item '", shown,
                                                   "': not a JSON value, a range A..B or '-' (",
                                                   value.status().message(), ")", hint));
  }
  spec.value = *std::move(value);
  return spec;
}

absl::StatusOr<std::vector<ItemSpec>> ParseItems(const std::vector<std::string>& items) {
  std::vector<ItemSpec> specs;
  specs.reserve(items.size());
  bool saw_stdin = false;
  for (const std::string& item : items) {
    absl::StatusOr<ItemSpec> spec = ParseItem(item);
    if (!spec.ok()) return spec.status();
    if (spec->kind == ItemSpec::Kind::kStdin) {
      if (saw_stdin) {
        return absl::InvalidArgumentError("'-' (stdin) may appear only once");
      }
      saw_stdin = true;
    }
    specs.push_back(*std::move(spec));
  }
  return specs;
}

absl::StatusOr<std::unique_ptr<ItemSource>> ItemSource::Create(std::vector<ItemSpec> specs,
                                                               int stdin_fd) {
  std::unique_ptr<LineReader> reader;
  for (const ItemSpec& spec : specs) {
    if (spec.kind != ItemSpec::Kind::kStdin) continue;
    absl::StatusOr<std::unique_ptr<LineReader>> made = LineReader::Create(stdin_fd);
    if (!made.ok()) return made.status();
    reader = *std::move(made);
  }
  return std::unique_ptr<ItemSource>(new ItemSource(std::move(specs), std::move(reader)));
}

namespace {

std::optional<uint64_t> TotalOf(const std::vector<ItemSpec>& specs) {
  uint64_t total = 0;
  for (const ItemSpec& spec : specs) {
    std::optional<uint64_t> count = spec.count();
    if (!count.has_value()) return std::nullopt;
    total += *count;
  }
  return total;
}

}  // namespace

ItemSource::ItemSource(std::vector<ItemSpec> specs, std::unique_ptr<LineReader> stdin_reader)
    : specs_(std::move(specs)), total_(TotalOf(specs_)), stdin_reader_(std::move(stdin_reader)) {}

absl::StatusOr<bool> ItemSource::Next(google::protobuf::Value* value) {
  while (spec_index_ < specs_.size()) {
    const ItemSpec& spec = specs_[spec_index_];
    switch (spec.kind) {
      case ItemSpec::Kind::kValue:
        *value = spec.value;
        ++spec_index_;
        return true;
      case ItemSpec::Kind::kRange:
        if (!range_started_) {
          range_started_ = true;
          range_next_ = spec.first;
        }
        value->set_number_value(static_cast<double>(range_next_));
        if (range_next_ == spec.last) {
          range_started_ = false;
          ++spec_index_;
        } else {
          ++range_next_;
        }
        return true;
      case ItemSpec::Kind::kStdin: {
        absl::StatusOr<bool> more = NextFromStdin(value);
        if (!more.ok() || *more) return more;
        ++spec_index_;
        break;
      }
    }
  }
  return false;
}

absl::StatusOr<bool> ItemSource::NextFromStdin(google::protobuf::Value* value) {
  std::string line;
  for (;;) {
    absl::StatusOr<bool> more = stdin_reader_->ReadLine(&line);
    if (!more.ok() || !*more) return more;
    ++stdin_line_number_;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty()) continue;
    absl::StatusOr<google::protobuf::Value> parsed = client::ParseJsonValue(text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("stdin line ", stdin_line_number_, " '", text,
                                                     "': ", parsed.status().message()));
    }
    *value = *std::move(parsed);
    return true;
  }
}

bool ItemSource::NextIsReady() {
  if (spec_index_ >= specs_.size()) return true;
  if (specs_[spec_index_].kind != ItemSpec::Kind::kStdin) return true;
  return stdin_reader_->Ready();
}

void ItemSource::Interrupt() {
  if (stdin_reader_ != nullptr) stdin_reader_->Interrupt();
}

}  // namespace pprocd::pproc
