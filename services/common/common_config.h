// The settings every Portunus binary shares: database, logging, the internal service secret,
// the registry, and where each service listens and can be reached. Service-specific settings
// live beside their service (services/<svc>/<svc>_config.h).
#pragma once

#include <string>

#include "absl/time/time.h"
#include "services/common/config.h"

namespace portunus {

struct DbConfig {
  std::string host;
  int port = 5432;
  std::string database;
  std::string username;
  std::string password;
  std::string sslmode;
  int pool = 8;
  absl::Duration connect_timeout;
  absl::Duration statement_timeout;

  // A libpq connection string for these settings (password included: never log it).
  std::string ConnectionString() const;
};

struct LogConfig {
  std::string level;
  std::string format;
};

// Where one gRPC service listens (gRPC and /metrics) and where the others reach it.
struct ServiceEndpoint {
  std::string listen;          // "127.0.0.1:50051"
  std::string metrics_listen;  // "127.0.0.1:9091"
  std::string address;         // how other services dial it; defaults to `listen`
};

struct RegistryConfig {
  std::string url;          // "http://127.0.0.1:5000"
  std::string service;      // the token `service`/`aud` the registry is configured with
  std::string ca_file;      // PEM bundle to verify the registry's TLS certificate
  bool tls_verify = true;
  absl::Duration timeout;
};

struct CommonConfig {
  DbConfig db;
  LogConfig log;
  std::string internal_secret;  // internal.secret: how services authenticate as `portunus`
  absl::Duration rpc_timeout;   // internal.rpc_timeout: deadline of service-to-service calls
  RegistryConfig registry;
  ServiceEndpoint auth;
  ServiceEndpoint catalog;
  ServiceEndpoint scanner;
  ServiceEndpoint health;
  // The gateway has no gRPC port; its own section holds its HTTP settings.
  std::string gateway_metrics_listen;
};

// Binds the common keys and owns the sections db, log, internal and registry.
void BindCommonConfig(ConfigBinder* binder, CommonConfig* config);

// Checks a host:port listen or dial address; returns an error message or "".
std::string CheckHostPort(const std::string& value);

}  // namespace portunus
