#include "server/front/status_convert.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "base/utf8.h"
#include "tests/util/status_matchers.h"

namespace pprocd {
namespace {

// Whether `text` is valid UTF-8 from end to end.
bool IsUtf8(absl::string_view text) {
  while (!text.empty()) {
    size_t length = 1;
    if (static_cast<unsigned char>(text[0]) >= 0x80) {
      length = Utf8SequenceLength(text);
      if (length == 0) return false;
    }
    text.remove_prefix(length);
  }
  return true;
}

TEST(StatusConvertTest, KeepsTheCodeAndAShortMessage) {
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError("no job 'x'"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "no job 'x'");
  EXPECT_OK(ToGrpcStatus(absl::OkStatus()));
}

TEST(StatusConvertTest, CutsALongMessageAndSaysHowLongItWas) {
  const std::string message = "no job '" + std::string(1 << 20, 'j') + "'";
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError(message));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "no job 'jjjj"));
  EXPECT_TRUE(absl::EndsWith(status.error_message(), "\xE2\x80\xA6(1048585 bytes)"))
      << status.error_message().substr(1000);
}

TEST(StatusConvertTest, CutsAtACharacterBoundary) {
  // Two-, three- and four-byte characters: whichever straddles the cut goes.
  for (const std::string character : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    for (size_t prefix = 0; prefix < 4; ++prefix) {
      std::string message(prefix, 'a');
      while (message.size() < 3 * kMaxStatusMessageBytes) message += character;
      const std::string bounded = BoundStatusMessage(message);
      EXPECT_LE(bounded.size(), kMaxStatusMessageBytes);
      EXPECT_TRUE(IsUtf8(bounded)) << prefix << " " << character;
      const std::string quoted = QuoteForStatus(message);
      EXPECT_TRUE(IsUtf8(quoted)) << prefix << " " << character;
    }
  }
  EXPECT_EQ(BoundStatusMessage(std::string(kMaxStatusMessageBytes, 'a')),
            std::string(kMaxStatusMessageBytes, 'a'));
}

TEST(StatusConvertTest, QuotesAShortValueWhole) {
  EXPECT_EQ(QuoteForStatus("square"), "'square'");
  EXPECT_EQ(QuoteForStatus(""), "''");
  EXPECT_EQ(QuoteForStatus(std::string(kMaxQuotedBytes, 'n')),
            "'" + std::string(kMaxQuotedBytes, 'n') + "'");
}

TEST(StatusConvertTest, QuotesTheStartOfALongValue) {
  const std::string quoted = QuoteForStatus(std::string(64 << 10, 'n'));
  EXPECT_EQ(quoted, "'" + std::string(kMaxQuotedBytes, 'n') + "\xE2\x80\xA6' (65536 bytes)");
}

}  // namespace
}  // namespace pprocd
