// Propagation macros for absl::Status / absl::StatusOr<T>. Abseil's own ABSL_RETURN_IF_ERROR
// and ABSL_ASSIGN_OR_RETURN need Abseil 20260526; Debian 12 ships 20220623, so Portunus keeps
// its own. Both evaluate their argument exactly once.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PORTUNUS_STATUS_CONCAT_INNER_(x, y) x##y
#define PORTUNUS_STATUS_CONCAT_(x, y) PORTUNUS_STATUS_CONCAT_INNER_(x, y)

// Returns from the current function with the status of `expr` when it is not OK.
#define PORTUNUS_RETURN_IF_ERROR(expr)                      \
  do {                                                      \
    ::absl::Status portunus_status_ = (expr);               \
    if (!portunus_status_.ok()) return portunus_status_;    \
  } while (false)

// PORTUNUS_ASSIGN_OR_RETURN(T v, StatusOrExpr()) declares/assigns `v` from the value of a
// StatusOr, or returns its status from the current function.
#define PORTUNUS_ASSIGN_OR_RETURN(lhs, expr)                                              \
  PORTUNUS_ASSIGN_OR_RETURN_IMPL_(PORTUNUS_STATUS_CONCAT_(portunus_statusor_, __LINE__), \
                                  lhs, expr)
#define PORTUNUS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()
