// The integration-test harness in one include: real PostgreSQL, the real registry, skopeo,
// offline OCI images and the Portunus services as processes on free ports, all cleaned up when
// the test ends, fails or asserts. See each header; tests/README.md has a walkthrough.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/harness/grpc_health.h"
#include "tests/harness/http.h"
#include "tests/harness/oci_image.h"
#include "tests/harness/postgres_server.h"
#include "tests/harness/process.h"
#include "tests/harness/registry_server.h"
#include "tests/harness/skopeo.h"
#include "tests/harness/stack.h"
#include "tests/harness/util.h"

// ASSERT that an absl::Status (or StatusOr) is OK, printing the status otherwise.
#define HARNESS_ASSERT_OK(expr)                                              \
  do {                                                                       \
    const auto& harness_status_ = (expr);                                    \
    ASSERT_TRUE(::portunus::harness::internal::StatusOf(harness_status_).ok()) \
        << #expr << ": " << ::portunus::harness::internal::StatusOf(harness_status_); \
  } while (0)

// `lhs = std::move(*rexpr)` after asserting that the StatusOr `rexpr` is OK.
#define HARNESS_ASSIGN_OR_FAIL(lhs, rexpr)                                   \
  HARNESS_ASSIGN_OR_FAIL_IMPL_(HARNESS_CONCAT_(harness_or_, __LINE__), lhs, rexpr)
#define HARNESS_ASSIGN_OR_FAIL_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  ASSERT_TRUE(tmp.ok()) << #rexpr << ": " << tmp.status(); \
  lhs = std::move(*tmp)
#define HARNESS_CONCAT_(a, b) HARNESS_CONCAT_INNER_(a, b)
#define HARNESS_CONCAT_INNER_(a, b) a##b

namespace portunus::harness::internal {
inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace portunus::harness::internal
