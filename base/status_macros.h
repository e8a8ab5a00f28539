// Status helpers missing from abseil 20220623: early-return macros and an
// errno-to-status conversion. Header-only; safe from any thread.
#ifndef PPROCD_BASE_STATUS_MACROS_H_
#define PPROCD_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#define PPROCD_CONCAT_INNER_(a, b) a##b
#define PPROCD_CONCAT_(a, b) PPROCD_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define PPROCD_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status pprocd_status_ = (expr);          \
    if (!pprocd_status_.ok()) return pprocd_status_; \
  } while (false)

// `PPROCD_ASSIGN_OR_RETURN(auto x, F());` assigns the value of the
// absl::StatusOr F() to x, or returns its status from the enclosing function.
#define PPROCD_ASSIGN_OR_RETURN(lhs, expr) \
  PPROCD_ASSIGN_OR_RETURN_IMPL_(PPROCD_CONCAT_(pprocd_or_, __LINE__), lhs, expr)
#define PPROCD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(*tmp)

namespace pprocd {

// Builds a status from an errno value captured at the failing call, e.g.
// ErrnoStatus(errno, "bind /run/x.sock").
absl::Status ErrnoStatus(int error_number, absl::string_view what);

}  // namespace pprocd

#endif  // PPROCD_BASE_STATUS_MACROS_H_
