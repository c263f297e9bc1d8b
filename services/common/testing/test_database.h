// TestDatabase: a fresh, empty PostgreSQL database for one adapter test, created on the server
// named by PORTUNUS_TEST_PG_URI (a libpq connection string to an admin database; ctest sets it
// through the `pg` fixture in tests/CMakeLists.txt) and dropped afterwards.
//
// When PORTUNUS_TEST_PG_URI is unset the test is skipped, unless PORTUNUS_REQUIRE_PG=1 (set by
// the README's test command and CI), where it fails: nothing is silently skipped in CI.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace portunus::testing {

class TestDatabase {
 public:
  // kFailedPrecondition when PORTUNUS_TEST_PG_URI is unset; kUnavailable when the server cannot
  // be reached.
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create();
  ~TestDatabase();

  // Connection string of the new database.
  const std::string& dsn() const { return dsn_; }
  const std::string& name() const { return name_; }

 private:
  TestDatabase(std::string admin_dsn, std::string name);
  std::string admin_dsn_;
  std::string name_;
  std::string dsn_;
};

}  // namespace portunus::testing

// In a TEST body: declares `std::unique_ptr<TestDatabase> var`, or skips/fails as documented.
#define PORTUNUS_TEST_DATABASE(var)                                                      \
  std::unique_ptr<::portunus::testing::TestDatabase> var;                               \
  {                                                                                      \
    auto portunus_db_ = ::portunus::testing::TestDatabase::Create();                   \
    if (!portunus_db_.ok()) {                                                            \
      if (portunus_db_.status().code() == absl::StatusCode::kFailedPrecondition &&      \
          !::portunus::testing::PgRequired()) {                                          \
        GTEST_SKIP() << portunus_db_.status().message();                                \
      }                                                                                  \
      FAIL() << portunus_db_.status().message();                                         \
    }                                                                                    \
    var = std::move(*portunus_db_);                                                      \
  }

namespace portunus::testing {
bool PgRequired();
}
