#include "services/common/config.h"

#include <cstdio>
#include <fstream>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/common_config.h"

namespace portunus {
namespace {

using ::testing::HasSubstr;

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/portunus-config-XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    close(fd);
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const std::string kSecret = "0123456789abcdef0123456789abcdef";

TEST(ConfigTest, DefaultsThenYamlThenEnvironment) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  TempFile file("db:\n  host: db.internal\n  port: 6543\ninternal:\n  secret: " + kSecret + "\n");
  ASSERT_TRUE(b.Load(file.path(), FakeEnv({{"PORTUNUS_DB_PORT", "7777"}})).ok());
  EXPECT_EQ(c.db.host, "db.internal");  // from YAML
  EXPECT_EQ(c.db.port, 7777);           // env beats YAML
  EXPECT_EQ(c.db.database, "portunus"); // default
  EXPECT_EQ(c.auth.address, "127.0.0.1:50051");  // address defaults to listen
}

TEST(ConfigTest, EnvironmentNamesFollowPortusConvention) {
  EXPECT_EQ(ConfigBinder::EnvName("db.host"), "PORTUNUS_DB_HOST");
  EXPECT_EQ(ConfigBinder::EnvName("user_permission.push_images.policy"),
            "PORTUNUS_USER_PERMISSION_PUSH_IMAGES_POLICY");
}

TEST(ConfigTest, SecretFromFileVariant) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  TempFile secret(kSecret + "\n");
  TempFile pw("s3cr3t-pw\n");
  ASSERT_TRUE(b.Load("", FakeEnv({{"PORTUNUS_INTERNAL_SECRET_FILE", secret.path()},
                                  {"PORTUNUS_DB_PASSWORD_FILE", pw.path()}}))
                  .ok());
  EXPECT_EQ(c.internal_secret, kSecret);
  EXPECT_EQ(c.db.password, "s3cr3t-pw");
  const std::string rendered = b.Render();
  EXPECT_THAT(rendered, ::testing::Not(HasSubstr("s3cr3t-pw")));
  EXPECT_THAT(rendered, ::testing::Not(HasSubstr(kSecret)));
  EXPECT_THAT(rendered, HasSubstr("password: \"<redacted>\"  # PORTUNUS_DB_PASSWORD_FILE"));
}

TEST(ConfigTest, BothSecretSourcesIsAnError) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  TempFile secret(kSecret);
  absl::Status s = b.Load("", FakeEnv({{"PORTUNUS_INTERNAL_SECRET", kSecret},
                                       {"PORTUNUS_INTERNAL_SECRET_FILE", secret.path()}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("internal.secret: both"));
}

TEST(ConfigTest, BadValueNamesKeyAndSource) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  absl::Status s = b.Load("", FakeEnv({{"PORTUNUS_INTERNAL_SECRET", kSecret},
                                       {"PORTUNUS_DB_PORT", "70000"}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "db.port: must be between 1 and 65535 (got \"70000\" from PORTUNUS_DB_PORT)");
}

TEST(ConfigTest, MalformedYamlGivesFilePosition) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  TempFile file("db:\n  host: [unclosed\n");
  absl::Status s = b.Load(file.path(), FakeEnv({}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(file.path() + ":"));
  EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos);  // one line
}

TEST(ConfigTest, UnknownKeyInOwnedSectionIsAnError) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  TempFile file("db:\n  hots: x\n");
  absl::Status s = b.Load(file.path(), FakeEnv({{"PORTUNUS_INTERNAL_SECRET", kSecret}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("db.hots: unknown key"));
}

TEST(ConfigTest, OtherServicesSectionsAreIgnoredButUnknownSectionsAreNot) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  TempFile ok("scanner:\n  feeds: [a, b]\ninternal:\n  secret: " + kSecret + "\n");
  EXPECT_TRUE(b.Load(ok.path(), FakeEnv({})).ok());
  TempFile bad("dbb:\n  host: x\n");
  absl::Status s = b.Load(bad.path(), FakeEnv({{"PORTUNUS_INTERNAL_SECRET", kSecret}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("unknown section \"dbb\""));
}

TEST(ConfigTest, TypedKeys) {
  ConfigBinder b;
  b.OwnSection("auth");
  int64_t bytes;
  absl::Duration d;
  bool flag;
  std::vector<std::string> list;
  std::string mode;
  b.Bytes("auth.max", &bytes, 1024, "");
  b.Duration("auth.ttl", &d, absl::Minutes(15), "").Range(60000, 86400000);
  b.Bool("auth.flag", &flag, false, "");
  b.StringList("auth.list", &list, {}, "");
  b.Enum("auth.mode", &mode, "a", {"a", "b"}, "");
  TempFile file("auth:\n  max: 2MiB\n  ttl: 5m\n  flag: yes\n  list: [x, y]\n  mode: b\n");
  ASSERT_TRUE(b.Load(file.path(), FakeEnv({})).ok());
  EXPECT_EQ(bytes, 2 << 20);
  EXPECT_EQ(d, absl::Minutes(5));
  EXPECT_TRUE(flag);
  EXPECT_THAT(list, ::testing::ElementsAre("x", "y"));
  EXPECT_EQ(mode, "b");
  EXPECT_EQ(b.Load("", FakeEnv({{"PORTUNUS_AUTH_LIST", "p, q"}})).code(), absl::StatusCode::kOk);
  EXPECT_THAT(list, ::testing::ElementsAre("p", "q"));
  absl::Status s = b.Load("", FakeEnv({{"PORTUNUS_AUTH_TTL", "10s"}}));
  EXPECT_EQ(s.message(), "auth.ttl: must be between 1m and 24h (got \"10s\" from PORTUNUS_AUTH_TTL)");
  s = b.Load("", FakeEnv({{"PORTUNUS_AUTH_MODE", "c"}}));
  EXPECT_THAT(s.message(), HasSubstr("auth.mode: must be one of a, b"));
  s = b.Load("", FakeEnv({{"PORTUNUS_AUTH_MAX", "lots"}}));
  EXPECT_THAT(s.message(), HasSubstr("auth.max: must be a size"));
}

TEST(ConfigTest, RequiredSecretMissing) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  absl::Status s = b.Load("", FakeEnv({}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("internal.secret: is required"));
}

TEST(ConfigTest, MissingFileIsNotFound) {
  ConfigBinder b;
  EXPECT_EQ(b.Load("/nonexistent/portunus.yml", FakeEnv({})).code(), absl::StatusCode::kNotFound);
}

TEST(ConfigTest, ReferenceListsEveryKey) {
  CommonConfig c;
  ConfigBinder b;
  BindCommonConfig(&b, &c);
  const std::string ref = b.Reference();
  EXPECT_THAT(ref, HasSubstr("| `db.host` | string | `127.0.0.1` | `PORTUNUS_DB_HOST` |"));
  EXPECT_THAT(ref, HasSubstr("PORTUNUS_DB_PASSWORD_FILE"));
}

}  // namespace
}  // namespace portunus
