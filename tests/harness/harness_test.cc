// Tests of the harness itself, so end-to-end tests can trust it: processes and their cleanup,
// ports, YAML rendering, a private PostgreSQL that stops and restarts with its data, the
// registry's template, offline OCI images and the isolated skopeo.
#include <signal.h>
#include <unistd.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

using ::testing::HasSubstr;

TEST(ProcessTest, CapturesOutputExitCodeAndEnvironment) {
  TempDir dir;
  ::setenv("PORTUNUS_HARNESS_LEAK", "x", 1);
  Process::Options o;
  o.binary = "/bin/sh";
  o.args = {"-c", "echo out; echo err >&2; echo \"v=$V leak=${PORTUNUS_HARNESS_LEAK:-none}\"; "
                  "exit 3"};
  o.env = {{"V", "42"}};
  o.unset_env_prefixes = {"PORTUNUS_"};
  o.log_path = dir.Sub("log");
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Process> p, Process::Start(o));
  std::optional<ExitStatus> st = p->WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->exited);
  EXPECT_EQ(st->code, 3);
  EXPECT_FALSE(p->IsRunning());
  EXPECT_EQ(p->ReadLog(), "out\nerr\nv=42 leak=none\n");
  ::unsetenv("PORTUNUS_HARNESS_LEAK");
}

TEST(ProcessTest, RunCommandSeparatesStdoutStderrAndFeedsStdin) {
  HARNESS_ASSIGN_OR_FAIL(CommandResult r,
                         RunCommand("/bin/sh", {"-c", "cat; echo oops >&2"}, absl::Seconds(10),
                                    "hello\n"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "oops\n");
}

TEST(ProcessTest, TerminateStopsAndReportsTheSignal) {
  TempDir dir;
  Process::Options o;
  o.binary = "sleep";
  o.args = {"300"};
  o.log_path = dir.Sub("log");
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Process> p, Process::Start(o));
  EXPECT_TRUE(p->IsRunning());
  HARNESS_ASSIGN_OR_FAIL(ExitStatus st, p->Terminate(absl::Seconds(5)));
  EXPECT_FALSE(st.exited);
  EXPECT_EQ(st.signal, SIGTERM);
  EXPECT_EQ(p->Signal(SIGTERM).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ProcessTest, TerminateKillsAProcessIgnoringSigterm) {
  TempDir dir;
  Process::Options o;
  o.binary = "/bin/sh";
  o.args = {"-c", "trap '' TERM; echo ready; while :; do sleep 1; done"};
  o.log_path = dir.Sub("log");
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Process> p, Process::Start(o));
  ASSERT_TRUE(PollUntil([&] { return p->ReadLog() == "ready\n"; }, absl::Seconds(10)));
  EXPECT_EQ(p->Terminate(absl::Milliseconds(300)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(p->IsRunning());
  EXPECT_EQ(p->exit_status()->signal, SIGKILL);
}

TEST(ProcessTest, KillTakesTheWholeProcessGroup) {
  TempDir dir;
  Process::Options o;
  o.binary = "/bin/sh";
  o.args = {"-c", "sleep 300 & echo $!; wait"};
  o.log_path = dir.Sub("log");
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Process> p, Process::Start(o));
  ASSERT_TRUE(PollUntil([&] { return absl::EndsWith(p->ReadLog(), "\n"); }, absl::Seconds(10)));
  const pid_t child = std::stoi(p->ReadLog());
  p->Kill();
  // The grandchild is gone too (reaped by init; kill(0) fails once it is).
  EXPECT_TRUE(PollUntil([&] { return kill(child, 0) != 0; }, absl::Seconds(10)));
}

TEST(ProcessTest, MissingBinaryIsNotFound) {
  TempDir dir;
  Process::Options o;
  o.binary = "/nonexistent/binary";
  o.log_path = dir.Sub("log");
  EXPECT_EQ(Process::Start(o).status().code(), absl::StatusCode::kNotFound);
}

TEST(UtilTest, PickFreePortNeverRepeats) {
  std::set<int> ports;
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(ports.insert(PickFreePort()).second);
}

TEST(UtilTest, RenderYamlNestsDottedKeysAndQuotesValues) {
  EXPECT_EQ(RenderYaml({{"db.host", "/tmp/x y"}, {"db.port", "5432"}, {"log.level", "info"},
                        {"auth.token.issuer", "port\"unus"}}),
            "auth:\n  token:\n    issuer: \"port\\\"unus\"\n"
            "db:\n  host: \"/tmp/x y\"\n  port: \"5432\"\n"
            "log:\n  level: \"info\"\n");
}

TEST(UtilTest, KnownConfigKeysComeFromThisBuild) {
  EXPECT_TRUE(IsKnownConfigKey("db.host"));
  EXPECT_TRUE(IsKnownConfigKey("gateway.metrics_listen"));
  EXPECT_FALSE(IsKnownConfigKey("no.such.key"));
}

TEST(PostgresServerTest, StopsAndRestartsWithItsData) {
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<PostgresServer> pg, PostgresServer::Start());
  HARNESS_ASSERT_OK(pg->CreateDatabase("app"));
  EXPECT_EQ(pg->CreateDatabase("app").code(), absl::StatusCode::kAlreadyExists);
  HARNESS_ASSERT_OK(PgExecute(pg->Dsn("app"), "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')"));
  EXPECT_EQ(PgQueryValue(pg->TcpDsn("app"), "SELECT v FROM t").value_or(""), "kept");

  HARNESS_ASSERT_OK(pg->Stop());
  EXPECT_FALSE(pg->IsRunning());
  EXPECT_FALSE(PgIsAccepting(pg->Dsn()));
  EXPECT_EQ(PgQueryValue(pg->Dsn("app"), "SELECT 1").status().code(),
            absl::StatusCode::kUnavailable);

  HARNESS_ASSERT_OK(pg->Restart());
  EXPECT_EQ(PgQueryValue(pg->Dsn("app"), "SELECT v FROM t").value_or(""), "kept");

  pg->Kill();
  EXPECT_FALSE(pg->IsRunning());
  HARNESS_ASSERT_OK(pg->Restart());  // crash recovery
  EXPECT_EQ(PgQueryValue(pg->Dsn("app"), "SELECT v FROM t").value_or(""), "kept");
}

TEST(RegistryServerTest, ChallengesWithTheConfiguredRealmAndKeepsStorage) {
  RegistryServer::Options o;
  o.realm = "http://127.0.0.1:1/v2/token";
  o.service = "registry.test";
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<RegistryServer> registry, RegistryServer::Start(o));
  HARNESS_ASSIGN_OR_FAIL(HttpResponse r, HttpGet(registry->url() + "/v2/"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("www-authenticate"),
            "Bearer realm=\"http://127.0.0.1:1/v2/token\",service=\"registry.test\"");
  HARNESS_ASSIGN_OR_FAIL(HttpResponse health, HttpGet(registry->debug_url() + "/debug/health"));
  EXPECT_EQ(health.status, 200);
  EXPECT_THAT(ReadFile(registry->config_path()).value_or(""), HasSubstr("disabled: true"));

  HARNESS_ASSERT_OK(WriteFile(registry->storage_dir() + "/marker", "x"));
  HARNESS_ASSERT_OK(registry->Restart());
  HARNESS_ASSIGN_OR_FAIL(HttpResponse again, HttpGet(registry->url() + "/v2/"));
  EXPECT_EQ(again.status, 401);
  EXPECT_TRUE(ReadFile(registry->storage_dir() + "/marker").ok());
}

TEST(OciImageTest, BuildsLayersWithFilesAndWhiteoutsThatSkopeoReads) {
  TempDir dir("oci");
  OciImageBuilder builder;
  builder.File("var/lib/dpkg/status",
               "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\n"
               "Version: 3.0.11-1~deb12u2\n\n")
      .File("bin/tool", std::string("\x7f" "ELF\0\x01\xff", 7), 0755)
      .Symlink("usr/bin/tool", "/bin/tool")
      .Layer()
      .Whiteout("bin/tool")
      .OpaqueDir("usr/share/doc")
      .Config({{"Env", {"PATH=/usr/bin"}}});
  HARNESS_ASSIGN_OR_FAIL(OciImage image, builder.Build(dir.Sub("layout"), "v1"));
  EXPECT_EQ(image.media_type, "application/vnd.oci.image.manifest.v1+json");
  ASSERT_EQ(image.manifests.size(), 1u);
  EXPECT_EQ(image.manifests[0]["layers"].size(), 2u);
  // Deterministic: the same spec gives the same digest.
  HARNESS_ASSIGN_OR_FAIL(OciImage again, builder.Build(dir.Sub("layout2"), "v1"));
  EXPECT_EQ(again.digest, image.digest);

  Skopeo skopeo;
  HARNESS_ASSIGN_OR_FAIL(CommandResult inspect, skopeo.Run({"inspect", image.ref()}));
  ASSERT_TRUE(inspect.ok()) << inspect.Describe();
  nlohmann::json info = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(info["Architecture"], "amd64");
  EXPECT_EQ(info["Os"], "linux");
  EXPECT_EQ(info["Layers"].size(), 2u);
  EXPECT_EQ(info["Digest"], image.digest);

  // A copy through skopeo (as a push would) keeps the layers byte for byte.
  HARNESS_ASSIGN_OR_FAIL(
      CommandResult copy,
      skopeo.Copy(image.ref(), "oci:" + dir.Sub("copy") + ":v1", Skopeo::CopyOptions{}));
  ASSERT_TRUE(copy.ok()) << copy.Describe();
  for (const auto& layer : image.manifests[0]["layers"]) {
    const std::string hex = layer["digest"].get<std::string>().substr(7);
    EXPECT_TRUE(ReadFile(dir.Sub("copy/blobs/sha256/" + hex)).ok()) << hex;
  }
  // umoci unpacks it, applying the whiteouts.
  std::vector<std::string> umoci = {"raw", "unpack", "--image", dir.Sub("layout") + ":v1",
                                    dir.Sub("rootfs")};
  if (geteuid() != 0) umoci.insert(umoci.begin() + 2, "--rootless");
  HARNESS_ASSIGN_OR_FAIL(CommandResult unpack, RunCommand("umoci", umoci));
  ASSERT_TRUE(unpack.ok()) << unpack.Describe();
  EXPECT_THAT(ReadFile(dir.Sub("rootfs/var/lib/dpkg/status")).value_or(""),
              HasSubstr("Package: openssl"));
  EXPECT_FALSE(ReadFile(dir.Sub("rootfs/bin/tool")).ok());
}

TEST(OciImageTest, SeveralPlatformsMakeAnIndex) {
  TempDir dir("oci");
  OciImageBuilder builder;
  builder.File("etc/os-release", "ID=debian\n")
      .AddPlatform("linux", "arm64", "v8")
      .File("etc/os-release", "ID=debian\nARCH=arm64\n");
  HARNESS_ASSIGN_OR_FAIL(OciImage image, builder.Build(dir.Sub("layout"), "multi"));
  EXPECT_EQ(image.media_type, "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(image.manifests.size(), 2u);
  EXPECT_EQ(image.manifests[1]["platform"]["architecture"], "arm64");
  EXPECT_EQ(image.manifests[1]["platform"]["variant"], "v8");

  Skopeo skopeo;
  HARNESS_ASSIGN_OR_FAIL(CommandResult raw, skopeo.Run({"inspect", "--raw", image.ref()}));
  ASSERT_TRUE(raw.ok()) << raw.Describe();
  nlohmann::json index = nlohmann::json::parse(raw.out);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(index["manifests"].size(), 2u);
  Skopeo::CopyOptions all;
  all.all = true;
  HARNESS_ASSIGN_OR_FAIL(CommandResult copy,
                         skopeo.Copy(image.ref(), "oci:" + dir.Sub("copy") + ":multi", all));
  EXPECT_TRUE(copy.ok()) << copy.Describe();
}

TEST(SkopeoTest, TalksToTheRegistryWithItsOwnAuthFile) {
  RegistryServer::Options o;
  o.realm = "http://127.0.0.1:1/v2/token";  // nothing listens: token requests fail
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<RegistryServer> registry, RegistryServer::Start(o));
  Skopeo skopeo;
  HARNESS_ASSIGN_OR_FAIL(
      CommandResult tags,
      skopeo.ListTags("docker://" + registry->host_port() + "/ns/app", Credentials{"u", "p"}));
  EXPECT_FALSE(tags.ok());
  // It reached the registry and followed its challenge to the realm.
  EXPECT_THAT(tags.err, HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(ReadFile(skopeo.auth_file()).value_or(""), HasSubstr("auths"));
}

}  // namespace
}  // namespace portunus::harness
