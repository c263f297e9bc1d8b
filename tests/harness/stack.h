// The Portunus services as real processes on free ports, for end-to-end tests.
//
//   PORTUNUS_TEST_DATABASE(db);                       // or a PostgresServer of the test's own
//   Stack::Options options;
//   options.db_dsn = db->dsn();
//   ASSERT_OK_AND_ASSIGN... auto stack = Stack::Create(options);   // ports, keys, portunus.yml
//   auto registry = RegistryServer::Start((*stack)->RegistryOptions());  // optional
//   ASSERT_TRUE((*stack)->Start().ok());   // --migrate, waits until every service is ready
//
// Create() picks every port, generates the secrets and a token signing key + certificate, and
// writes one portunus.yml that all services read (the same file layout as scripts/run-local).
// Start() runs each service with `--config <file> --migrate` and waits until it is ready: the
// gRPC services answer grpc.health.v1 Check with SERVING; the gateway answers
// GET /api/v1/_ping with 200 once this build's gateway serves HTTP (the `gateway.listen` key
// exists), else its /metrics. The destructor stops everything (SIGTERM, then SIGKILL).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/harness/process.h"
#include "tests/harness/registry_server.h"
#include "tests/harness/util.h"

namespace portunus::harness {

// Every Portunus service, and those with a database (and a schema of the same name).
const std::vector<std::string>& AllServices();
const std::vector<std::string>& DatabaseServices();

// Every configuration key this build knows (from `portunusctl config reference`), so the
// harness writes keys other issues add only once they exist.
const std::vector<std::string>& KnownConfigKeys();
bool IsKnownConfigKey(const std::string& key);

// Renders dotted keys as nested YAML, every value as a quoted string:
//   {"db.host": "x", "db.port": "5432"} -> "db:\n  host: \"x\"\n  port: \"5432\"\n".
std::string RenderYaml(const std::map<std::string, std::string>& values);

class Stack {
 public:
  struct Options {
    std::vector<std::string> services = AllServices();
    // libpq keyword DSN of the database ("host=... port=... user=... dbname=..."), e.g.
    // TestDatabase::dsn() or PostgresServer::Dsn("x"). Required with any database service.
    std::string db_dsn;
    // Where the services find the registry. Empty: http://127.0.0.1:<a free port>, which
    // RegistryOptions() then uses, so a RegistryServer started from it listens there.
    std::string registry_url;
    std::string registry_service = "registry.local";
    // Extra or overriding configuration (dotted keys), written into portunus.yml.
    std::map<std::string, std::string> config;
    // Extra environment of every service (PORTUNUS_* from the test's own environment is
    // dropped, so a developer's shell cannot change the test).
    std::vector<std::pair<std::string, std::string>> env;
    bool migrate = true;  // pass --migrate
    // The algorithm of the token signing key `portunusctl keys generate` makes (RS256, RS384,
    // RS512, ES256).
    std::string key_algorithm = "RS256";
    absl::Duration ready_timeout = absl::Seconds(60);
  };

  // Picks ports, generates secrets and keys, writes portunus.yml. Starts nothing.
  static absl::StatusOr<std::unique_ptr<Stack>> Create(Options options);
  // Stops every running service.
  ~Stack();

  // Starts the auth service and waits until it is ready, then every other service of
  // options.services at once, and waits until each is ready. On error the message names the
  // service and carries the tail of its log.
  absl::Status Start();
  // Spawns one service (no waiting). kFailedPrecondition when it is running already.
  absl::Status StartService(const std::string& service);
  // Waits until `service` is ready (see the file comment). kDeadlineExceeded or kInternal (it
  // exited) with its log tail.
  absl::Status WaitReady(const std::string& service, absl::Duration timeout);
  // SIGTERM and wait; the status is how it ended. kDeadlineExceeded when it had to be killed.
  absl::StatusOr<ExitStatus> StopService(const std::string& service,
                                         absl::Duration timeout = absl::Seconds(10));
  // Stops every running service at once (SIGTERM, then SIGKILL after 10 s).
  void Stop();

  // The running (or ended) process of `service`, or null when never started.
  Process* process(const std::string& service);

  // "127.0.0.1:<port>" of a gRPC service (auth, catalog, scanner, health).
  std::string grpc_address(const std::string& service) const;
  // "http://127.0.0.1:<port>/metrics" of any service.
  std::string metrics_url(const std::string& service) const;
  // "http://127.0.0.1:<port>": the gateway's HTTP front door. Picked even while this build's
  // gateway does not serve HTTP yet, so the registry's realm has its final value.
  std::string gateway_url() const;
  // Whether this build's gateway serves HTTP (binds `gateway.listen`).
  bool gateway_serves_http() const;
  // gateway_url() + "/v2/token" and "/v2/webhooks/events".
  std::string token_realm() const;
  std::string webhook_url() const;
  const std::string& registry_url() const { return options_.registry_url; }

  const std::string& dir() const { return dir_.path(); }
  const std::string& config_path() const { return config_path_; }
  const std::map<std::string, std::string>& config() const { return config_; }
  const std::string& internal_secret() const { return internal_secret_; }
  const std::string& webhook_secret() const { return webhook_secret_; }
  // The token key directory (auth.token.keys_dir; made with `portunusctl keys generate`), and
  // the bundle the registry trusts (`portunusctl keys bundle` of it).
  const std::string& keys_dir() const { return keys_dir_; }
  const std::string& bundle_path() const { return bundle_path_; }
  // Rewrites bundle_path() from `portunusctl keys bundle` (after keys were added); the registry
  // reads it when it (re)starts.
  absl::Status WriteBundle();

  // Options for a RegistryServer wired to this stack: on registry_url's port, realm =
  // token_realm(), service = registry.service, issuer "portunus", the bundle, and notifications
  // to webhook_url() with webhook_secret().
  RegistryServer::Options RegistryOptions() const;

  // Runs `portunusctl --config <file> args...` with the stack's environment.
  absl::StatusOr<CommandResult> RunCtl(std::vector<std::string> args,
                                       absl::Duration timeout = absl::Seconds(60));

  // The Process::Options a service would be started with (binary, args, env, log path).
  Process::Options ServiceOptions(const std::string& service) const;

 private:
  explicit Stack(Options options);

  Options options_;
  TempDir dir_;
  std::string config_path_;
  std::map<std::string, std::string> config_;
  std::string internal_secret_;
  std::string webhook_secret_;
  std::string keys_dir_;
  std::string bundle_path_;
  std::string gateway_listen_;
  std::map<std::string, std::unique_ptr<Process>> processes_;
};

}  // namespace portunus::harness
