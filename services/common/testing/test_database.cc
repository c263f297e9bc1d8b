#include "services/common/testing/test_database.h"

#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pqxx/pqxx"

namespace portunus::testing {

bool PgRequired() {
  const char* v = std::getenv("PORTUNUS_REQUIRE_PG");
  return v != nullptr && std::string(v) == "1";
}

absl::StatusOr<std::unique_ptr<TestDatabase>> TestDatabase::Create() {
  const char* uri = std::getenv("PORTUNUS_TEST_PG_URI");
  if (uri == nullptr || *uri == '\0') {
    return absl::FailedPreconditionError(
        "PORTUNUS_TEST_PG_URI is not set (run through ctest, which starts PostgreSQL)");
  }
  std::random_device rd;
  const std::string name =
      absl::StrFormat("portunus_test_%08x%08x", static_cast<uint32_t>(rd()), static_cast<uint32_t>(rd()));
  try {
    pqxx::connection admin(uri);
    pqxx::nontransaction n(admin);
    n.exec("CREATE DATABASE " + n.quote_name(name));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot create test database: ", e.what()));
  }
  return std::unique_ptr<TestDatabase>(new TestDatabase(uri, name));
}

TestDatabase::TestDatabase(std::string admin_dsn, std::string name)
    : admin_dsn_(std::move(admin_dsn)),
      name_(std::move(name)),
      dsn_(absl::StrCat(admin_dsn_, " dbname=", name_)) {}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(admin_dsn_);
    pqxx::nontransaction n(admin);
    n.exec("DROP DATABASE IF EXISTS " + n.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception&) {
    // Best effort: the whole test cluster is thrown away after the run.
  }
}

}  // namespace portunus::testing
