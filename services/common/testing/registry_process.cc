#include "services/common/testing/registry_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace portunus::testing {

absl::StatusOr<std::unique_ptr<RegistryProcess>> RegistryProcess::Start(
    RegistryProcessOptions options) {
  const char* binary = "/usr/bin/docker-registry";
  if (access(binary, X_OK) != 0) {
    return absl::FailedPreconditionError("docker-registry is not installed");
  }
  char tmpl[] = "/tmp/portunus-registry-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  std::unique_ptr<RegistryProcess> p(new RegistryProcess());
  p->dir_ = tmpl;
  if (options.storage_dir.empty()) {
    p->storage_dir_ = p->dir_ + "/data";
  } else {
    p->storage_dir_ = options.storage_dir;
    p->own_storage_ = false;
  }
  std::string config = absl::StrCat(
      "version: 0.1\n"
      "log: {level: info, formatter: text}\n"
      "storage:\n"
      "  filesystem: {rootdirectory: ", p->storage_dir_, "}\n",
      "  delete: {enabled: ", options.delete_enabled ? "true" : "false", "}\n",
      "  cache: {blobdescriptor: inmemory}\n"
      "http:\n"
      "  addr: 127.0.0.1:", options.port, "\n"
      "  secret: portunus-test-http-secret\n");
  if (!options.token_realm.empty()) {
    absl::StrAppend(&config, "auth:\n  token:\n    realm: ", options.token_realm,
                    "\n    service: ", options.token_service, "\n    issuer: ", options.token_issuer,
                    "\n    rootcertbundle: ", options.token_cert_bundle, "\n");
  }
  if (!options.notify_url.empty()) {
    absl::StrAppend(&config,
                    "notifications:\n  events: {includereferences: true}\n  endpoints:\n"
                    "    - name: portunus\n      url: ",
                    options.notify_url, "\n");
    if (!options.notify_authorization.empty()) {
      absl::StrAppend(&config, "      headers: {Authorization: [\"", options.notify_authorization,
                      "\"]}\n");
    }
    absl::StrAppend(&config, "      timeout: 2s\n      threshold: ", options.notify_threshold,
                    "\n      backoff: ", options.notify_backoff, "\n");
  }
  const std::string config_path = p->dir_ + "/config.yml";
  std::ofstream(config_path) << config;
  const std::string log_path = p->dir_ + "/registry.log";

  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl(binary, binary, "serve", config_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  p->pid_ = pid;
  // The registry logs "listening on 127.0.0.1:<port>" once bound (port 0 picks a free one).
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    std::ifstream in(log_path);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, listening)) {
        p->url_ = absl::StrCat("http://127.0.0.1:", m[1].str());
        return p;
      }
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      p->pid_ = -1;
      std::ifstream log(log_path);
      std::string all((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      return absl::UnavailableError(absl::StrCat("docker-registry exited: ", all.substr(0, 2000)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::UnavailableError("docker-registry did not start within 20s");
}

std::string RegistryProcess::host() const { return url_.substr(std::string("http://").size()); }

void RegistryProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

RegistryProcess::~RegistryProcess() {
  Stop();
  std::error_code ec;
  if (own_storage_) {
    std::filesystem::remove_all(dir_, ec);
  } else {
    std::filesystem::remove(dir_ + "/config.yml", ec);
    std::filesystem::remove(dir_ + "/registry.log", ec);
    std::filesystem::remove(dir_, ec);
  }
}

}  // namespace portunus::testing
