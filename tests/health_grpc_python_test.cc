// Other languages can use Portunus's gRPC APIs (issue 6): tests/health_grpc_clients.py generates
// Python stubs from proto/ (python3-grpc-tools, or Debian's protoc + gRPC Python plugin where
// grpc-tools' bundled protoc is too old for proto3 `optional`) and, from /usr/bin/python3 with
// python3-grpcio, calls grpc.health.v1 Check and Watch, server reflection and one real method
// on every running service.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

using ::testing::HasSubstr;

TEST(HealthGrpcPythonTest, PythonClientsCallHealthReflectionAndRealMethodsOnEveryService) {
  PORTUNUS_TEST_DATABASE(db);
  Stack::Options options;
  options.services = DatabaseServices();  // the gRPC services
  options.db_dsn = db->dsn();
  options.config = {{"health.scanner_enabled", "true"}};
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Stack> stack, Stack::Create(options));
  HARNESS_ASSERT_OK(stack->Start());

  TempDir work("pyclients");
  Process::Options run;
  run.binary = kSystemPython;
  run.args = {SourceDir() + "/tests/health_grpc_clients.py",
              "--proto-dir",
              SourceDir() + "/proto",
              "--work-dir",
              work.path(),
              "--internal-secret",
              stack->internal_secret()};
  for (const std::string& svc : DatabaseServices()) {
    run.args.push_back("--service");
    run.args.push_back(absl::StrCat(svc, "=", stack->grpc_address(svc)));
  }
  // The health service needs a moment to see its database before GetHealth says up-to-date.
  absl::StatusOr<CommandResult> result;
  PollUntil(
      [&] {
        result = RunCommand(run, absl::Seconds(120));
        return result.ok() && result->ok();
      },
      absl::Seconds(60), absl::Seconds(1));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->ok()) << result->Describe() << "\n" << result->out;
  for (const std::string& svc : DatabaseServices()) {
    EXPECT_THAT(result->out, HasSubstr("ok    " + svc + " grpc.health.v1 Check"));
    EXPECT_THAT(result->out, HasSubstr("ok    " + svc + " grpc.health.v1 Watch"));
    EXPECT_THAT(result->out, HasSubstr("ok    " + svc + " server reflection"));
  }
  EXPECT_THAT(result->out, HasSubstr("ok    health HealthService.GetHealth"));
  EXPECT_THAT(result->out, HasSubstr("ok    health HealthService.GetClusterStatus"));
  EXPECT_THAT(result->out, HasSubstr("ok    scanner VulnDbService.GetVulnDbStatus"));
  EXPECT_THAT(result->out, HasSubstr("ok    auth AccessService.Authenticate"));
  // The catalog's own API, once its protos exist.
  if (std::filesystem::exists(SourceDir() + "/proto/portunus/catalog/v1/sync.proto")) {
    EXPECT_THAT(result->out, HasSubstr("ok    catalog SyncService.GetSyncStatus"));
  }
  EXPECT_THAT(result->out, HasSubstr("0 failure(s)"));
  std::printf("%s", result->out.c_str());  // what was called, in the test log
}

}  // namespace
}  // namespace portunus::harness
