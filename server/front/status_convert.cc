#include "server/front/status_convert.h"

#include "absl/strings/str_cat.h"

namespace pprocd {
namespace {

constexpr absl::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026

// The longest start of `text` of at most `limit` bytes that does not end
// inside a UTF-8 sequence (continuation bytes are 10xxxxxx).
absl::string_view CutAtCharacter(absl::string_view text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t end = limit;
  // A sequence has at most three continuation bytes.
  for (int i = 0; i < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80; ++i) {
    --end;
  }
  return text.substr(0, end);
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share the canonical numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      BoundStatusMessage(status.message()));
}

std::string BoundStatusMessage(absl::string_view message) {
  if (message.size() <= kMaxStatusMessageBytes) return std::string(message);
  const std::string tail = absl::StrCat(kEllipsis, "(", message.size(), " bytes)");
  return absl::StrCat(CutAtCharacter(message, kMaxStatusMessageBytes - tail.size()), tail);
}

std::string QuoteForStatus(absl::string_view value) {
  if (value.size() <= kMaxQuotedBytes) return absl::StrCat("'", value, "'");
  return absl::StrCat("'", CutAtCharacter(value, kMaxQuotedBytes), kEllipsis, "' (", value.size(),
                      " bytes)");
}

}  // namespace pprocd
