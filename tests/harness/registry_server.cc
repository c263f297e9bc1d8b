#include "tests/harness/registry_server.h"

#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/harness/http.h"

namespace portunus::harness {

RegistryServer::RegistryServer(Options options) : options_(std::move(options)), dir_("registry") {}

absl::StatusOr<std::string> RegistryServer::RenderConfig(const Options& o,
                                                         const std::string& http_secret) {
  absl::StatusOr<std::string> templ =
      ReadFile(SourceDir() + "/scripts/lib/registry-config.yml.in");
  if (!templ.ok()) return templ.status();
  const bool notify = !o.notify_url.empty();
  return absl::StrReplaceAll(
      *templ, {{"@STORAGE_DIR@", o.storage_dir},
               {"@ADDR@", absl::StrCat("127.0.0.1:", o.port)},
               {"@HTTP_SECRET@", http_secret},
               {"@DEBUG_ADDR@", absl::StrCat("127.0.0.1:", o.debug_port)},
               {"@REALM@", o.realm},
               {"@SERVICE@", o.service},
               {"@ISSUER@", o.issuer},
               {"@ROOTCERTBUNDLE@", o.rootcertbundle},
               {"@NOTIFY_DISABLED@", notify ? "false" : "true"},
               {"@NOTIFY_URL@", notify ? o.notify_url : "http://127.0.0.1:9/disabled"},
               {"@NOTIFY_SECRET@", o.notify_secret.empty() ? "none" : o.notify_secret},
               {"@NOTIFY_TIMEOUT@", o.notify_timeout},
               {"@NOTIFY_THRESHOLD@", absl::StrCat(o.notify_threshold)},
               {"@NOTIFY_BACKOFF@", o.notify_backoff}});
}

absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Start(Options options) {
  if (options.realm.empty()) return absl::InvalidArgumentError("RegistryServer: no realm");
  if (options.port == 0) options.port = PickFreePort();
  if (options.debug_port == 0) options.debug_port = PickFreePort();
  auto server = std::unique_ptr<RegistryServer>(new RegistryServer(std::move(options)));
  Options& o = server->options_;
  if (o.storage_dir.empty()) o.storage_dir = server->dir_.Sub("storage");
  if (absl::Status s = MakeDirs(o.storage_dir); !s.ok()) return s;
  if (o.rootcertbundle.empty()) {
    o.rootcertbundle = server->dir_.Sub("bundle.crt");
    absl::StatusOr<CommandResult> r = RunCommand(
        "openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    server->dir_.Sub("unused.key"), "-out", o.rootcertbundle, "-days", "2",
                    "-subj", "/CN=portunus-test-untrusted"});
    if (!r.ok()) return r.status();
    if (!r->ok()) return absl::InternalError(r->Describe());
  }
  absl::StatusOr<std::string> config = RenderConfig(o, RandomHex(16));
  if (!config.ok()) return config.status();
  server->config_path_ = server->dir_.Sub("config.yml");
  if (absl::Status s = WriteFile(server->config_path_, *config, 0600); !s.ok()) return s;
  if (absl::Status s = server->Launch(); !s.ok()) return s;
  return server;
}

RegistryServer::~RegistryServer() {
  Stop().IgnoreError();  // best effort; the Process destructor kills what is left
  process_.reset();
}

absl::Status RegistryServer::Launch() {
  Process::Options o;
  o.name = absl::StrCat("registry:", options_.port);
  o.binary = "/usr/bin/docker-registry";
  o.args = {"serve", config_path_};
  o.log_path = dir_.Sub("registry.log");
  // REGISTRY_* variables would override the file.
  o.unset_env_prefixes = {"REGISTRY_"};
  absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(o);
  if (!p.ok()) return p.status();
  process_ = std::move(*p);
  bool answered = false;
  PollUntil(
      [&] {
        answered = HttpGet(url() + "/v2/").ok();
        return answered || !process_->IsRunning();
      },
      absl::Seconds(30), absl::Milliseconds(20));
  if (!answered) {
    const std::string why = process_->IsRunning()
                                ? "did not answer GET /v2/ within 30 s"
                                : "exited (" + process_->exit_status()->ToString() + ")";
    return absl::InternalError(absl::StrCat("registry on ", host_port(), " ", why, ":\n",
                                            Tail(process_->ReadLog(), 2048)));
  }
  return absl::OkStatus();
}

absl::Status RegistryServer::Stop() {
  if (!process_ || !process_->IsRunning()) return absl::OkStatus();
  absl::StatusOr<ExitStatus> s = process_->Terminate(absl::Seconds(10));
  return s.ok() ? absl::OkStatus() : s.status();
}

absl::Status RegistryServer::Restart() {
  if (absl::Status s = Stop(); !s.ok()) return s;
  return Launch();
}

std::string RegistryServer::url() const { return absl::StrCat("http://", host_port()); }
std::string RegistryServer::host_port() const {
  return absl::StrCat("127.0.0.1:", options_.port);
}
std::string RegistryServer::debug_url() const {
  return absl::StrCat("http://127.0.0.1:", options_.debug_port);
}

}  // namespace portunus::harness
