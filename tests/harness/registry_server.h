// The real Docker registry (docker-registry 2.8, /usr/bin/docker-registry) for one test,
// configured like the local stack (scripts/lib/registry-config.yml.in, the one template both
// use): token auth with a given realm, service, issuer and root certificate bundle, filesystem
// storage in a temp dir (kept across Stop/Restart), delete enabled, notifications to a given URL
// with `Authorization: Bearer <secret>`, Prometheus metrics on a debug port.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/harness/process.h"
#include "tests/harness/util.h"

namespace portunus::harness {

class RegistryServer {
 public:
  struct Options {
    int port = 0;        // 0: a free port
    int debug_port = 0;  // 0: a free port
    std::string realm;   // the token endpoint, e.g. Stack::token_realm(); required
    std::string service = "registry.local";
    std::string issuer = "portunus";
    // PEM certificates of the token signing keys. Empty: a throwaway self-signed certificate is
    // generated (then no token verifies, which suits tests of the 401 challenge only).
    std::string rootcertbundle;
    std::string notify_url;  // empty: notifications disabled
    std::string notify_secret;
    std::string notify_timeout = "1s";
    int notify_threshold = 3;
    std::string notify_backoff = "1s";
    std::string storage_dir;  // empty: a directory inside the server's temp dir
  };

  // Writes the configuration and starts the registry; waits (up to 30 s) until GET /v2/
  // answers. kInvalidArgument without a realm.
  static absl::StatusOr<std::unique_ptr<RegistryServer>> Start(Options options);
  ~RegistryServer();

  absl::Status Stop();
  // Starts it again (stopping it first when running) with the same config and storage.
  absl::Status Restart();

  // "http://127.0.0.1:<port>".
  std::string url() const;
  // "127.0.0.1:<port>": what skopeo references use (docker://127.0.0.1:<port>/ns/repo:tag).
  std::string host_port() const;
  // "http://127.0.0.1:<debug port>" (/metrics, /debug/health, /debug/vars).
  std::string debug_url() const;
  const std::string& config_path() const { return config_path_; }
  const std::string& storage_dir() const { return options_.storage_dir; }
  const Options& options() const { return options_; }
  Process* process() { return process_.get(); }

  // Renders the template with these values (used by Start; exposed for tests of the template).
  static absl::StatusOr<std::string> RenderConfig(const Options& options,
                                                  const std::string& http_secret);

 private:
  explicit RegistryServer(Options options);
  absl::Status Launch();

  Options options_;
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<Process> process_;
};

}  // namespace portunus::harness
