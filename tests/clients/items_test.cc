#include "pproc/items.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pprocd/client/json.h"
#include "tests/util/status_matchers.h"

namespace pprocd::pproc {
namespace {

using google::protobuf::Value;
using ::pprocd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Drains `source`, returning every input as JSON.
std::vector<std::string> Drain(ItemSource& source) {
  std::vector<std::string> inputs;
  Value value;
  for (;;) {
    absl::StatusOr<bool> more = source.Next(&value);
    EXPECT_OK(more);
    if (!more.ok() || !*more) return inputs;
    inputs.push_back(client::ValueToJson(value));
  }
}

std::unique_ptr<ItemSource> SourceOf(const std::vector<std::string>& items, int stdin_fd = -1) {
  absl::StatusOr<std::vector<ItemSpec>> specs = ParseItems(items);
  EXPECT_OK(specs);
  absl::StatusOr<std::unique_ptr<ItemSource>> source =
      ItemSource::Create(*std::move(specs), stdin_fd);
  EXPECT_OK(source);
  return *std::move(source);
}

TEST(ParseItemTest, JsonValues) {
  absl::StatusOr<ItemSpec> number = ParseItem("5");
  ASSERT_OK(number);
  EXPECT_EQ(number->kind, ItemSpec::Kind::kValue);
  EXPECT_EQ(number->value.number_value(), 5);
  EXPECT_EQ(ParseItem("-7").value().value.number_value(), -7);
  EXPECT_EQ(ParseItem("\"crash\"").value().value.string_value(), "crash");
  // A list stays one input: the server spreads it over the parameters.
  EXPECT_EQ(ParseItem("[2, 10]").value().value.list_value().values_size(), 2);
  EXPECT_EQ(ParseItem("[2, 10]").value().count(), 1u);
}

TEST(ParseItemTest, RangesAreInclusive) {
  ASSERT_OK_AND_ASSIGN(ItemSpec range, ParseItem("1..30"));
  EXPECT_EQ(range.kind, ItemSpec::Kind::kRange);
  EXPECT_EQ(range.count(), 30u);
  EXPECT_EQ(ParseItem("5..5").value().count(), 1u);
  EXPECT_EQ(ParseItem("-5..-1").value().count(), 5u);
  EXPECT_EQ(ParseItem("-3..3").value().count(), 7u);
}

TEST(ParseItemTest, DashIsStdin) {
  EXPECT_EQ(ParseItem("-").value().kind, ItemSpec::Kind::kStdin);
  EXPECT_FALSE(ParseItem("-").value().count().has_value());
}

TEST(ParseItemTest, InvalidItemErrorNamesIt) {
  for (const char* bad : {"crash", "1..", "..3", "1..2..3", "1.5..3", "{", "a..b", "", "--"}) {
    absl::StatusOr<ItemSpec> spec = ParseItem(bad);
    ASSERT_FALSE(spec.ok()) << "accepted '" << bad << "'";
    EXPECT_THAT(spec, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr(std::string("'") + bad + "'")));
  }
}

TEST(ParseItemTest, BareWordErrorSuggestsQuoting) {
  absl::StatusOr<ItemSpec> spec = ParseItem("crash");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("'\"crash\"'"), absl::string_view::npos) << spec.status();
}

TEST(ParseItemTest, EmptyAndHugeRangesAreRejected) {
  EXPECT_FALSE(ParseItem("5..1").ok());
  EXPECT_FALSE(ParseItem("1..9007199254740993").ok());
  EXPECT_FALSE(ParseItem("0..99999999999999999999").ok());
  EXPECT_OK(ParseItem("-9007199254740992..9007199254740992"));
}

TEST(ParseItemsTest, StopsAtTheFirstInvalidItem) {
  absl::StatusOr<std::vector<ItemSpec>> specs = ParseItems({"1", "2..3", "oops", "also bad"});
  ASSERT_FALSE(specs.ok());
  EXPECT_NE(specs.status().message().find("'oops'"), absl::string_view::npos);
}

TEST(ParseItemsTest, StdinMayAppearOnce) { EXPECT_FALSE(ParseItems({"-", "1", "-"}).ok()); }

TEST(ItemSourceTest, YieldsItemsInOrderWithRangesExpanded) {
  std::unique_ptr<ItemSource> source = SourceOf({"\"a\"", "-2..1", "[1,2]", "7..7"});
  EXPECT_EQ(source->total(), 7u);
  EXPECT_EQ(Drain(*source),
            (std::vector<std::string>{"\"a\"", "-2", "-1", "0", "1", "[1,2]", "7"}));
}

TEST(ItemSourceTest, OneToThirtyYieldsThirtyIntegers) {
  std::unique_ptr<ItemSource> source = SourceOf({"1..30"});
  std::vector<std::string> inputs = Drain(*source);
  ASSERT_EQ(inputs.size(), 30u);
  EXPECT_EQ(inputs.front(), "1");
  EXPECT_EQ(inputs.back(), "30");
}

TEST(ItemSourceTest, HugeRangeIsLazy) {
  // Ten billion inputs: a source that expanded them up front would run out
  // of memory here.
  std::unique_ptr<ItemSource> source = SourceOf({"1..10000000000"});
  EXPECT_EQ(source->total(), 10000000000u);
  Value value;
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(source->Next(&value).value());
    EXPECT_EQ(value.number_value(), i);
  }
}

class StdinTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::pipe(fds_), 0); }
  void TearDown() override {
    ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  void Write(absl::string_view text) {
    ASSERT_EQ(::write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void CloseWriteEnd() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }
  int read_fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
};

TEST_F(StdinTest, ReadsOneJsonValuePerLineSkippingBlankLines) {
  std::unique_ptr<ItemSource> source = SourceOf({"0", "-", "9"}, read_fd());
  EXPECT_FALSE(source->total().has_value());
  Write("1\n\n  \"two\"  \r\n[3]\n{\"k\":4}");  // Last line unterminated.
  CloseWriteEnd();
  EXPECT_EQ(Drain(*source),
            (std::vector<std::string>{"0", "1", "\"two\"", "[3]", "{\"k\":4}", "9"}));
}

TEST_F(StdinTest, ReadsLazily) {
  std::unique_ptr<ItemSource> source = SourceOf({"-"}, read_fd());
  Write("1\n");
  Value value;
  // One line is there, the next is not written yet: Next() must not wait
  // for the whole input.
  ASSERT_TRUE(source->Next(&value).value());
  EXPECT_EQ(value.number_value(), 1);
  EXPECT_FALSE(source->NextIsReady());
  Write("2\n");
  EXPECT_TRUE(source->NextIsReady());
  ASSERT_TRUE(source->Next(&value).value());
  EXPECT_EQ(value.number_value(), 2);
}

TEST_F(StdinTest, BadLineErrorNamesLineNumberAndText) {
  std::unique_ptr<ItemSource> source = SourceOf({"-"}, read_fd());
  Write("1\n\nnope\n");
  CloseWriteEnd();
  Value value;
  ASSERT_TRUE(source->Next(&value).value());
  absl::StatusOr<bool> more = source->Next(&value);
  ASSERT_FALSE(more.ok());
  EXPECT_THAT(more, StatusIs(absl::StatusCode::kInvalidArgument,
                             AllOf(HasSubstr("line 3"), HasSubstr("nope"))));
}

TEST_F(StdinTest, InterruptWakesAWaitingNext) {
  std::unique_ptr<ItemSource> source = SourceOf({"-"}, read_fd());
  source->Interrupt();  // Before Next() waits: it must still return.
  Value value;
  absl::StatusOr<bool> more = source->Next(&value);
  EXPECT_THAT(more, StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace
}  // namespace pprocd::pproc
