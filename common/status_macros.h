// Early-return helpers for absl::Status and absl::StatusOr, used across the project.
#ifndef HOTLINE_COMMON_STATUS_MACROS_H_
#define HOTLINE_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define HOTLINE_CONCAT_INNER_(a, b) a##b
#define HOTLINE_CONCAT_(a, b) HOTLINE_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status hotline_status_ = (expr);           \
    if (!hotline_status_.ok()) return hotline_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value of a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  HOTLINE_ASSIGN_OR_RETURN_IMPL_(HOTLINE_CONCAT_(hotline_statusor_, __LINE__), lhs, rexpr)

#define HOTLINE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // HOTLINE_COMMON_STATUS_MACROS_H_
