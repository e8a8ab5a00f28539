#include "tests/util/status_matchers.h"

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/support/status.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

using ::testing::DescribeMatcher;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::ExplainMatchResult;
using ::testing::HasSubstr;
using ::testing::Matcher;
using ::testing::Not;
using ::testing::StringMatchResultListener;

// What `matcher` says about `value` when it does not match it.
template <typename T, typename M>
std::string Explain(const M& matcher, const T& value) {
  StringMatchResultListener listener;
  EXPECT_FALSE(ExplainMatchResult(matcher, value, &listener));
  return listener.str();
}

TEST(IsOkTest, MatchesAnOkStatusAndAStatusOrWithAValue) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(absl::StatusOr<int>(3), IsOk());
  EXPECT_THAT(absl::NotFoundError("gone"), Not(IsOk()));
  EXPECT_THAT(absl::StatusOr<int>(absl::InternalError("broken")), Not(IsOk()));
}

TEST(IsOkTest, AFailureNamesTheStatus) {
  EXPECT_EQ(DescribeMatcher<absl::Status>(IsOk()), "is OK");
  EXPECT_EQ(DescribeMatcher<absl::Status>(IsOk(), /*negation=*/true), "is not OK");
  EXPECT_EQ(Explain(IsOk(), absl::NotFoundError("no job j1")), "which is NOT_FOUND: no job j1");
  EXPECT_EQ(Explain(IsOk(), absl::StatusOr<int>(absl::InternalError("broken"))),
            "which is INTERNAL: broken");
}

TEST(StatusIsTest, MatchesTheCodeAndTheMessage) {
  const absl::Status status = absl::InvalidArgumentError("bad port 70000");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, "bad port 70000"));
  EXPECT_THAT(status, Not(StatusIs(absl::StatusCode::kNotFound)));
  EXPECT_THAT(status, Not(StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("host"))));
  EXPECT_THAT(absl::OkStatus(), StatusIs(absl::StatusCode::kOk));
  EXPECT_THAT(absl::StatusOr<std::string>("x"), StatusIs(absl::StatusCode::kOk));
  EXPECT_THAT(absl::StatusOr<std::string>(absl::NotFoundError("no job")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job")));
  EXPECT_THAT(status, StatusIs(Not(absl::StatusCode::kOk)));
}

TEST(StatusIsTest, AFailureSaysWhatWasExpectedAndWhatCame) {
  const Matcher<absl::Status> matcher = StatusIs(absl::StatusCode::kNotFound, HasSubstr("job"));
  EXPECT_EQ(DescribeMatcher<absl::Status>(matcher),
            "has a status code that is equal to NOT_FOUND, and has a message that has substring "
            "\"job\"");
  EXPECT_EQ(Explain(matcher, absl::InternalError("disk full")),
            "which has status INTERNAL: disk full, whose code is wrong");
  EXPECT_EQ(Explain(matcher, absl::NotFoundError("no file")),
            "which has status NOT_FOUND: no file, whose message is wrong");
  EXPECT_EQ(Explain(StatusIs(absl::StatusCode::kNotFound), absl::StatusOr<int>(7)),
            "which has status OK, whose code is wrong");
}

TEST(IsOkAndHoldsTest, MatchesTheValueOfAnOkStatusOr) {
  EXPECT_THAT(absl::StatusOr<int>(3), IsOkAndHolds(3));
  EXPECT_THAT(absl::StatusOr<int>(3), IsOkAndHolds(Eq(3)));
  EXPECT_THAT(absl::StatusOr<std::vector<int>>(std::vector<int>{1, 2}),
              IsOkAndHolds(ElementsAre(1, 2)));
  EXPECT_THAT(absl::StatusOr<int>(3), Not(IsOkAndHolds(4)));
  EXPECT_THAT(absl::StatusOr<int>(absl::NotFoundError("gone")), Not(IsOkAndHolds(3)));
}

TEST(IsOkAndHoldsTest, AFailureNamesTheStatusOrTheValue) {
  const Matcher<absl::StatusOr<int>> matcher = IsOkAndHolds(Eq(4));
  EXPECT_EQ(DescribeMatcher<absl::StatusOr<int>>(matcher),
            "is OK and has a value that is equal to 4");
  EXPECT_EQ(Explain(matcher, absl::StatusOr<int>(3)), "which contains value 3");
  EXPECT_EQ(Explain(matcher, absl::StatusOr<int>(absl::UnavailableError("down"))),
            "which has status UNAVAILABLE: down");
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(absl::StatusOr<int> value) {
  if (!value.ok()) return value.status();
  return std::make_unique<int>(*value);
}

TEST(StatusMacrosTest, PassOnOk) {
  EXPECT_OK(absl::OkStatus());
  ASSERT_OK(absl::StatusOr<int>(1));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> value, MakeInt(5));
  EXPECT_EQ(*value, 5);
  int plain = 0;
  ASSERT_OK_AND_ASSIGN(plain, absl::StatusOr<int>(6));
  EXPECT_EQ(plain, 6);
}

TEST(StatusMacrosTest, AFailurePrintsTheStatus) {
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(absl::DataLossError("torn page")),
                          "absl::DataLossError(\"torn page\") is DATA_LOSS: torn page");
  EXPECT_FATAL_FAILURE(ASSERT_OK(absl::StatusOr<int>(absl::DataLossError("torn page")))
                           << "reading the page",
                       "is DATA_LOSS: torn page\nreading the page");
  EXPECT_FATAL_FAILURE(
      {
        ASSERT_OK_AND_ASSIGN(const auto value, MakeInt(absl::AbortedError("raced")));
        (void)value;
      },
      "MakeInt(absl::AbortedError(\"raced\")) is ABORTED: raced");
}

TEST(GrpcStatusTest, IsOkStatusIsAndTheMacrosReadTheCodeAndMessage) {
  const grpc::Status denied(grpc::StatusCode::PERMISSION_DENIED, "not yours");
  EXPECT_THAT(grpc::Status::OK, IsOk());
  EXPECT_OK(grpc::Status::OK);
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kPermissionDenied, "not yours"));
  EXPECT_EQ(Explain(IsOk(), denied), "which is PERMISSION_DENIED: not yours");
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(denied), "denied is PERMISSION_DENIED: not yours");
}

TEST(ProtobufStatusTest, IsOkStatusIsAndTheMacrosReadTheCodeAndMessage) {
  google::protobuf::Struct parsed;
  EXPECT_OK(google::protobuf::util::JsonStringToMessage("{}", &parsed));
  EXPECT_THAT(google::protobuf::util::JsonStringToMessage("{", &parsed),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(WaitForTest, ReturnsOnceTheConditionHoldsOrFalseAtTheDeadline) {
  int asked = 0;
  EXPECT_TRUE(WaitFor([&] { return ++asked == 3; }, absl::Seconds(10), absl::ZeroDuration()));
  EXPECT_EQ(asked, 3);
  EXPECT_FALSE(WaitFor([] { return false; }, absl::ZeroDuration()));
}

}  // namespace
}  // namespace pprocd::testing
