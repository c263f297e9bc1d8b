// Issue #3 with portunusctl against the real gateway and auth service: bootstrap the first
// admin, create users and a bot with a token, a team with all three roles, namespaces of each
// visibility, and read the denials and their reasons with `portunusctl explain`.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class IdentityCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    if (!db.ok()) {
      if (db.status().code() == absl::StatusCode::kFailedPrecondition && !testing::PgRequired()) {
        GTEST_SKIP() << db.status().message();
      }
      FAIL() << db.status();
    }
    db_ = std::move(*db);
    Stack::Options options;
    options.services = {"auth", "gateway"};
    options.db_dsn = db_->dsn();
    options.config["auth.bcrypt_cost"] = "4";
    HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
    HARNESS_ASSERT_OK(stack_->Start());
  }

  // portunusctl --server <gateway> [--user U --token T] args...
  CommandResult Ctl(const std::string& user, const std::string& token, std::vector<std::string> args,
                    const std::string& stdin_data = "") {
    std::vector<std::string> full = {"--server", stack_->gateway_url()};
    if (!user.empty()) full.insert(full.end(), {"--user", user});
    if (!token.empty()) full.insert(full.end(), {"--token", token});
    full.insert(full.end(), args.begin(), args.end());
    Process::Options o;
    o.binary = BinaryPath("portunusctl");
    o.args = std::move(full);
    o.unset_env_prefixes = {"PORTUNUSCTL_", "PORTUNUS_"};  // the developer's shell stays out
    absl::StatusOr<CommandResult> r = RunCommand(o, absl::Seconds(60), stdin_data);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CommandResult{};
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
};

TEST_F(IdentityCliTest, FromBootstrapToExplainedDenials) {
  // The first admin; the password from stdin, as a script would give it.
  CommandResult boot = Ctl("", "", {"bootstrap", "admin", "--email", "admin@example.com",
                                    "--password-stdin"},
                           "correct-horse\n");
  ASSERT_TRUE(boot.ok()) << boot.Describe();
  EXPECT_THAT(boot.out, HasSubstr("Created the administrator admin."));
  EXPECT_THAT(boot.out, HasSubstr("export PORTUNUSCTL_SERVER="));
  CommandResult again = Ctl("", "", {"bootstrap", "root", "--email", "r@example.com",
                                     "--password", "12345678"});
  EXPECT_EQ(again.status.code, 1);
  EXPECT_THAT(again.err, HasSubstr("only possible while no user exists"));

  // The token printed by bootstrap works as --token (Basic) and alone (Bearer).
  CommandResult boot_json = Ctl("admin", "correct-horse", {"--format", "json", "tokens", "create", "ci"});
  ASSERT_TRUE(boot_json.ok()) << boot_json.Describe();
  const std::string admin_token = Json::parse(boot_json.out)["plain_token"];
  CommandResult whoami = Ctl("", admin_token, {"users", "show", "admin"});
  ASSERT_TRUE(whoami.ok()) << whoami.Describe();
  EXPECT_THAT(whoami.out, HasSubstr("admin@example.com"));

  auto admin = [&](std::vector<std::string> args) { return Ctl("admin", admin_token, std::move(args)); };
  for (const char* name : {"alice", "bob", "carol", "eve"}) {
    CommandResult c = admin({"users", "create", name, "--email", absl::StrCat(name, "@example.com"),
                             "--password", absl::StrCat(name, "-password")});
    ASSERT_TRUE(c.ok()) << c.Describe();
    EXPECT_THAT(c.out, HasSubstr(absl::StrCat("Created user ", name)));
  }
  CommandResult dup = admin({"users", "create", "alice", "--email", "x@example.com", "--password", "12345678"});
  EXPECT_EQ(dup.status.code, 1);
  EXPECT_THAT(dup.err, HasSubstr("HTTP 409"));
  CommandResult bad = admin({"users", "create", "Not Valid", "--email", "n@example.com", "--password", "12345678"});
  EXPECT_EQ(bad.status.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("user.username"));

  CommandResult bot = admin({"users", "create", "ci-bot", "--bot"});
  ASSERT_TRUE(bot.ok()) << bot.Describe();
  CommandResult bot_token = admin({"--format", "json", "tokens", "create", "pipeline", "--for", "ci-bot"});
  ASSERT_TRUE(bot_token.ok()) << bot_token.Describe();
  const std::string bot_secret = Json::parse(bot_token.out)["plain_token"];
  CommandResult bot_tokens = Ctl("ci-bot", bot_secret, {"tokens", "list"});
  ASSERT_TRUE(bot_tokens.ok()) << bot_tokens.Describe();
  EXPECT_THAT(bot_tokens.out, HasSubstr("pipeline"));
  // Tokens are their owner's business.
  CommandResult foreign = Ctl("bob", "bob-password", {"tokens", "list", "--for", "alice"});
  EXPECT_EQ(foreign.status.code, 1);
  EXPECT_THAT(foreign.err, HasSubstr("HTTP 403"));

  auto alice = [&](std::vector<std::string> args) { return Ctl("alice", "alice-password", std::move(args)); };
  ASSERT_TRUE(alice({"teams", "create", "devs", "--description", "developers"}).ok());
  for (auto [user, role] : std::vector<std::pair<std::string, std::string>>{
           {"bob", "contributor"}, {"carol", "viewer"}, {"ci-bot", "contributor"}}) {
    CommandResult m = alice({"members", "add", "devs", user, "--role", role});
    ASSERT_TRUE(m.ok()) << m.Describe();
  }
  CommandResult members = alice({"members", "list", "devs"});
  ASSERT_TRUE(members.ok()) << members.Describe();
  EXPECT_THAT(members.out, HasSubstr("owner"));
  EXPECT_THAT(members.out, HasSubstr("contributor"));
  EXPECT_THAT(members.out, HasSubstr("viewer"));
  CommandResult demote = alice({"members", "set", "devs", "alice", "--role", "viewer"});
  EXPECT_EQ(demote.status.code, 1);
  EXPECT_THAT(demote.err, HasSubstr("last owner"));
  CommandResult by_viewer = Ctl("carol", "carol-password", {"members", "add", "devs", "eve", "--role", "viewer"});
  EXPECT_EQ(by_viewer.status.code, 1);
  EXPECT_THAT(by_viewer.err, HasSubstr("carol is a viewer"));

  ASSERT_TRUE(alice({"namespaces", "create", "devs-private", "--team", "devs"}).ok());
  ASSERT_TRUE(alice({"namespaces", "create", "devs-protected", "--team", "devs"}).ok());
  ASSERT_TRUE(alice({"namespaces", "update", "devs-protected", "--visibility", "protected"}).ok());
  ASSERT_TRUE(alice({"namespaces", "create", "devs-public", "--team", "devs"}).ok());
  ASSERT_TRUE(alice({"namespaces", "update", "devs-public", "--visibility", "public"}).ok());
  CommandResult listed = alice({"namespaces", "list"});
  ASSERT_TRUE(listed.ok()) << listed.Describe();
  for (const char* v : {"private", "protected", "public"}) EXPECT_THAT(listed.out, HasSubstr(v));
  CommandResult shown = Ctl("carol", "carol-password", {"namespaces", "show", "devs-private"});
  ASSERT_TRUE(shown.ok()) << shown.Describe();
  EXPECT_THAT(shown.out, HasSubstr("you may: pull yes, push no"));
  CommandResult validate = alice({"namespaces", "validate", "devs-private"});
  EXPECT_EQ(validate.status.code, 1);
  EXPECT_THAT(validate.out, HasSubstr("cannot be used"));

  // explain: the reasons in plain words.
  CommandResult e = admin({"explain", "eve", "repository:devs-private/app:pull,push"});
  ASSERT_TRUE(e.ok()) << e.Describe();
  EXPECT_THAT(e.out, HasSubstr("granted to eve: nothing"));
  EXPECT_THAT(e.out, HasSubstr("denied pull: namespace devs-private is private and eve is not a member of team devs"));
  e = admin({"explain", "carol", "repository:devs-private/app:pull,push"});
  EXPECT_THAT(e.out, HasSubstr("granted to carol: pull"));
  EXPECT_THAT(e.out, HasSubstr("denied push: carol is a viewer of team devs"));
  e = admin({"explain", "-", "repository:devs-protected/app:pull", "repository:devs-public/app:pull"});
  EXPECT_THAT(e.out, HasSubstr("denied pull: namespace devs-protected is protected"));
  EXPECT_THAT(e.out, HasSubstr("granted to anonymous: pull"));
  e = admin({"--format", "json", "explain", "bob", "repository:devs-private/app:push"});
  ASSERT_TRUE(e.ok()) << e.Describe();
  EXPECT_EQ(Json::parse(e.out)["decisions"][0]["granted"], Json::array({"push"}));
  CommandResult not_admin = alice({"explain", "eve", "repository:devs-private/app:pull"});
  EXPECT_EQ(not_admin.status.code, 1);
  EXPECT_THAT(not_admin.err, HasSubstr("HTTP 403"));

  // Cleanup paths: a team that still owns namespaces cannot go; after them it can.
  EXPECT_EQ(alice({"teams", "delete", "devs"}).status.code, 1);
  for (const char* ns : {"devs-private", "devs-protected", "devs-public"}) {
    CommandResult d = alice({"namespaces", "delete", ns});
    ASSERT_TRUE(d.ok()) << d.Describe();
  }
  CommandResult deleted = alice({"teams", "delete", "devs"});
  EXPECT_TRUE(deleted.ok()) << deleted.Describe();
  CommandResult users = admin({"--format", "json", "users", "list"});
  ASSERT_TRUE(users.ok()) << users.Describe();
  EXPECT_EQ(Json::parse(users.out).size(), 6u);
}

}  // namespace
}  // namespace portunus::harness
