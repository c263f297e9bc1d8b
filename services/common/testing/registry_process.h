// RegistryProcess: a real Docker Distribution registry (/usr/bin/docker-registry, 2.8) for
// adapter tests, on a free loopback port with its storage in a temporary directory. It can be
// configured with token auth (a certificate bundle the test signs tokens with) and a
// notification endpoint. The process is stopped and its directory removed on destruction.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace portunus::testing {

struct RegistryProcessOptions {
  int port = 0;  // 0: a free port picked by the registry
  // Token auth: all four set, or none (no auth).
  std::string token_realm;
  std::string token_service;
  std::string token_issuer;
  std::string token_cert_bundle;  // PEM certificates
  // Notifications: POST every event to this URL with `Authorization: <notify_authorization>`.
  std::string notify_url;
  std::string notify_authorization;
  std::string notify_threshold = "3";
  std::string notify_backoff = "200ms";
  bool delete_enabled = true;
  // Reuse an existing storage directory (restart with the same content); empty: a new one.
  std::string storage_dir;
};

class RegistryProcess {
 public:
  // Starts the registry and waits until it listens. kFailedPrecondition when docker-registry is
  // not installed; kUnavailable when it does not start.
  static absl::StatusOr<std::unique_ptr<RegistryProcess>> Start(RegistryProcessOptions options = {});
  ~RegistryProcess();

  // "http://127.0.0.1:<port>"
  const std::string& url() const { return url_; }
  // "127.0.0.1:<port>"
  std::string host() const;
  const std::string& storage_dir() const { return storage_dir_; }
  // Stops the process (SIGTERM, then SIGKILL) without removing the storage.
  void Stop();

 private:
  RegistryProcess() = default;
  pid_t pid_ = -1;
  std::string dir_;
  std::string storage_dir_;
  bool own_storage_ = true;
  std::string url_;
};

}  // namespace portunus::testing
