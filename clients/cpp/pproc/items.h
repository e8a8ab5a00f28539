// pproc's ITEM arguments and the InputSource that yields their inputs.
//
// An ITEM is one of:
//   a JSON value       5, '"text"', '[1,2]' (a list spreads over several
//                      parameters: the server does the spreading), '{...}'
//   a range A..B       the integers A to B inclusive, e.g. 1..30 or -5..5,
//                      produced one at a time, never all in memory
//   -                  JSON values read from stdin, one per line (blank
//                      lines skipped), read as the call consumes them
//
// Thread-safety: ParseItem(s) are pure. An ItemSource is driven by one
// thread (Client::RunItems's writer), except Interrupt(), which any thread
// may call.
#ifndef PPROCD_CLIENTS_CPP_PPROC_ITEMS_H_
#define PPROCD_CLIENTS_CPP_PPROC_ITEMS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "pproc/line_reader.h"
#include "pprocd/client/input_source.h"

namespace pprocd::pproc {

// One parsed ITEM.
struct ItemSpec {
  enum class Kind { kValue, kRange, kStdin };
  Kind kind = Kind::kValue;
  google::protobuf::Value value;  // kValue only.
  int64_t first = 0;              // kRange only: first <= last.
  int64_t last = 0;

  // Inputs this item yields; nullopt for stdin.
  std::optional<uint64_t> count() const;
};

// Range bounds must be exact as doubles (JSON numbers): |bound| <= 2^53.
inline constexpr int64_t kMaxRangeBound = int64_t{1} << 53;

// Parses one ITEM. INVALID_ARGUMENT naming the item when it is none of the
// forms above, or a range whose end is below its start.
absl::StatusOr<ItemSpec> ParseItem(absl::string_view item);

// Parses every ITEM, failing on the first invalid one; '-' may appear once.
absl::StatusOr<std::vector<ItemSpec>> ParseItems(const std::vector<std::string>& items);

// Yields the inputs of parsed ITEMs in order.
class ItemSource final : public client::InputSource {
 public:
  // `stdin_fd` is read only if an item is '-'; it stays owned by the caller
  // and must outlive the source.
  static absl::StatusOr<std::unique_ptr<ItemSource>> Create(std::vector<ItemSpec> specs,
                                                            int stdin_fd);

  // Total number of inputs, or nullopt when stdin makes it unknown.
  std::optional<uint64_t> total() const { return total_; }

  // Stdin lines that are not valid JSON fail with INVALID_ARGUMENT naming
  // the line number and text.
  absl::StatusOr<bool> Next(google::protobuf::Value* value) override;
  bool NextIsReady() override;
  void Interrupt() override;

 private:
  ItemSource(std::vector<ItemSpec> specs, std::unique_ptr<LineReader> stdin_reader);

  absl::StatusOr<bool> NextFromStdin(google::protobuf::Value* value);

  const std::vector<ItemSpec> specs_;
  const std::optional<uint64_t> total_;
  const std::unique_ptr<LineReader> stdin_reader_;  // Null without '-'.
  size_t spec_index_ = 0;
  // Next integer of the current range item.
  int64_t range_next_ = 0;
  bool range_started_ = false;
  uint64_t stdin_line_number_ = 0;
};

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_ITEMS_H_
