// gMock matchers and gtest macros for absl::Status and absl::StatusOr<T>,
// after abseil's absl/status/status_matchers.h (which the abseil this project
// builds with does not have yet). IsOk, StatusIs, EXPECT_OK and ASSERT_OK take
// a grpc::Status and a google::protobuf::util::Status as well. Test-only.
//
//   EXPECT_THAT(status, IsOk());                  // absl::Status or StatusOr<T>
//   EXPECT_THAT(parsed, IsOkAndHolds(Eq(3)));     // StatusOr<T>: OK and the value matches
//   EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
//   ASSERT_OK(store->Flush());                    // fails printing the status
//   ASSERT_OK_AND_ASSIGN(auto store, JobStore::Open(options));
//
// Every failing match names the status it got (code and message), so a
// failure reads without a rerun.
#ifndef PPROCD_TESTS_UTIL_STATUS_MATCHERS_H_
#define PPROCD_TESTS_UTIL_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pprocd::testing {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// A grpc::Status and a google::protobuf::util::Status (what the JSON
// conversions answer) are known by their members, so this header needs
// neither gRPC nor protobuf: each reads as the absl::Status of the same code
// (all three use the canonical codes) and message.
template <typename T, typename = void>
struct IsGrpcStatus : std::false_type {};
template <typename T>
struct IsGrpcStatus<T, std::void_t<decltype(std::declval<const T&>().error_code()),
                                   decltype(std::declval<const T&>().error_message())>>
    : std::true_type {};

template <typename T, typename = void>
struct IsProtobufStatus : std::false_type {};
template <typename T>
struct IsProtobufStatus<T, std::void_t<decltype(std::declval<const T&>().code()),
                                       decltype(std::declval<const T&>().message().as_string())>>
    : std::true_type {};

template <typename GrpcStatus, std::enable_if_t<IsGrpcStatus<GrpcStatus>::value, int> = 0>
absl::Status GetStatus(const GrpcStatus& status) {
  return absl::Status(static_cast<absl::StatusCode>(static_cast<int>(status.error_code())),
                      status.error_message());
}

template <typename ProtobufStatus,
          std::enable_if_t<IsProtobufStatus<ProtobufStatus>::value, int> = 0>
absl::Status GetStatus(const ProtobufStatus& status) {
  return absl::Status(static_cast<absl::StatusCode>(static_cast<int>(status.code())),
                      status.message().as_string());
}

// EXPECT_OK / ASSERT_OK: "<expression> is <code>: <message>" when not OK.
template <typename StatusType>
::testing::AssertionResult AssertOk(const char* expression, const StatusType& actual) {
  const absl::Status& status = GetStatus(actual);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expression << " is " << status;
}

// IsOk(): a polymorphic matcher for absl::Status and absl::StatusOr<T>.
class IsOkMatcher {
 public:
  template <typename StatusType>
  bool MatchAndExplain(const StatusType& actual, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);  // Bound to a copy for a grpc::Status.
    if (status.ok()) return true;
    *listener << "which is " << status;
    return false;
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

// StatusIs(code, message): the code and the message each match their own
// matcher; the value of a StatusOr is not looked at.
class StatusIsMatcherCommon {
 public:
  StatusIsMatcherCommon(::testing::Matcher<absl::StatusCode> code,
                        ::testing::Matcher<const std::string&> message)
      : code_(std::move(code)), message_(std::move(message)) {}

  void DescribeTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_.DescribeTo(os);
    *os << ", and has a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_.DescribeNegationTo(os);
    *os << ", or has a message that ";
    message_.DescribeNegationTo(os);
  }
  bool MatchAndExplain(const absl::Status& status, ::testing::MatchResultListener* listener) const {
    ::testing::StringMatchResultListener inner;
    if (!code_.MatchAndExplain(status.code(), &inner)) {
      *listener << "which has status " << status << ", whose code is wrong";
      if (!inner.str().empty()) *listener << " (" << inner.str() << ")";
      return false;
    }
    if (!message_.MatchAndExplain(std::string(status.message()), &inner)) {
      *listener << "which has status " << status << ", whose message is wrong";
      if (!inner.str().empty()) *listener << " (" << inner.str() << ")";
      return false;
    }
    return true;
  }

 private:
  ::testing::Matcher<absl::StatusCode> code_;
  ::testing::Matcher<const std::string&> message_;
};

// The StatusIs matcher for one type (absl::Status or absl::StatusOr<T>).
template <typename StatusRef>
class MonoStatusIsMatcher : public ::testing::MatcherInterface<StatusRef> {
 public:
  explicit MonoStatusIsMatcher(StatusIsMatcherCommon common) : common_(std::move(common)) {}
  void DescribeTo(std::ostream* os) const override { common_.DescribeTo(os); }
  void DescribeNegationTo(std::ostream* os) const override { common_.DescribeNegationTo(os); }
  bool MatchAndExplain(StatusRef actual, ::testing::MatchResultListener* listener) const override {
    return common_.MatchAndExplain(GetStatus(actual), listener);
  }

 private:
  StatusIsMatcherCommon common_;
};

class StatusIsMatcher {
 public:
  template <typename CodeMatcher, typename MessageMatcher>
  StatusIsMatcher(CodeMatcher&& code, MessageMatcher&& message)
      : common_(::testing::MatcherCast<absl::StatusCode>(std::forward<CodeMatcher>(code)),
                ::testing::MatcherCast<const std::string&>(std::forward<MessageMatcher>(message))) {
  }

  template <typename StatusType>
  operator ::testing::Matcher<StatusType>() const {  // NOLINT: converts implicitly, like gMock's.
    return ::testing::Matcher<StatusType>(new MonoStatusIsMatcher<const StatusType&>(common_));
  }

 private:
  StatusIsMatcherCommon common_;
};

// IsOkAndHolds(m) for one absl::StatusOr<T> type.
template <typename StatusOrRef>
class IsOkAndHoldsMatcherImpl : public ::testing::MatcherInterface<StatusOrRef> {
 public:
  using StatusOrType = std::remove_cv_t<std::remove_reference_t<StatusOrRef>>;
  using value_type = typename StatusOrType::value_type;

  template <typename InnerMatcher>
  explicit IsOkAndHoldsMatcherImpl(InnerMatcher&& inner)
      : inner_(::testing::SafeMatcherCast<const value_type&>(std::forward<InnerMatcher>(inner))) {}

  void DescribeTo(std::ostream* os) const override {
    *os << "is OK and has a value that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not OK, or has a value that ";
    inner_.DescribeNegationTo(os);
  }
  bool MatchAndExplain(StatusOrRef actual,
                       ::testing::MatchResultListener* listener) const override {
    if (!actual.ok()) {
      *listener << "which has status " << actual.status();
      return false;
    }
    ::testing::StringMatchResultListener inner;
    const bool matches = inner_.MatchAndExplain(*actual, &inner);
    *listener << "which contains value " << ::testing::PrintToString(*actual);
    if (!inner.str().empty()) *listener << ", " << inner.str();
    return matches;
  }

 private:
  ::testing::Matcher<const value_type&> inner_;
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT: converts implicitly, like gMock's.
    return ::testing::Matcher<StatusOrType>(
        new IsOkAndHoldsMatcherImpl<const StatusOrType&>(inner_));
  }

 private:
  InnerMatcher inner_;
};

}  // namespace internal_status

// Matches an OK absl::Status, or an absl::StatusOr<T> that holds a value.
inline ::testing::PolymorphicMatcher<internal_status::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(internal_status::IsOkMatcher());
}

// Matches an absl::Status or absl::StatusOr<T> whose code matches `code` (a
// StatusCode or a matcher of one) and whose message matches `message` (a
// string, which must be equal, or a matcher of one, e.g. HasSubstr("...")).
template <typename CodeMatcher, typename MessageMatcher>
internal_status::StatusIsMatcher StatusIs(CodeMatcher&& code, MessageMatcher&& message) {
  return internal_status::StatusIsMatcher(std::forward<CodeMatcher>(code),
                                          std::forward<MessageMatcher>(message));
}

// As above, with any message.
template <typename CodeMatcher>
internal_status::StatusIsMatcher StatusIs(CodeMatcher&& code) {
  return StatusIs(std::forward<CodeMatcher>(code), ::testing::_);
}

// Matches an absl::StatusOr<T> that holds a value matching `inner`.
template <typename InnerMatcher>
internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(
    InnerMatcher&& inner) {
  return internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

}  // namespace pprocd::testing

// ASSERT_OK(expr) / EXPECT_OK(expr): `expr` (an absl::Status, an
// absl::StatusOr<T>, a grpc::Status or a protobuf util::Status) is OK; a failure prints the
// expression and its status. More may be streamed in: ASSERT_OK(s) << "while ...".
#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::pprocd::testing::internal_status::AssertOk, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::pprocd::testing::internal_status::AssertOk, expr)

// ASSERT_OK_AND_ASSIGN(lhs, rexpr): evaluates `rexpr` (an absl::StatusOr<T>)
// once; if it is not OK the test fails here (printing the expression and its
// status) and the current function returns; otherwise its value is moved into
// `lhs`, which may declare a variable (`auto store`, `const Job job`).
// Usable only where ASSERT_* is (functions returning void).
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                                       \
  PPROCD_ASSERT_OK_AND_ASSIGN_IMPL(PPROCD_STATUS_MATCHERS_CONCAT(pprocd_status_or_, __LINE__), \
                                   lhs, rexpr)

#define PPROCD_ASSERT_OK_AND_ASSIGN_IMPL(status_or, lhs, rexpr)          \
  auto status_or = (rexpr);                                              \
  ASSERT_TRUE(status_or.ok()) << #rexpr << " is " << status_or.status(); \
  lhs = *std::move(status_or)

#define PPROCD_STATUS_MATCHERS_CONCAT(x, y) PPROCD_STATUS_MATCHERS_CONCAT_INNER(x, y)
#define PPROCD_STATUS_MATCHERS_CONCAT_INNER(x, y) x##y

#endif  // PPROCD_TESTS_UTIL_STATUS_MATCHERS_H_
