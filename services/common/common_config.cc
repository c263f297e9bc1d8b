#include "services/common/common_config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace portunus {
namespace {

// libpq keyword/value quoting: single quotes, with \ and ' escaped.
std::string PqQuote(const std::string& v) {
  return absl::StrCat("'", absl::StrReplaceAll(v, {{"\\", "\\\\"}, {"'", "\\'"}}), "'");
}

void BindEndpoint(ConfigBinder* b, const std::string& name, ServiceEndpoint* e,
                  const std::string& grpc_port, const std::string& metrics_port) {
  b->String(name + ".listen", &e->listen, "127.0.0.1:" + grpc_port,
            "Address the " + name + " service's gRPC server listens on.")
      .Check([e] { return CheckHostPort(e->listen); });
  b->String(name + ".metrics_listen", &e->metrics_listen, "127.0.0.1:" + metrics_port,
            "Address of the " + name + " service's Prometheus /metrics endpoint.")
      .Check([e] { return CheckHostPort(e->metrics_listen); });
  b->String(name + ".address", &e->address, "",
            "Address other services dial to reach the " + name +
                " service; empty means the listen address.")
      .Check([e] {
        if (e->address.empty()) e->address = e->listen;
        return CheckHostPort(e->address);
      });
}

}  // namespace

std::string CheckHostPort(const std::string& value) {
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) return "must be host:port";
  int port;
  if (!absl::SimpleAtoi(value.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return "must be host:port with a port between 0 and 65535";
  }
  return "";
}

std::string DbConfig::ConnectionString() const {
  std::string s = absl::StrCat("host=", PqQuote(host), " port=", port, " dbname=", PqQuote(database),
                               " user=", PqQuote(username));
  if (!password.empty()) absl::StrAppend(&s, " password=", PqQuote(password));
  if (!sslmode.empty()) absl::StrAppend(&s, " sslmode=", sslmode);
  absl::StrAppend(&s, " connect_timeout=",
                  std::max<int64_t>(1, absl::ToInt64Seconds(connect_timeout)));
  absl::StrAppend(&s, " application_name=portunus");
  if (statement_timeout > absl::ZeroDuration()) {
    absl::StrAppend(&s, " options='-c statement_timeout=",
                    absl::ToInt64Milliseconds(statement_timeout), "'");
  }
  return s;
}

void BindCommonConfig(ConfigBinder* b, CommonConfig* c) {
  for (const char* s : {"db", "log", "internal", "registry"}) b->OwnSection(s);

  b->String("db.host", &c->db.host, "127.0.0.1",
            "PostgreSQL host name, IP address, or directory of its Unix socket.");
  b->Int("db.port", &c->db.port, 5432, "PostgreSQL port.").Range(1, 65535);
  b->String("db.database", &c->db.database, "portunus", "Database name.").Required();
  b->String("db.username", &c->db.username, "portunus", "Database user.").Required();
  b->String("db.password", &c->db.password, "", "Database password.").Secret();
  b->Enum("db.sslmode", &c->db.sslmode, "prefer",
          {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
          "libpq sslmode.");
  b->Int("db.pool", &c->db.pool, 8, "Connections per service replica.").Range(1, 200);
  b->Duration("db.connect_timeout", &c->db.connect_timeout, absl::Seconds(5),
              "Timeout for opening a database connection.")
      .Range(1000, 600000);
  b->Duration("db.statement_timeout", &c->db.statement_timeout, absl::Seconds(30),
              "Server-side statement timeout; 0 disables it.");

  b->Enum("log.level", &c->log.level, "info", {"debug", "info", "warn", "error"},
          "Lowest level written.");
  b->Enum("log.format", &c->log.format, "json", {"json", "text"},
          "json: one JSON object per line; text: one readable line per entry.");

  b->String("internal.secret", &c->internal_secret, "",
            "Shared secret the services use to act as the internal principal `portunus` "
            "(at least 32 characters).")
      .Secret()
      .Required()
      .Check([c] {
        return c->internal_secret.size() < 32 ? "must be at least 32 characters" : "";
      });
  b->Duration("internal.rpc_timeout", &c->rpc_timeout, absl::Seconds(10),
              "Deadline of every service-to-service gRPC call.")
      .Range(10, 600000);

  b->String("registry.url", &c->registry.url, "http://127.0.0.1:5000",
            "Base URL of the Docker registry.")
      .Check([c] {
        return (c->registry.url.rfind("http://", 0) == 0 || c->registry.url.rfind("https://", 0) == 0)
                   ? ""
                   : "must start with http:// or https://";
      });
  b->String("registry.service", &c->registry.service, "registry.local",
            "The registry's auth.token.service: the `service` of token requests and the `aud` "
            "of tokens.")
      .Required();
  b->String("registry.ca_file", &c->registry.ca_file, "",
            "PEM CA bundle that signs the registry's TLS certificate; empty: system CAs.");
  b->Bool("registry.tls_verify", &c->registry.tls_verify, true,
          "Verify the registry's TLS certificate.");
  b->Duration("registry.timeout", &c->registry.timeout, absl::Seconds(30),
              "Timeout of one registry API request.")
      .Range(100, 3600000);

  BindEndpoint(b, "auth", &c->auth, "50051", "9091");
  BindEndpoint(b, "catalog", &c->catalog, "50052", "9092");
  BindEndpoint(b, "scanner", &c->scanner, "50053", "9093");
  BindEndpoint(b, "health", &c->health, "50054", "9094");
  b->String("gateway.metrics_listen", &c->gateway_metrics_listen, "127.0.0.1:9095",
            "Address of the gateway's Prometheus /metrics endpoint.")
      .Check([c] { return CheckHostPort(c->gateway_metrics_listen); });
}

}  // namespace portunus
