// The whole registry access matrix: every principal kind × namespace visibility/kind × action ×
// push policy × delete switches, against the rules as the issue states them (written here as a
// spec, independently of access_policy.cc), plus the reasons of denials.
#include "services/auth/access_policy.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

enum class Who {
  kAnonymous, kInternal, kAdmin, kOwner, kContributor, kViewer, kOutsider,
  kBotMember, kBotOutsider, kDisabledOwner, kDeleted, kPersonalOwner,
};
const Who kAllWho[] = {Who::kAnonymous, Who::kInternal, Who::kAdmin, Who::kOwner,
                       Who::kContributor, Who::kViewer, Who::kOutsider, Who::kBotMember,
                       Who::kBotOutsider, Who::kDisabledOwner, Who::kDeleted, Who::kPersonalOwner};

std::string WhoName(Who w) {
  switch (w) {
    case Who::kAnonymous: return "anonymous";
    case Who::kInternal: return "internal";
    case Who::kAdmin: return "admin";
    case Who::kOwner: return "owner";
    case Who::kContributor: return "contributor";
    case Who::kViewer: return "viewer";
    case Who::kOutsider: return "outsider";
    case Who::kBotMember: return "bot_member";
    case Who::kBotOutsider: return "bot_outsider";
    case Who::kDisabledOwner: return "disabled_owner";
    case Who::kDeleted: return "deleted";
    case Who::kPersonalOwner: return "personal_owner";
  }
  return "?";
}

// Repositories, one per namespace shape.
struct Target {
  std::string repo;
  std::string label;
  bool exists;
  bool global;
  bool personal;
  Visibility visibility;
};
const Target kTargets[] = {
    {"priv/app", "regular private", true, false, false, Visibility::kPrivate},
    {"prot/app", "regular protected", true, false, false, Visibility::kProtected},
    {"pub/app", "regular public", true, false, false, Visibility::kPublic},
    {"paulpriv/app", "personal private", true, false, true, Visibility::kPrivate},
    {"paulprot/app", "personal protected", true, false, true, Visibility::kProtected},
    {"paulpub/app", "personal public", true, false, true, Visibility::kPublic},
    {"busybox", "global", true, true, false, Visibility::kPublic},
    {"ghost/app", "missing", false, false, false, Visibility::kPrivate},
};

constexpr int64_t kAdminId = 1, kOwnerId = 2, kContributorId = 3, kViewerId = 4, kOutsiderId = 5,
                  kBotMemberId = 6, kBotOutsiderId = 7, kDisabledId = 8, kDeletedId = 9,
                  kPaulId = 10;
constexpr int64_t kDevsTeam = 100, kPaulTeam = 101, kGlobalTeam = 102;

AccessSnapshot MakeFacts() {
  AccessSnapshot s;
  s.PutUser({kAdminId, "root", true, true, false});
  s.PutUser({kOwnerId, "alice", false, true, false});
  s.PutUser({kContributorId, "carol", false, true, false});
  s.PutUser({kViewerId, "victor", false, true, false});
  s.PutUser({kOutsiderId, "nina", false, true, false});
  s.PutUser({kBotMemberId, "ci-bot", false, true, true});
  s.PutUser({kBotOutsiderId, "other-bot", false, true, true});
  s.PutUser({kDisabledId, "dave", false, false, false});
  s.PutUser({kPaulId, "paul", false, true, false});
  s.PutTeam({kDevsTeam, "devs", Kind::kRegular});
  s.PutTeam({kPaulTeam, "paul", Kind::kPersonal});
  s.PutTeam({kGlobalTeam, kGlobalTeamName, Kind::kGlobal});
  s.PutMembership({kDevsTeam, kOwnerId, Role::kOwner});
  s.PutMembership({kDevsTeam, kContributorId, Role::kContributor});
  s.PutMembership({kDevsTeam, kViewerId, Role::kViewer});
  s.PutMembership({kDevsTeam, kBotMemberId, Role::kContributor});
  s.PutMembership({kDevsTeam, kDisabledId, Role::kOwner});
  s.PutMembership({kPaulTeam, kPaulId, Role::kOwner});
  int64_t id = 1000;
  s.PutNamespace({id++, "priv", Visibility::kPrivate, Kind::kRegular, kDevsTeam, std::nullopt});
  s.PutNamespace({id++, "prot", Visibility::kProtected, Kind::kRegular, kDevsTeam, std::nullopt});
  s.PutNamespace({id++, "pub", Visibility::kPublic, Kind::kRegular, kDevsTeam, std::nullopt});
  s.PutNamespace({id++, "paulpriv", Visibility::kPrivate, Kind::kPersonal, kPaulTeam, kPaulId});
  s.PutNamespace({id++, "paulprot", Visibility::kProtected, Kind::kPersonal, kPaulTeam, kPaulId});
  s.PutNamespace({id++, "paulpub", Visibility::kPublic, Kind::kPersonal, kPaulTeam, kPaulId});
  s.PutNamespace({id++, kGlobalNamespaceName, Visibility::kPublic, Kind::kGlobal, kGlobalTeam, std::nullopt});
  return s;
}

Principal PrincipalOf(Who w) {
  switch (w) {
    case Who::kAnonymous: return Principal::Anonymous();
    case Who::kInternal: return Principal::Internal();
    case Who::kAdmin: return Principal::User(kAdminId, "root", true);
    case Who::kOwner: return Principal::User(kOwnerId, "alice", false);
    case Who::kContributor: return Principal::User(kContributorId, "carol", false);
    case Who::kViewer: return Principal::User(kViewerId, "victor", false);
    case Who::kOutsider: return Principal::User(kOutsiderId, "nina", false);
    case Who::kBotMember: return Principal::Bot(kBotMemberId, "ci-bot");
    case Who::kBotOutsider: return Principal::Bot(kBotOutsiderId, "other-bot");
    case Who::kDisabledOwner: return Principal::User(kDisabledId, "dave", false);
    case Who::kDeleted: return Principal::User(kDeletedId, "gone", true);  // claims admin: ignored
    case Who::kPersonalOwner: return Principal::User(kPaulId, "paul", false);
  }
  return Principal::Anonymous();
}

// ---- the spec ----

std::optional<Role> RoleOf(Who w, const Target& t) {
  if (!t.exists || t.global) return std::nullopt;
  if (t.personal) return w == Who::kPersonalOwner ? std::optional<Role>(Role::kOwner) : std::nullopt;
  switch (w) {
    case Who::kOwner: return Role::kOwner;
    case Who::kContributor: return Role::kContributor;
    case Who::kViewer: return Role::kViewer;
    case Who::kBotMember: return Role::kContributor;
    default: return std::nullopt;
  }
}

bool Inactive(Who w) { return w == Who::kDisabledOwner || w == Who::kDeleted; }

bool SpecPull(Who w, const Target& t) {
  if (w == Who::kInternal) return true;
  if (Inactive(w)) return false;
  if (w == Who::kAdmin) return true;
  if (!t.exists) return false;
  switch (t.visibility) {
    case Visibility::kPublic: return true;
    case Visibility::kProtected: return w != Who::kAnonymous;
    case Visibility::kPrivate: return RoleOf(w, t).has_value();
  }
  return false;
}

bool SpecPush(Who w, const Target& t, PushPolicy policy) {
  if (w == Who::kInternal) return true;
  if (w == Who::kAnonymous || Inactive(w)) return false;
  if (w == Who::kAdmin) return true;
  if (!t.exists || t.global) return false;
  const std::optional<Role> role = RoleOf(w, t);
  switch (policy) {
    case PushPolicy::kAdminOnly: return false;
    case PushPolicy::kAllowPersonal: return t.personal && w == Who::kPersonalOwner;
    case PushPolicy::kAllowTeams: return role == Role::kOwner || role == Role::kContributor;
  }
  return false;
}

bool SpecDelete(Who w, const Target& t, bool enabled, bool contributors) {
  if (!enabled || w == Who::kAnonymous) return false;
  if (w == Who::kInternal) return true;
  if (Inactive(w)) return false;
  if (w == Who::kAdmin) return true;
  if (!t.exists || t.global) return false;
  const std::optional<Role> role = RoleOf(w, t);
  return role == Role::kOwner || (contributors && role == Role::kContributor);
}

struct Switches {
  PushPolicy push;
  bool delete_enabled;
  bool delete_contributors;
};

TEST(AccessPolicyMatrixTest, EveryPrincipalNamespaceActionAndSwitch) {
  const AccessSnapshot facts = MakeFacts();
  int cases = 0;
  for (PushPolicy push : {PushPolicy::kAllowTeams, PushPolicy::kAllowPersonal, PushPolicy::kAdminOnly}) {
    for (auto [del, contrib] : {std::pair{false, false}, std::pair{true, false}, std::pair{true, true},
                                std::pair{false, true}}) {
      PolicyOptions o;
      o.push_policy = push;
      o.delete_enabled = del;
      o.delete_contributors = contrib;
      for (Who w : kAllWho) {
        const Subject subject = SubjectFor(PrincipalOf(w), facts);
        for (const Target& t : kTargets) {
          const std::string where = absl::StrCat(WhoName(w), " on ", t.label, " (", t.repo, "), push=",
                                                 PushPolicyName(push), " delete=", del, "/", contrib);
          std::vector<std::string> expected;
          if (SpecPull(w, t)) expected.push_back("pull");
          if (SpecPush(w, t, push)) expected.push_back("push");
          if (SpecDelete(w, t, del, contrib)) expected.push_back("delete");
          // Each action alone.
          for (const char* action : {"pull", "push", "delete"}) {
            const ScopeDecision d = Decide(o, subject, {"repository", t.repo, {action}}, facts);
            const bool want = std::find(expected.begin(), expected.end(), action) != expected.end();
            if (want) {
              EXPECT_THAT(d.granted, ElementsAre(action)) << where;
              EXPECT_THAT(d.denied, IsEmpty()) << where;
            } else {
              EXPECT_THAT(d.granted, IsEmpty()) << where << " " << action;
              ASSERT_EQ(d.denied.size(), 1u) << where;
              EXPECT_EQ(d.denied[0].action, action) << where;
              EXPECT_FALSE(d.denied[0].reason.empty()) << where;
            }
            ++cases;
          }
          // "*" is exactly the allowed subset, and the rest is denied with reasons.
          const ScopeDecision star = Decide(o, subject, {"repository", t.repo, {"*"}}, facts);
          EXPECT_EQ(absl::StrJoin(star.granted, ","), absl::StrJoin(expected, ",")) << where << " *";
          EXPECT_EQ(star.granted.size() + star.denied.size(), 3u) << where;
          for (const Denial& d : star.denied) EXPECT_FALSE(d.reason.empty()) << where;
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 3 * 4 * 12 * 8 * 4);
}

TEST(AccessPolicyMatrixTest, CatalogIsForAdminsAndTheInternalPrincipal) {
  const AccessSnapshot facts = MakeFacts();
  for (Who w : kAllWho) {
    const ScopeDecision d =
        Decide(PolicyOptions{}, SubjectFor(PrincipalOf(w), facts), {"registry", "catalog", {"*"}}, facts);
    if (w == Who::kAdmin || w == Who::kInternal) {
      EXPECT_THAT(d.granted, ElementsAre("*")) << WhoName(w);
    } else {
      EXPECT_THAT(d.granted, IsEmpty()) << WhoName(w);
      ASSERT_EQ(d.denied.size(), 1u);
      EXPECT_FALSE(d.denied[0].reason.empty());
    }
  }
}

// ---- reasons and edge cases ----

class AccessPolicyTest : public ::testing::Test {
 protected:
  ScopeDecision Ask(Who w, ScopeRequest scope) {
    return Decide(options_, SubjectFor(PrincipalOf(w), facts_), scope, facts_);
  }
  std::string Reason(Who w, const std::string& repo, const std::string& action) {
    ScopeDecision d = Ask(w, {"repository", repo, {action}});
    return d.denied.empty() ? "(granted)" : d.denied[0].reason;
  }
  AccessSnapshot facts_ = MakeFacts();
  PolicyOptions options_;
};

TEST_F(AccessPolicyTest, ReasonsSayWhyInPlainWords) {
  EXPECT_EQ(Reason(Who::kOutsider, "priv/app", "pull"),
            "namespace priv is private and nina is not a member of team devs");
  EXPECT_EQ(Reason(Who::kAnonymous, "priv/app", "pull"),
            "namespace priv is private and anonymous users are not members of team devs");
  EXPECT_EQ(Reason(Who::kAnonymous, "prot/app", "pull"),
            "namespace prot is protected: only signed-in users may pull from it");
  EXPECT_EQ(Reason(Who::kOutsider, "paulpriv/app", "pull"),
            "namespace paulpriv is the private personal namespace of paul");
  EXPECT_EQ(Reason(Who::kViewer, "priv/app", "push"),
            "victor is a viewer of team devs; pushing to namespace priv needs the contributor or "
            "owner role");
  EXPECT_EQ(Reason(Who::kOutsider, "pub/app", "push"),
            "nina is not a member of team devs, which owns namespace pub");
  EXPECT_EQ(Reason(Who::kAnonymous, "pub/app", "push"), "anonymous users may not push; sign in first");
  EXPECT_THAT(Reason(Who::kOwner, "busybox", "push"), HasSubstr("only administrators may push to the global namespace"));
  EXPECT_THAT(Reason(Who::kOwner, "ghost/app", "push"),
              HasSubstr("namespace ghost does not exist; only administrators"));
  EXPECT_EQ(Reason(Who::kDisabledOwner, "priv/app", "pull"), "account dave is disabled");
  EXPECT_EQ(Reason(Who::kDeleted, "pub/app", "pull"), "account gone no longer exists");
  EXPECT_EQ(Reason(Who::kOwner, "priv/app", "delete"),
            "deleting images is disabled (delete.enabled is false)");
  options_.delete_enabled = true;
  EXPECT_EQ(Reason(Who::kContributor, "priv/app", "delete"),
            "carol is a contributor of team devs; only owners may delete (delete.contributors is false)");
  EXPECT_EQ(Reason(Who::kOwner, "priv/app", "delete"), "(granted)");
  options_.push_policy = PushPolicy::kAdminOnly;
  EXPECT_EQ(Reason(Who::kOwner, "priv/app", "push"),
            "only administrators may push (user_permission.push_images.policy is admin-only)");
  options_.push_policy = PushPolicy::kAllowPersonal;
  EXPECT_EQ(Reason(Who::kOwner, "priv/app", "push"),
            "alice may only push to their personal namespace alice (user_permission.push_images.policy "
            "is allow-personal)");
  EXPECT_THAT(Reason(Who::kBotMember, "priv/app", "push"), HasSubstr("bots have no personal namespace"));
}

TEST_F(AccessPolicyTest, NeverGrantsMoreThanAskedAndDeduplicates) {
  ScopeDecision d = Ask(Who::kOwner, {"repository", "priv/app", {"pull", "pull", "*", "push"}});
  EXPECT_THAT(d.granted, ElementsAre("pull", "push"));
  ASSERT_EQ(d.denied.size(), 1u);
  EXPECT_EQ(d.denied[0].action, "delete");
  d = Ask(Who::kAdmin, {"repository", "priv/app", {}});
  EXPECT_THAT(d.granted, IsEmpty());
  EXPECT_THAT(d.denied, IsEmpty());
}

TEST_F(AccessPolicyTest, UnknownActionsTypesAndNamesAreNeverGranted) {
  ScopeDecision d = Ask(Who::kAdmin, {"repository", "priv/app", {"pull", "frobnicate", ""}});
  EXPECT_THAT(d.granted, ElementsAre("pull"));
  ASSERT_EQ(d.denied.size(), 2u);
  EXPECT_EQ(d.denied[0].reason, "unknown action \"frobnicate\"");
  d = Ask(Who::kAdmin, {"widget", "priv/app", {"pull"}});
  EXPECT_THAT(d.granted, IsEmpty());
  EXPECT_EQ(d.denied[0].reason, "unknown resource type \"widget\"");
  d = Ask(Who::kAdmin, {"registry", "blobs", {"*"}});
  EXPECT_THAT(d.granted, IsEmpty());
  d = Ask(Who::kAdmin, {"registry", "catalog", {"pull"}});
  EXPECT_THAT(d.granted, IsEmpty());
  for (const char* bad : {"Priv/app", "priv//app", "priv/app/", "/priv", "priv/a pp", "priv/'; DROP TABLE--",
                          "priv/\xff\xfe", "", "priv/app:tag"}) {
    d = Ask(Who::kAdmin, {"repository", bad, {"pull"}});
    EXPECT_THAT(d.granted, IsEmpty()) << bad;
    ASSERT_EQ(d.denied.size(), 1u) << bad;
    EXPECT_THAT(d.denied[0].reason, HasSubstr("is not a valid repository name")) << bad;
  }
  d = Ask(Who::kAdmin, {"repository", std::string(256, 'a'), {"pull"}});
  EXPECT_THAT(d.granted, IsEmpty());
}

TEST_F(AccessPolicyTest, RepositoryPluginClassIsARepository) {
  ScopeDecision d = Ask(Who::kOwner, {"repository(plugin)", "priv/app", {"pull"}});
  EXPECT_THAT(d.granted, ElementsAre("pull"));
}

TEST_F(AccessPolicyTest, DeepNamesBelongToTheirFirstComponent) {
  EXPECT_EQ(NamespaceOfRepository("priv/a/b/c"), "priv");
  EXPECT_EQ(NamespaceOfRepository("busybox"), kGlobalNamespaceName);
  EXPECT_THAT(Ask(Who::kContributor, {"repository", "priv/a/b/c", {"push"}}).granted, ElementsAre("push"));
}

TEST_F(AccessPolicyTest, SubjectTakesFlagsFromTheFactsNotFromTheCaller) {
  // A principal claiming admin rights it no longer has gets nothing extra.
  Subject s = SubjectFor(Principal::User(kOutsiderId, "nina", true), facts_);
  EXPECT_FALSE(s.principal.admin);
  // A user principal naming a bot account is treated as the bot.
  s = SubjectFor(Principal::User(kBotMemberId, "ci-bot", true), facts_);
  EXPECT_EQ(s.principal.kind, Principal::Kind::kBot);
  EXPECT_FALSE(s.principal.admin);
  s = SubjectFor(Principal::Anonymous(), facts_);
  EXPECT_TRUE(s.exists);
}

TEST_F(AccessPolicyTest, PushPolicyNamesRoundTrip) {
  for (PushPolicy p : {PushPolicy::kAllowTeams, PushPolicy::kAllowPersonal, PushPolicy::kAdminOnly}) {
    EXPECT_EQ(ParsePushPolicy(PushPolicyName(p)), p);
  }
  EXPECT_FALSE(ParsePushPolicy("everyone").has_value());
}

}  // namespace
}  // namespace portunus::auth
