#include "services/auth/auth_module.h"

#include <vector>

#include "grpcpp/grpcpp.h"
#include "services/auth/access_cache.h"
#include "services/auth/authenticator.h"
#include "services/auth/authorizer.h"
#include "services/auth/bcrypt_password_hasher.h"
#include "services/auth/credential_cache.h"
#include "services/auth/grpc_access_service.h"
#include "services/auth/grpc_identity_services.h"
#include "services/auth/identity_token_ports.h"
#include "services/auth/namespace_directory.h"
#include "services/auth/pg_access_feed.h"
#include "services/auth/pg_access_source.h"
#include "services/auth/pg_identity_store.h"
#include "services/auth/team_directory.h"
#include "services/auth/token_module.h"
#include "services/auth/user_directory.h"
#include "services/common/log.h"

namespace portunus::auth {
namespace {

PolicyOptions PolicyOptionsOf(const AuthConfig& c) {
  PolicyOptions o;
  o.push_policy = ParsePushPolicy(c.push_policy).value_or(PushPolicy::kAllowTeams);
  o.delete_enabled = c.delete_enabled;
  o.delete_contributors = c.delete_contributors;
  o.anonymous_browsing = c.anonymous_browsing;
  return o;
}

// Owns the whole auth service: adapters, domain, transport. The change feed reports to it
// (AccessChangeListener) and it fans the news out to the cache, the credential cache and the
// permissions generation.
class AuthModule final : public ServiceModule, private AccessChangeListener {
 public:
  AuthModule(ServiceRuntime& rt, const AuthConfig& c)
      : rt_(rt),
        config_(c),
        hasher_(c.bcrypt_cost),
        store_(*rt.db),
        credential_cache_(CredentialCache::Options{c.credential_cache_ttl,
                                                   static_cast<size_t>(c.credential_cache_max_entries)},
                          rt.clock),
        authenticator_(Authenticator::Options{rt.common.internal_secret, c.lockout_max_attempts,
                                              c.lockout_duration},
                       store_, hasher_, credential_cache_, rt.clock),
        pg_source_(*rt.db),
        authorizer_(PolicyOptionsOf(c),
                    c.authorization_cache ? static_cast<AccessSource&>(cache_) : pg_source_),
        feed_(FeedOptions(rt, c), *rt.db, *this),
        users_(UserDirectory::Options{c.max_application_tokens}, store_, hasher_, feed_),
        teams_(TeamDirectory::Options{c.create_team, c.manage_team}, store_, feed_),
        namespaces_(NamespaceDirectory::Options{c.create_namespace, c.manage_namespace,
                                                c.change_visibility, PolicyOptionsOf(c)},
                    store_, feed_),
        access_grpc_(rt, authenticator_, authorizer_, namespaces_),
        users_grpc_(rt, authenticator_, users_),
        teams_grpc_(rt, authenticator_, teams_, namespaces_),
        namespaces_grpc_(rt, authenticator_, namespaces_),
        token_ports_(authenticator_, authorizer_, store_, rt.clock) {}

  // Builds the token server (kInvalidArgument for unusable auth.token.* settings).
  absl::Status Init() {
    absl::StatusOr<std::unique_ptr<TokenModule>> token =
        TokenModule::Create(rt_, config_.token, token_ports_, token_ports_);
    if (!token.ok()) return token.status();
    token_ = std::move(*token);
    return absl::OkStatus();
  }

  std::vector<grpc::Service*> GrpcServices() override {
    return {&access_grpc_, &users_grpc_, &teams_grpc_, &namespaces_grpc_, token_->service()};
  }

  absl::Status Start() override {
    LogInfo("access policy",
            {{"push_policy", config_.push_policy},
             {"delete_enabled", config_.delete_enabled},
             {"delete_contributors", config_.delete_contributors},
             {"authorization_cache", config_.authorization_cache},
             {"credential_cache_ttl", config_.credential_cache_ttl},
             {"internal_principal", !rt_.common.internal_secret.empty()}});
    feed_.Start();
    return token_->Start();
  }

  std::string NotReadyReason() override {
    if (config_.authorization_cache && !cache_.loaded()) return "authorization cache is loading";
    return token_->NotReadyReason();
  }

  void Stop(absl::Time /*deadline*/) override {
    token_->Stop();
    feed_.Stop();
  }

 private:
  static PgAccessFeed::Options FeedOptions(ServiceRuntime& rt, const AuthConfig& c) {
    PgAccessFeed::Options o;
    o.dsn = rt.db->dsn();  // a dedicated connection to the same database
    o.load_facts = c.authorization_cache;
    return o;
  }

  void OnReload(std::shared_ptr<const AccessSnapshot> snapshot) override {
    if (config_.authorization_cache && snapshot != nullptr) cache_.Replace(std::move(snapshot));
    authenticator_.ForgetAll();  // notifications may have been missed
    if (token_) token_->issuer().ForgetAll();
    authorizer_.PermissionsChanged();
  }

  void OnChanges(const AccessChanges& changes, const std::vector<int64_t>& accounts) override {
    if (config_.authorization_cache) cache_.Apply(changes);
    for (int64_t id : accounts) {
      authenticator_.ForgetUser(id);
      if (token_) token_->issuer().ForgetUser(id);
    }
    authorizer_.PermissionsChanged();
  }

  ServiceRuntime& rt_;
  const AuthConfig config_;
  BcryptPasswordHasher hasher_;
  PgIdentityStore store_;
  CredentialCache credential_cache_;
  Authenticator authenticator_;
  AccessCache cache_;
  PgAccessSource pg_source_;
  Authorizer authorizer_;
  PgAccessFeed feed_;
  UserDirectory users_;
  TeamDirectory teams_;
  NamespaceDirectory namespaces_;
  GrpcAccessService access_grpc_;
  GrpcUserService users_grpc_;
  GrpcTeamService teams_grpc_;
  GrpcNamespaceService namespaces_grpc_;
  IdentityTokenPorts token_ports_;
  std::unique_ptr<TokenModule> token_;  // set by Init
};

}  // namespace

void BindAuthConfig(ConfigBinder* b, AuthConfig* c) {
  b->OwnSection("auth");
  b->OwnSection("user_permission");
  b->Int("auth.bcrypt_cost", &c->bcrypt_cost, 10,
         "Bcrypt cost of new password hashes (4-31; each step doubles the time: 10 is about 57 ms "
         "per login that misses the credential cache).")
      .Range(4, 31);
  b->Int("auth.lockout.max_attempts", &c->lockout_max_attempts, 10,
         "Failed logins (passwords or tokens) after which an account is locked.")
      .Range(1, 1000);
  b->Duration("auth.lockout.duration", &c->lockout_duration, absl::Minutes(10),
              "How long a locked account stays locked.")
      .Range(1000, 30LL * 24 * 3600 * 1000);
  b->Int("auth.application_tokens.max_per_user", &c->max_application_tokens, 5,
         "Application tokens an account may have.")
      .Range(1, 100);
  b->Duration("auth.credential_cache.ttl", &c->credential_cache_ttl, absl::Seconds(60),
              "How long a verified password or token is remembered (0 disables the cache); "
              "changes to the account drop it at once on every replica.")
      .Range(0, 3600 * 1000);
  b->Int64("auth.credential_cache.max_entries", &c->credential_cache_max_entries, 100000,
           "Credentials remembered at most.")
      .Range(100, 10000000);
  b->Bool("auth.authorization_cache.enabled", &c->authorization_cache, true,
          "Keep accounts, teams and namespaces in memory (refreshed by PostgreSQL LISTEN/NOTIFY) "
          "so authorization decisions never wait for the database; false reads the database for "
          "every decision.");
  b->Bool("user_permission.change_visibility.enabled", &c->change_visibility, true,
          "Team owners may change the visibility of their namespaces (else admins only).");
  b->Bool("user_permission.create_team.enabled", &c->create_team, true,
          "Any user may create teams (else admins only).");
  b->Bool("user_permission.manage_team.enabled", &c->manage_team, true,
          "Team owners may manage their teams and members (else admins only).");
  b->Bool("user_permission.create_namespace.enabled", &c->create_namespace, true,
          "Team owners and contributors may create namespaces (else admins only).");
  b->Bool("user_permission.manage_namespace.enabled", &c->manage_namespace, true,
          "Team owners may change and delete their namespaces (else admins only).");
  b->Enum("user_permission.push_images.policy", &c->push_policy, "allow-teams",
          {"allow-teams", "allow-personal", "admin-only"},
          "Who may push: allow-teams (owners and contributors), allow-personal (only to one's "
          "personal namespace), admin-only; admins may always push.");
  b->Bool("delete.enabled", &c->delete_enabled, false,
          "Images may be deleted (by owners and admins); false: nobody may delete.");
  b->Bool("delete.contributors", &c->delete_contributors, false,
          "Contributors may delete images too (needs delete.enabled).");
  b->Bool("anonymous_browsing.enabled", &c->anonymous_browsing, true,
          "Anonymous clients may list public namespaces (they may always pull from them).");
  BindTokenConfig(b, &c->token);
}

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const AuthConfig& config) {
  if (runtime.db == nullptr) return absl::FailedPreconditionError("the auth service needs a database");
  if (!ParsePushPolicy(config.push_policy).has_value()) {
    return absl::InvalidArgumentError("user_permission.push_images.policy: unknown policy");
  }
  if (runtime.common.internal_secret.empty()) {
    LogWarn("internal.secret is empty: the internal principal portunus cannot authenticate, so "
            "catalog, scanner and health cannot reach the registry");
  }
  auto module = std::make_unique<AuthModule>(runtime, config);
  if (absl::Status s = module->Init(); !s.ok()) return s;
  return module;
}

}  // namespace portunus::auth
