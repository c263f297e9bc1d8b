// Issue #3 end to end over HTTP: the real gateway in front of the real auth service on a fresh
// PostgreSQL database. The first admin comes from POST /api/v1/users/bootstrap; then users, a
// bot with an application token, a team with all three roles, namespaces of each visibility,
// the three ways of authenticating, denials with their reasons (also through
// GET /api/v1/explain), paging and sorting, and bad input that must come back as a 4xx naming
// the field (never a 500, never stored).
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"
#include "tests/harness/rest.h"

namespace portunus::harness {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class IdentityRestTest : public ::testing::Test {
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
    options.config["auth.bcrypt_cost"] = "4";  // the cheapest cost bcrypt allows: tests only
    HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
    HARNESS_ASSERT_OK(stack_->Start());
  }

  Reply Call(const std::string& method, const std::string& path, const As& as,
             const std::string& body = "") {
    return CallRest(stack_->gateway_url(), method, path, as, body);
  }

  // The first admin; returns its application token.
  std::string Bootstrap() {
    Reply r = Call("POST", "/api/v1/users/bootstrap", As::Anonymous(),
                   R"({"user":{"username":"admin","email":"admin@example.com",)"
                   R"("password":"correct-horse"}})");
    EXPECT_EQ(r.status, 201) << r.raw.body;
    return r.body.value("plain_token", "");
  }

  void CreateUser(const As& admin, const std::string& name) {
    Reply r = Call("POST", "/api/v1/users", admin,
                   Json{{"user",
                         {{"username", name},
                          {"email", name + "@example.com"},
                          {"password", name + "-password"}}}}
                       .dump());
    ASSERT_EQ(r.status, 201) << r.raw.body;
    EXPECT_EQ(r.body["username"], name);
    EXPECT_EQ(r.body["admin"], false);
  }

  // The reasons of the denials of the first decision of an explain answer, by action.
  static std::map<std::string, std::string> Denials(const Json& explain) {
    std::map<std::string, std::string> out;
    for (const Json& d : explain["decisions"][0]["denied"]) out[d["action"]] = d["reason"];
    return out;
  }
  static std::vector<std::string> Granted(const Json& explain) {
    auto granted = explain["decisions"][0]["granted"].get<std::vector<std::string>>();
    std::sort(granted.begin(), granted.end());
    return granted;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
};

TEST_F(IdentityRestTest, UsersBotTeamsNamespacesAndDenialsWithReasons) {
  // No user yet: every management call needs credentials.
  Reply anon = Call("GET", "/api/v1/users", As::Anonymous());
  EXPECT_EQ(anon.status, 401);
  EXPECT_FALSE(anon.raw.Header("WWW-Authenticate").empty());

  const std::string admin_token = Bootstrap();
  ASSERT_FALSE(admin_token.empty());
  // Only once.
  Reply again = Call("POST", "/api/v1/users/bootstrap", As::Anonymous(),
                     R"({"user":{"username":"admin2","email":"a2@example.com","password":"12345678"}})");
  EXPECT_EQ(again.status, 403);
  EXPECT_THAT(again.body.value("message", ""), HasSubstr("only possible while no user exists"));

  // The three ways of authenticating.
  const As admin = As::Bearer(admin_token);
  EXPECT_EQ(Call("GET", "/api/v1/users/admin", admin).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/users/admin", As::Basic("admin", "correct-horse")).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/users/admin", As::Basic("admin", admin_token)).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/users/admin", As::PortusAuth("admin", admin_token)).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/users/admin", As::Basic("admin", "wrong-horse")).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/users/admin", As::Bearer("not-a-token")).status, 401);

  for (const char* name : {"alice", "bob", "carol", "dave", "eve"}) {
    ASSERT_NO_FATAL_FAILURE(CreateUser(admin, name));
  }
  Reply dup = Call("POST", "/api/v1/users", admin,
                   R"({"user":{"username":"alice","email":"other@example.com","password":"12345678"}})");
  EXPECT_EQ(dup.status, 409) << dup.raw.body;
  // Every person got a private personal namespace.
  Reply personal = Call("GET", "/api/v1/namespaces/alice", As::Basic("alice", "alice-password"));
  ASSERT_EQ(personal.status, 200) << personal.raw.body;
  EXPECT_EQ(personal.body["visibility"], "private");
  EXPECT_EQ(personal.body["personal"], true);

  // A bot: created by an admin, no password, logs in with application tokens only.
  Reply bot = Call("POST", "/api/v1/users", admin, R"({"user":{"username":"ci-bot","bot":true}})");
  ASSERT_EQ(bot.status, 201) << bot.raw.body;
  EXPECT_EQ(bot.body["bot"], true);
  EXPECT_TRUE(bot.body["namespace_id"].is_null());
  Reply bot_token = Call("POST", "/api/v1/users/ci-bot/application_tokens", admin,
                         R"({"application":"ci"})");
  ASSERT_EQ(bot_token.status, 201) << bot_token.raw.body;
  EXPECT_EQ(bot_token.body["application"], "ci");
  const std::string bot_secret = bot_token.body.value("plain_token", "");
  ASSERT_GE(bot_secret.size(), 43u);  // >= 32 random bytes
  EXPECT_EQ(Call("GET", "/api/v1/users/ci-bot", As::Basic("ci-bot", bot_secret)).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/users/ci-bot", As::Basic("ci-bot", "")).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/users/ci-bot", As::Basic("ci-bot", "some-password")).status, 401);
  // A bot cannot be given a password either (422 naming the field).
  Reply bot_password = Call("PUT", "/api/v1/users/ci-bot", admin,
                            R"({"user":{"password":"a-long-password"}})");
  EXPECT_EQ(bot_password.status, 422) << bot_password.raw.body;
  EXPECT_EQ(bot_password.body.value("field", ""), "user.password");

  // Application tokens belong to their owner only (Portus let anyone act on them).
  const As alice = As::Basic("alice", "alice-password");
  const As bob = As::Basic("bob", "bob-password");
  Reply alice_token = Call("POST", "/api/v1/users/alice/application_tokens", alice,
                           R"({"application":"laptop"})");
  ASSERT_EQ(alice_token.status, 201) << alice_token.raw.body;
  const std::string alice_secret = alice_token.body.value("plain_token", "");
  Reply listed = Call("GET", "/api/v1/users/alice/application_tokens", As::PortusAuth("alice", alice_secret));
  ASSERT_EQ(listed.status, 200) << listed.raw.body;
  ASSERT_EQ(listed.body.size(), 1u);
  EXPECT_EQ(listed.body[0]["application"], "laptop");
  EXPECT_FALSE(listed.body[0].contains("plain_token"));
  EXPECT_EQ(Call("GET", "/api/v1/users/alice/application_tokens", bob).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/users/alice/application_tokens", bob, R"({"application":"x"})").status,
            403);
  const std::string alice_token_id = absl::StrCat(alice_token.body["id"].get<int64_t>());
  Reply stolen = Call("DELETE", "/api/v1/users/application_tokens/" + alice_token_id, bob);
  EXPECT_EQ(stolen.status, 403) << stolen.raw.body;
  EXPECT_THAT(stolen.body.value("message", ""), HasSubstr("only alice may manage"));
  // Administrators manage bots' tokens, not people's.
  EXPECT_EQ(Call("GET", "/api/v1/users/alice/application_tokens", admin).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/users/alice", As::PortusAuth("alice", alice_secret)).status, 200);
  // Users see only themselves; only admins list users.
  EXPECT_EQ(Call("GET", "/api/v1/users/bob", alice).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/users", alice).status, 403);

  // A team with all three roles (and a second owner).
  Reply team = Call("POST", "/api/v1/teams", alice, R"({"name":"devs","description":"developers"})");
  ASSERT_EQ(team.status, 201) << team.raw.body;
  EXPECT_EQ(team.body["role"], "owner");
  EXPECT_EQ(Call("POST", "/api/v1/teams", bob, R"({"name":"devs"})").status, 409);
  for (auto [user, role] : std::vector<std::pair<std::string, std::string>>{
           {"bob", "contributor"}, {"carol", "viewer"}, {"dave", "owner"}, {"ci-bot", "contributor"}}) {
    Reply m = Call("POST", "/api/v1/teams/devs/members", alice,
                   Json{{"user", user}, {"role", role}}.dump());
    ASSERT_EQ(m.status, 201) << user << ": " << m.raw.body;
    EXPECT_EQ(m.body["role"], role);
  }
  const As carol = As::Basic("carol", "carol-password");
  Reply members = Call("GET", "/api/v1/teams/devs/members?sort_attr=username", carol);
  ASSERT_EQ(members.status, 200) << members.raw.body;
  EXPECT_EQ(members.raw.Header("X-Total"), "5");
  // Viewers and contributors do not manage members.
  Reply by_viewer = Call("POST", "/api/v1/teams/devs/members", carol,
                         R"({"user":"eve","role":"viewer"})");
  EXPECT_EQ(by_viewer.status, 403);
  EXPECT_THAT(by_viewer.body.value("message", ""), HasSubstr("carol"));
  // The last owner cannot go: with dave demoted, alice is the last one.
  EXPECT_EQ(Call("PUT", "/api/v1/teams/devs/members/dave", alice, R"({"role":"viewer"})").status, 200);
  Reply last_owner = Call("PUT", "/api/v1/teams/devs/members/alice", alice, R"({"role":"viewer"})");
  EXPECT_EQ(last_owner.status, 409) << last_owner.raw.body;
  EXPECT_THAT(last_owner.body.value("message", ""), HasSubstr("last owner"));
  EXPECT_EQ(last_owner.body.value("rule", ""), "last_owner");
  Reply remove_last = Call("DELETE", "/api/v1/teams/devs/members/alice", alice);
  EXPECT_EQ(remove_last.status, 409) << remove_last.raw.body;
  EXPECT_EQ(remove_last.body.value("rule", ""), "last_owner");
  // Hidden (personal) teams take no members.
  Reply hidden = Call("POST", "/api/v1/teams/alice/members", alice, R"({"user":"bob","role":"viewer"})");
  EXPECT_EQ(hidden.status, 409) << hidden.raw.body;
  EXPECT_EQ(hidden.body.value("rule", ""), "hidden_team");
  // An admin added to a team is always owner.
  Reply admin_member = Call("POST", "/api/v1/teams/devs/members", alice,
                            R"({"user":"admin","role":"viewer"})");
  ASSERT_EQ(admin_member.status, 201) << admin_member.raw.body;
  EXPECT_EQ(admin_member.body["role"], "owner");
  Reply demote_admin = Call("PUT", "/api/v1/teams/devs/members/admin", alice, R"({"role":"viewer"})");
  EXPECT_EQ(demote_admin.status, 409) << demote_admin.raw.body;
  EXPECT_EQ(demote_admin.body.value("rule", ""), "admin_always_owner");
  EXPECT_EQ(Call("DELETE", "/api/v1/teams/devs/members/admin", alice).status, 204);

  // Namespaces of each visibility (new ones start private).
  Reply priv = Call("POST", "/api/v1/namespaces", alice,
                    R"({"name":"devs-private","team":"devs","description":"secret"})");
  ASSERT_EQ(priv.status, 201) << priv.raw.body;
  EXPECT_EQ(priv.body["visibility"], "private");
  EXPECT_EQ(priv.body["team"], "devs");
  for (const char* vis : {"protected", "public"}) {
    const std::string name = absl::StrCat("devs-", vis);
    Reply ns = Call("POST", "/api/v1/namespaces", alice,
                    Json{{"name", name}, {"team", "devs"}}.dump());
    ASSERT_EQ(ns.status, 201) << ns.raw.body;
    Reply changed = Call("PUT", "/api/v1/namespaces/" + name, alice,
                         Json{{"namespace", {{"visibility", vis}}}}.dump());
    ASSERT_EQ(changed.status, 200) << changed.raw.body;
    EXPECT_EQ(changed.body["visibility"], vis);
  }
  EXPECT_EQ(Call("POST", "/api/v1/namespaces", alice, R"({"name":"devs-public","team":"devs"})").status,
            409);
  Reply team_ns = Call("GET", "/api/v1/teams/devs/namespaces", alice);
  ASSERT_EQ(team_ns.status, 200);
  EXPECT_EQ(team_ns.body.size(), 3u);
  // eve sees the protected and public ones, not the private one.
  Reply eve_private = Call("GET", "/api/v1/namespaces/devs-private", As::Basic("eve", "eve-password"));
  EXPECT_EQ(eve_private.status, 403);
  EXPECT_THAT(eve_private.body.value("message", ""), HasSubstr("devs-private"));
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/devs-protected", As::Basic("eve", "eve-password")).status,
            200);
  Reply validate = Call("GET", "/api/v1/namespaces/validate?name=Bad%20Name", alice);
  ASSERT_EQ(validate.status, 200);
  EXPECT_EQ(validate.body["valid"], false);
  EXPECT_FALSE(validate.body["messages"]["name"].empty());

  // Decisions with a reason for every denied action, without issuing a token (admins only).
  auto explain = [&](const std::string& account, const std::string& scope) {
    Reply r = Call("GET", absl::StrCat("/api/v1/explain?account=", account, "&scope=", scope), admin);
    EXPECT_EQ(r.status, 200) << r.raw.body;
    return r.body;
  };
  Json e = explain("eve", "repository:devs-private/app:pull,push");
  EXPECT_TRUE(Granted(e).empty());
  EXPECT_EQ(Denials(e)["pull"], "namespace devs-private is private and eve is not a member of team devs");
  EXPECT_THAT(Denials(e)["push"], HasSubstr("eve is not a member of team devs"));
  e = explain("carol", "repository:devs-private/app:pull,push");
  EXPECT_EQ(Granted(e), std::vector<std::string>{"pull"});
  EXPECT_THAT(Denials(e)["push"], HasSubstr("carol is a viewer of team devs"));
  e = explain("bob", "repository:devs-private/app:*");
  EXPECT_EQ(Granted(e), (std::vector<std::string>{"pull", "push"}));
  e = explain("ci-bot", "repository:devs-private/app:pull,push");
  EXPECT_EQ(Granted(e), (std::vector<std::string>{"pull", "push"}));
  e = explain("", "repository:devs-protected/app:pull");
  EXPECT_THAT(Denials(e)["pull"], HasSubstr("protected"));
  e = explain("", "repository:devs-public/app:pull,push");
  EXPECT_EQ(Granted(e), std::vector<std::string>{"pull"});
  EXPECT_THAT(Denials(e)["push"], HasSubstr("anonymous"));
  e = explain("eve", "registry:catalog:*");
  EXPECT_TRUE(Granted(e).empty());
  EXPECT_FALSE(Denials(e).empty());
  e = explain("dave", "repository:devs-private/app:delete");
  EXPECT_THAT(Denials(e)["delete"], HasSubstr("delete.enabled is false"));
  Reply not_admin = Call("GET", "/api/v1/explain?account=eve&scope=repository:a/b:pull", alice);
  EXPECT_EQ(not_admin.status, 403);
  Reply unknown = Call("GET", "/api/v1/explain?account=nobody&scope=repository:a/b:pull", admin);
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.body["field"], "account");

  // Paging and sorting.
  Reply page = Call("GET", "/api/v1/users?per_page=2&page=2&sort_attr=username&sort_order=desc", admin);
  ASSERT_EQ(page.status, 200) << page.raw.body;
  EXPECT_EQ(page.raw.Header("X-Total"), "7");
  EXPECT_EQ(page.raw.Header("X-Total-Pages"), "4");
  EXPECT_EQ(page.raw.Header("X-Page"), "2");
  ASSERT_EQ(page.body.size(), 2u);
  // desc: eve, dave | ci-bot, carol | ...
  EXPECT_EQ(page.body[0]["username"], "ci-bot");
  EXPECT_EQ(page.body[1]["username"], "carol");
  EXPECT_THAT(page.raw.Header("Link"), HasSubstr("rel=\"next\""));
  EXPECT_THAT(page.raw.Header("Link"), HasSubstr("page=3"));
  Reply bad_sort = Call("GET", "/api/v1/users?sort_attr=password_hash", admin);
  EXPECT_EQ(bad_sort.status, 422);
  EXPECT_EQ(bad_sort.body["field"], "sort_attr");

  // Teams: rename through Portus's wrapped body; only owners may.
  EXPECT_EQ(Call("PUT", "/api/v1/teams/devs", bob, R"({"team":{"description":"x"}})").status, 403);
  Reply renamed = Call("PUT", "/api/v1/teams/devs", alice, R"({"team":{"description":"the devs"}})");
  ASSERT_EQ(renamed.status, 200) << renamed.raw.body;
  EXPECT_EQ(renamed.body["description"], "the devs");

  // Deleting: personal namespaces never; others by owners and admins.
  Reply team_with_ns = Call("DELETE", "/api/v1/teams/devs", alice);
  EXPECT_EQ(team_with_ns.status, 409) << team_with_ns.raw.body;
  EXPECT_EQ(team_with_ns.body.value("rule", ""), "team_owns_namespaces");
  Reply personal_delete = Call("DELETE", "/api/v1/namespaces/alice", alice);
  EXPECT_EQ(personal_delete.status, 409) << personal_delete.raw.body;
  EXPECT_EQ(personal_delete.body.value("rule", ""), "personal_namespace");
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/devs-public", bob).status, 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/devs-public", alice).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/devs-public", alice).status, 404);

  // The last admin cannot disable themselves; others may.
  Reply last_admin = Call("PUT", "/api/v1/users/admin", admin, R"({"user":{"enabled":false}})");
  EXPECT_EQ(last_admin.status, 409) << last_admin.raw.body;
  EXPECT_THAT(last_admin.body.value("message", ""), HasSubstr("last enabled administrator"));
  EXPECT_EQ(last_admin.body.value("rule", ""), "last_admin");
  Reply demote_last = Call("PUT", "/api/v1/users/admin", admin, R"({"user":{"admin":false}})");
  EXPECT_EQ(demote_last.status, 409) << demote_last.raw.body;
  EXPECT_EQ(demote_last.body.value("rule", ""), "last_admin");
  Reply delete_last = Call("DELETE", "/api/v1/users/admin", admin);
  EXPECT_EQ(delete_last.status, 409) << delete_last.raw.body;
  EXPECT_EQ(delete_last.body.value("rule", ""), "last_admin");
  Reply disabled = Call("PUT", "/api/v1/users/eve", As::Basic("eve", "eve-password"),
                        R"({"user":{"enabled":false}})");
  ASSERT_EQ(disabled.status, 200) << disabled.raw.body;
  EXPECT_EQ(Call("GET", "/api/v1/users/eve", As::Basic("eve", "eve-password")).status, 401);
  e = explain("eve", "repository:devs-public/app:pull");
  EXPECT_THAT(Denials(e)["pull"], HasSubstr("disabled"));

  // Revoking a token ends its use.
  Reply revoke = Call("DELETE", "/api/v1/users/application_tokens/" + alice_token_id,
                      As::PortusAuth("alice", alice_secret));
  EXPECT_EQ(revoke.status, 204) << revoke.raw.body;
  EXPECT_EQ(Call("GET", "/api/v1/users/alice", As::PortusAuth("alice", alice_secret)).status, 401);
  EXPECT_EQ(Call("DELETE", "/api/v1/users/bob", admin).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/users/bob", admin).status, 404);
}

TEST_F(IdentityRestTest, BadInputIsA4xxNamingTheFieldAndNothingIsStored) {
  const As admin = As::Bearer(Bootstrap());
  struct Case {
    std::string method, path, body;
    long status;
    std::string field;
  };
  const std::string sql = "x'; DROP TABLE auth.users; --";
  const std::vector<Case> cases = {
      // unknown fields and wrong types
      {"POST", "/api/v1/users", R"({"user":{"username":"zed","email":"z@example.com","password":"12345678","role":"admin"}})", 422, "user.role"},
      {"POST", "/api/v1/users", R"({"username":"zed"})", 422, "username"},
      {"POST", "/api/v1/users", R"({"user":{"username":5}})", 422, "user.username"},
      {"POST", "/api/v1/users", R"({"user":{"username":"zed","admin":"yes"}})", 422, "user.admin"},
      {"POST", "/api/v1/users", R"({"user":"zed"})", 422, "user"},
      {"POST", "/api/v1/teams", R"({"name":["devs"]})", 422, "name"},
      {"POST", "/api/v1/teams", R"({"name":"devs","owner":"bob"})", 422, "owner"},
      {"POST", "/api/v1/namespaces", R"({"name":"ns","team":"admin","visibility":"secret"})", 422, "visibility"},
      {"PUT", "/api/v1/users/admin", R"({"user":{"enabled":"no"}})", 422, "user.enabled"},
      {"GET", "/api/v1/users?page=abc", "", 422, "page"},
      {"GET", "/api/v1/users?sort_order=sideways", "", 422, "sort_order"},
      // over-long names
      {"POST", "/api/v1/users", Json{{"user", {{"username", std::string(256, 'a')}, {"email", "l@example.com"}, {"password", "12345678"}}}}.dump(), 422, "user.username"},
      {"POST", "/api/v1/teams", Json{{"name", std::string(300, 't')}}.dump(), 422, "name"},
      {"POST", "/api/v1/namespaces", Json{{"name", std::string(300, 'n')}, {"team", "admin"}}.dump(), 422, "name"},
      {"POST", "/api/v1/users", Json{{"user", {{"username", "pw"}, {"email", "pw@example.com"}, {"password", std::string(129, 'p')}}}}.dump(), 422, "user.password"},
      // SQL metacharacters
      {"POST", "/api/v1/users", Json{{"user", {{"username", sql}, {"email", "s@example.com"}, {"password", "12345678"}}}}.dump(), 422, "user.username"},
      {"POST", "/api/v1/users", Json{{"user", {{"username", "sq"}, {"email", sql}, {"password", "12345678"}}}}.dump(), 422, "user.email"},
      {"GET", "/api/v1/users/1%20OR%201%3D1", "", 404, ""},
      {"GET", "/api/v1/namespaces/%27%3B%20DROP%20TABLE%20auth.namespaces%3B--", "", 404, ""},
      // invalid UTF-8 in the body, the path and the query
      {"POST", "/api/v1/users", "{\"user\":{\"username\":\"z\xff\",\"email\":\"z@example.com\"}}", 422, "user.username"},
      {"POST", "/api/v1/teams", "{\"name\":\"ok\",\"description\":\"\xc3\x28\"}", 422, "description"},
      {"GET", "/api/v1/users/%FF", "", 422, "id"},
      {"GET", "/api/v1/namespaces/validate?name=%C3%28", "", 422, "name"},
      {"GET", "/api/v1/explain?account=%ED%A0%80&scope=repository:a:pull", "", 422, "account"},
      {"GET", "/api/v1/explain?account=admin&scope=nonsense", "", 422, "scope"},
      // not JSON at all
      {"POST", "/api/v1/teams", "{\"name\":", 400, ""},
      {"POST", "/api/v1/teams", "[]", 400, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path + " " + c.body.substr(0, 120));
    Reply r = Call(c.method, c.path, admin, c.body);
    EXPECT_EQ(r.status, c.status) << r.raw.body;
    ASSERT_TRUE(r.body.is_object()) << r.raw.body;
    EXPECT_TRUE(r.body.contains("message")) << r.raw.body;
    if (!c.field.empty()) {
      EXPECT_EQ(r.body.value("field", ""), c.field) << r.raw.body;
    }
  }

  // Team names are free text (unlike user and namespace names): SQL metacharacters are stored
  // as given and find the team again; so is a description with any Unicode.
  Reply sql_team = Call("POST", "/api/v1/teams", admin, Json{{"name", sql}}.dump());
  ASSERT_EQ(sql_team.status, 201) << sql_team.raw.body;
  Reply sql_again = Call("GET", "/api/v1/teams/x%27%3B%20DROP%20TABLE%20auth.users%3B%20--", admin);
  ASSERT_EQ(sql_again.status, 200) << sql_again.raw.body;
  EXPECT_EQ(sql_again.body["name"], sql);
  const std::string description = "it's \"quoted\"; DROP TABLE x; -- ünïcødé ✓";
  Reply team = Call("POST", "/api/v1/teams", admin, Json{{"name", "qa"}, {"description", description}}.dump());
  ASSERT_EQ(team.status, 201) << team.raw.body;
  Reply got = Call("GET", "/api/v1/teams/qa", admin);
  EXPECT_EQ(got.body["description"], description);

  // Nothing of the rejected input was stored: only the admin exists, only those two teams.
  Reply users = Call("GET", "/api/v1/users", admin);
  EXPECT_EQ(users.raw.Header("X-Total"), "1") << users.raw.body;
  Reply teams = Call("GET", "/api/v1/teams", admin);
  ASSERT_TRUE(teams.body.is_array());
  for (const Json& t : teams.body) {
    if (t["kind"] == "team") {
      EXPECT_TRUE(t["name"] == "qa" || t["name"] == sql) << t.dump();
    }
  }
  Reply namespaces = Call("GET", "/api/v1/namespaces?all=true", admin);
  for (const Json& n : namespaces.body) {
    EXPECT_TRUE(n["global"] == true || n["personal"] == true) << n.dump();
  }
}

}  // namespace
}  // namespace portunus::harness
