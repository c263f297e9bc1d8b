#include "tests/harness/stack.h"

#include <signal.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tests/harness/grpc_health.h"
#include "tests/harness/http.h"

namespace portunus::harness {
namespace {

bool HasDatabase(const std::string& service) {
  const auto& db = DatabaseServices();
  return std::find(db.begin(), db.end(), service) != db.end();
}

// "127.0.0.1:50051" -> "50051".
std::string PortOf(const std::string& host_port) {
  return host_port.substr(host_port.rfind(':') + 1);
}

void RenderNode(const std::map<std::string, std::string>& values, const std::string& prefix,
                int indent, std::string* out) {
  // The direct children of `prefix`, in key order; a child is a leaf or a section.
  std::vector<std::string> children;
  for (const auto& [key, value] : values) {
    if (!absl::StartsWith(key, prefix)) continue;
    const std::string rest = key.substr(prefix.size());
    const std::string child = rest.substr(0, rest.find('.'));
    if (children.empty() || children.back() != child) children.push_back(child);
  }
  for (const std::string& child : children) {
    const std::string full = prefix + child;
    out->append(indent, ' ');
    auto leaf = values.find(full);
    if (leaf != values.end()) {
      absl::StrAppend(out, child, ": ", nlohmann::json(leaf->second).dump(), "\n");
    } else {
      absl::StrAppend(out, child, ":\n");
      RenderNode(values, full + ".", indent + 2, out);
    }
  }
}

absl::Status GenerateSigningKey(const std::string& dir, const std::string& algorithm) {
  absl::StatusOr<CommandResult> r =
      RunCommand(BinaryPath("portunusctl"),
                 {"keys", "generate", "--algorithm", algorithm, "--days", "30", "--dir", dir});
  if (!r.ok()) return r.status();
  if (!r->ok()) return absl::InternalError(r->Describe());
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& AllServices() {
  static const auto* const kAll =
      new std::vector<std::string>{"auth", "catalog", "scanner", "health", "gateway"};
  return *kAll;
}

const std::vector<std::string>& DatabaseServices() {
  static const auto* const kDb = new std::vector<std::string>{"auth", "catalog", "scanner", "health"};
  return *kDb;
}

const std::vector<std::string>& KnownConfigKeys() {
  static const auto* const kKeys = [] {
    auto* keys = new std::vector<std::string>;
    absl::StatusOr<CommandResult> r =
        RunCommand(BinaryPath("portunusctl"), {"config", "reference"});
    if (!r.ok() || !r->ok()) {
      std::fprintf(stderr, "harness: portunusctl config reference failed: %s\n",
                   r.ok() ? r->Describe().c_str() : std::string(r.status().message()).c_str());
      std::abort();
    }
    // Rows look like: | `db.host` | string | ... |
    for (absl::string_view line : absl::StrSplit(r->out, '\n')) {
      if (!absl::StartsWith(line, "| `")) continue;
      line.remove_prefix(3);
      keys->emplace_back(line.substr(0, line.find('`')));
    }
    return keys;
  }();
  return *kKeys;
}

bool IsKnownConfigKey(const std::string& key) {
  const auto& keys = KnownConfigKeys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string RenderYaml(const std::map<std::string, std::string>& values) {
  std::string out;
  RenderNode(values, "", 0, &out);
  return out;
}

Stack::Stack(Options options) : options_(std::move(options)), dir_("stack") {}

absl::StatusOr<std::unique_ptr<Stack>> Stack::Create(Options options) {
  for (const std::string& s : options.services) {
    const auto& all = AllServices();
    if (std::find(all.begin(), all.end(), s) == all.end()) {
      return absl::InvalidArgumentError(absl::StrCat("Stack: unknown service ", s));
    }
  }
  if (options.registry_url.empty()) {
    options.registry_url = absl::StrCat("http://127.0.0.1:", PickFreePort());
  }
  auto stack = std::unique_ptr<Stack>(new Stack(std::move(options)));
  Stack& st = *stack;
  st.internal_secret_ = RandomHex(24);
  st.webhook_secret_ = RandomHex(24);
  st.keys_dir_ = st.dir_.Sub("token-keys");
  st.bundle_path_ = st.dir_.Sub("bundle.crt");
  if (absl::Status s = GenerateSigningKey(st.keys_dir_, st.options_.key_algorithm); !s.ok()) {
    return s;
  }
  if (absl::Status s = st.WriteBundle(); !s.ok()) return s;

  std::map<std::string, std::string>& c = st.config_;
  // The database: a libpq keyword DSN, split into the db.* keys.
  for (absl::string_view part : absl::StrSplit(st.options_.db_dsn, ' ', absl::SkipEmpty())) {
    const std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first == "host") c["db.host"] = kv.second;
    else if (kv.first == "port") c["db.port"] = kv.second;
    else if (kv.first == "user") c["db.username"] = kv.second;
    else if (kv.first == "dbname") c["db.database"] = kv.second;
    else if (kv.first == "password") c["db.password"] = kv.second;
  }
  const bool needs_db = std::any_of(st.options_.services.begin(), st.options_.services.end(),
                                    HasDatabase);
  if (needs_db && (!c.count("db.host") || !c.count("db.database"))) {
    return absl::InvalidArgumentError(
        "Stack: options.db_dsn must name host and dbname for services with a database");
  }
  c["db.sslmode"] = "disable";
  c["db.pool"] = "4";
  c["log.format"] = "json";
  c["log.level"] = "info";
  c["internal.secret"] = st.internal_secret_;
  c["registry.url"] = st.options_.registry_url;
  c["registry.service"] = st.options_.registry_service;
  for (const std::string& svc : DatabaseServices()) {
    c[svc + ".listen"] = absl::StrCat("127.0.0.1:", PickFreePort());
    c[svc + ".metrics_listen"] = absl::StrCat("127.0.0.1:", PickFreePort());
  }
  c["gateway.metrics_listen"] = absl::StrCat("127.0.0.1:", PickFreePort());
  // Keys that land with later issues are written once this build knows them.
  st.gateway_listen_ = absl::StrCat("127.0.0.1:", PickFreePort());
  if (IsKnownConfigKey("gateway.listen")) c["gateway.listen"] = st.gateway_listen_;
  if (IsKnownConfigKey("auth.token.issuer")) c["auth.token.issuer"] = "portunus";
  if (IsKnownConfigKey("auth.token.keys_dir")) c["auth.token.keys_dir"] = st.keys_dir_;
  // Key rotation in tests: the auth service notices a changed key directory within a second.
  if (IsKnownConfigKey("auth.token.keys_reload_interval")) {
    c["auth.token.keys_reload_interval"] = "1s";
  }
  if (IsKnownConfigKey("catalog.webhook_secret")) c["catalog.webhook_secret"] = st.webhook_secret_;
  for (const auto& [key, value] : st.options_.config) c[key] = value;
  if (c.count("gateway.listen")) st.gateway_listen_ = c["gateway.listen"];

  st.config_path_ = st.dir_.Sub("portunus.yml");
  if (absl::Status s = WriteFile(
          st.config_path_,
          absl::StrCat("# Written by the test harness (tests/harness/stack.cc).\n",
                       RenderYaml(c)),
          0600);
      !s.ok()) {
    return s;
  }
  return stack;
}

Stack::~Stack() { Stop(); }

Process::Options Stack::ServiceOptions(const std::string& service) const {
  Process::Options o;
  o.name = service;
  o.binary = BinaryPath("portunus-" + service);
  o.args = {"--config", config_path_};
  if (options_.migrate && HasDatabase(service)) o.args.push_back("--migrate");
  o.unset_env_prefixes = {"PORTUNUS_"};
  o.env = options_.env;
  o.log_path = dir_.Sub(service + ".log");
  return o;
}

absl::Status Stack::StartService(const std::string& service) {
  auto it = processes_.find(service);
  if (it != processes_.end() && it->second->IsRunning()) {
    return absl::FailedPreconditionError(absl::StrCat(service, " is already running"));
  }
  absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(ServiceOptions(service));
  if (!p.ok()) return p.status();
  processes_[service] = std::move(*p);
  return absl::OkStatus();
}

absl::Status Stack::WaitReady(const std::string& service, absl::Duration timeout) {
  Process* p = process(service);
  if (p == nullptr) return absl::FailedPreconditionError(absl::StrCat(service, " not started"));
  std::string last = "no answer yet";
  auto ready = [&]() -> bool {
    if (HasDatabase(service)) {
      absl::StatusOr<std::string> h = GrpcHealthCheck(grpc_address(service));
      last = h.ok() ? *h : std::string(h.status().message());
      return h.ok() && *h == "SERVING";
    }
    // TODO(gateway issue): once every build serves HTTP, always wait for /api/v1/_ping.
    const std::string url = gateway_serves_http() ? gateway_url() + "/api/v1/_ping"
                                                  : metrics_url(service);
    absl::StatusOr<HttpResponse> r = HttpGet(url);
    last = r.ok() ? absl::StrCat("GET ", url, " -> ", r->status) : std::string(r.status().message());
    return r.ok() && r->status == 200;
  };
  bool ok = false;
  PollUntil([&] { return (ok = ready()) || !p->IsRunning(); }, timeout);
  if (ok) return absl::OkStatus();
  if (!p->IsRunning()) {
    return absl::InternalError(absl::StrCat(service, " exited (", p->exit_status()->ToString(),
                                            ") before it was ready:\n",
                                            Tail(p->ReadLog(), 4096)));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(service, " was not ready within ", absl::FormatDuration(timeout), " (", last,
                   "):\n", Tail(p->ReadLog(), 4096)));
}

absl::Status Stack::Start() {
  // The auth service first: every other service calls it (credentials, registry tokens), and a
  // gRPC channel that found it not listening yet fails calls fast during its reconnect backoff,
  // which would race with the test's first requests.
  const bool has_auth =
      std::find(options_.services.begin(), options_.services.end(), "auth") != options_.services.end();
  if (has_auth) {
    if (absl::Status s = StartService("auth"); !s.ok()) return s;
    if (absl::Status s = WaitReady("auth", options_.ready_timeout); !s.ok()) return s;
  }
  for (const std::string& svc : options_.services) {
    if (svc == "auth" && has_auth) continue;
    if (absl::Status s = StartService(svc); !s.ok()) return s;
  }
  for (const std::string& svc : options_.services) {
    if (absl::Status s = WaitReady(svc, options_.ready_timeout); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Stack::StopService(const std::string& service,
                                              absl::Duration timeout) {
  Process* p = process(service);
  if (p == nullptr) return absl::FailedPreconditionError(absl::StrCat(service, " not started"));
  return p->Terminate(timeout);
}

void Stack::Stop() {
  for (auto& [name, p] : processes_) {
    if (p->IsRunning()) p->Signal(SIGTERM).IgnoreError();  // it may just have ended
  }
  for (auto& [name, p] : processes_) {
    if (!p->WaitForExit(absl::Seconds(10)).has_value()) p->Kill();
  }
}

Process* Stack::process(const std::string& service) {
  auto it = processes_.find(service);
  return it == processes_.end() ? nullptr : it->second.get();
}

std::string Stack::grpc_address(const std::string& service) const {
  auto it = config_.find(service + ".listen");
  return it == config_.end() ? "" : it->second;
}

std::string Stack::metrics_url(const std::string& service) const {
  auto it = config_.find(service + ".metrics_listen");
  if (it == config_.end()) return "";
  return absl::StrCat("http://", it->second, "/metrics");
}

bool Stack::gateway_serves_http() const { return config_.count("gateway.listen") > 0; }

std::string Stack::gateway_url() const { return absl::StrCat("http://", gateway_listen_); }

std::string Stack::token_realm() const { return gateway_url() + "/v2/token"; }
std::string Stack::webhook_url() const { return gateway_url() + "/v2/webhooks/events"; }

RegistryServer::Options Stack::RegistryOptions() const {
  RegistryServer::Options o;
  int port = 0;
  if (absl::SimpleAtoi(PortOf(options_.registry_url), &port)) o.port = port;
  o.realm = token_realm();
  o.service = options_.registry_service;
  o.issuer = "portunus";
  o.rootcertbundle = bundle_path_;
  o.notify_url = webhook_url();
  o.notify_secret = webhook_secret_;
  return o;
}

absl::Status Stack::WriteBundle() {
  absl::StatusOr<CommandResult> r =
      RunCommand(BinaryPath("portunusctl"), {"keys", "bundle", "--dir", keys_dir_});
  if (!r.ok()) return r.status();
  if (!r->ok()) return absl::InternalError(r->Describe());
  return WriteFile(bundle_path_, r->out, 0644);
}

absl::StatusOr<CommandResult> Stack::RunCtl(std::vector<std::string> args,
                                            absl::Duration timeout) {
  Process::Options o;
  o.binary = BinaryPath("portunusctl");
  o.args = {"--config", config_path_};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.unset_env_prefixes = {"PORTUNUS_"};
  o.env = options_.env;
  return RunCommand(o, timeout);
}

}  // namespace portunus::harness
