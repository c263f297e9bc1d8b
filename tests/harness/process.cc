#include "tests/harness/process.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/harness/util.h"

extern char** environ;

namespace portunus::harness {
namespace {

// Every Process not yet destroyed, so a failing test can show their logs and nothing survives
// the test binary.
absl::Mutex g_live_mu;
std::set<Process*>* const g_live ABSL_GUARDED_BY(g_live_mu) = new std::set<Process*>;

void KillAllLive() {
  absl::MutexLock lock(&g_live_mu);
  for (Process* p : *g_live) {
    kill(-p->pid(), SIGKILL);
    kill(p->pid(), SIGKILL);
  }
}

class HarnessEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { KillAllLive(); }
};

// Prints the logs of processes that outlive a failed test (e.g. a stack shared by a suite);
// processes owned by the test itself print theirs when destroyed.
class FailureLogListener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (!info.result()->Failed()) return;
    absl::MutexLock lock(&g_live_mu);
    for (Process* p : *g_live) {
      if (p->dump_log_on_failure()) p->DumpLog(8192);
    }
  }
};

const bool g_registered = [] {
  ::testing::AddGlobalTestEnvironment(new HarnessEnvironment);
  ::testing::UnitTest::GetInstance()->listeners().Append(new FailureLogListener);
  std::atexit(KillAllLive);
  return true;
}();

bool CurrentTestFailed() {
  return ::testing::UnitTest::GetInstance()->current_test_info() != nullptr &&
         ::testing::Test::HasFailure();
}

ExitStatus FromWaitStatus(int st) {
  ExitStatus s;
  if (WIFEXITED(st)) {
    s.exited = true;
    s.code = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    s.signal = WTERMSIG(st);
  }
  return s;
}

int OpenOrDie(const std::string& path, int flags, std::string* error) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) *error = absl::StrCat("cannot open ", path, ": ", std::strerror(errno));
  return fd;
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return absl::StrCat("exit code ", code);
  if (signal != 0) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return "unknown exit status";
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(Options options) {
  (void)g_registered;
  if (options.binary.empty()) return absl::InvalidArgumentError("Process: no binary");
  if (options.log_path.empty()) return absl::InvalidArgumentError("Process: no log_path");
  if (options.name.empty()) {
    options.name = options.binary.substr(options.binary.rfind('/') + 1);
  }

  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls are allowed.
  std::vector<std::string> argv_s;
  argv_s.push_back(options.binary);
  argv_s.insert(argv_s.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool drop = false;
    for (const std::string& prefix : options.unset_env_prefixes) {
      if (absl::StartsWith(name, prefix)) drop = true;
    }
    for (const auto& [k, v] : options.env) {
      if (k == name) drop = true;
    }
    if (!drop) env_s.push_back(entry);
  }
  for (const auto& [k, v] : options.env) env_s.push_back(absl::StrCat(k, "=", v));
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  bool as_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  if (!options.user.empty()) {
    passwd pw{};
    passwd* found = nullptr;
    char buf[4096];
    if (getpwnam_r(options.user.c_str(), &pw, buf, sizeof(buf), &found) != 0 || found == nullptr) {
      return absl::NotFoundError(absl::StrCat("Process: no user ", options.user));
    }
    uid = pw.pw_uid;
    gid = pw.pw_gid;
    int n = 64;
    groups.resize(n);
    if (getgrouplist(options.user.c_str(), gid, groups.data(), &n) < 0) {
      groups.resize(n);
      getgrouplist(options.user.c_str(), gid, groups.data(), &n);
    }
    groups.resize(n);
    as_user = geteuid() != uid;
  }

  std::string error;
  const int log_fd = OpenOrDie(options.log_path, O_WRONLY | O_CREAT | O_APPEND, &error);
  if (log_fd < 0) return absl::InternalError(error);
  int err_fd = log_fd;
  if (!options.stderr_path.empty()) {
    err_fd = OpenOrDie(options.stderr_path, O_WRONLY | O_CREAT | O_APPEND, &error);
    if (err_fd < 0) {
      close(log_fd);
      return absl::InternalError(error);
    }
  }
  const int in_fd = OpenOrDie(options.stdin_path.empty() ? "/dev/null" : options.stdin_path,
                              O_RDONLY, &error);
  if (in_fd < 0) {
    close(log_fd);
    if (err_fd != log_fd) close(err_fd);
    return absl::InternalError(error);
  }
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }

  const pid_t parent = getpid();
  const bool main_thread = syscall(SYS_gettid) == parent;
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    auto fail = [&](int stage) {
      const int report[2] = {stage, errno};
      (void)!write(exec_pipe[1], report, sizeof(report));
      _exit(127);
    };
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
    if (dup2(in_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(err_fd, 2) < 0) fail(1);
    if (as_user) {
      if (setgroups(groups.size(), groups.data()) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        fail(2);
      }
    }
    // After the credential change, which clears it.
    if (main_thread) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
    }
    if (cwd != nullptr && chdir(cwd) != 0) fail(3);
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < 65536; ++fd) {
        if (fd != exec_pipe[1]) fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
    }
    execvpe(argv[0], argv.data(), envp.data());
    fail(4);
  }
  close(exec_pipe[1]);
  close(in_fd);
  close(log_fd);
  if (err_fd != log_fd) close(err_fd);
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = read(exec_pipe[0], report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  close(exec_pipe[0]);
  if (n > 0) {
    int st;
    waitpid(pid, &st, 0);
    static constexpr const char* kStages[] = {"", "redirect output", "switch user", "chdir",
                                              "exec"};
    const std::string what = absl::StrCat("cannot start ", options.binary, " (",
                                          kStages[report[0] >= 1 && report[0] <= 4 ? report[0] : 4],
                                          "): ", std::strerror(report[1]));
    if (report[0] == 4 && (report[1] == ENOENT || report[1] == EACCES)) {
      return absl::NotFoundError(what);
    }
    return absl::InternalError(what);
  }
  auto process = std::unique_ptr<Process>(new Process(std::move(options), pid));
  absl::MutexLock lock(&g_live_mu);
  g_live->insert(process.get());
  return process;
}

Process::Process(Options options, pid_t pid) : options_(std::move(options)), pid_(pid) {}

Process::~Process() {
  {
    absl::MutexLock lock(&g_live_mu);
    g_live->erase(this);
  }
  if (IsRunning()) {
    Signal(SIGTERM).IgnoreError();  // it may end on its own meanwhile
    if (!WaitForExit(absl::Seconds(5)).has_value()) Kill();
  }
  // Leftover members of its group (e.g. PostgreSQL backends after a crash).
  kill(-pid_, SIGKILL);
  if (options_.dump_log_on_failure && CurrentTestFailed()) DumpLog();
}

bool Process::Reap() {
  absl::MutexLock lock(&mu_);
  if (status_.has_value()) return true;
  int st = 0;
  const pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = FromWaitStatus(st);
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    status_ = ExitStatus{};  // reaped elsewhere: the status is lost
    return true;
  }
  return false;
}

bool Process::IsRunning() { return !Reap(); }

absl::Status Process::Signal(int sig) {
  if (Reap()) {
    return absl::FailedPreconditionError(absl::StrCat(options_.name, " has already ended"));
  }
  if (kill(pid_, sig) != 0) {
    return absl::InternalError(absl::StrCat("kill ", options_.name, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::optional<ExitStatus> Process::WaitForExit(absl::Duration timeout) {
  if (!PollUntil([this] { return Reap(); }, timeout, absl::Milliseconds(10))) return std::nullopt;
  return exit_status();
}

absl::StatusOr<ExitStatus> Process::Terminate(absl::Duration timeout) {
  if (Reap()) return *exit_status();
  Signal(SIGTERM).IgnoreError();  // it may have ended meanwhile; WaitForExit tells
  if (std::optional<ExitStatus> s = WaitForExit(timeout)) return *s;
  const ExitStatus killed = Kill();
  return absl::DeadlineExceededError(
      absl::StrCat(options_.name, " did not end within ", absl::FormatDuration(timeout),
                   " of SIGTERM; killed (", killed.ToString(), ")"));
}

ExitStatus Process::Kill() {
  if (!Reap()) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    absl::MutexLock lock(&mu_);
    if (!status_.has_value()) {
      int st = 0;
      pid_t r;
      do {
        r = waitpid(pid_, &st, 0);
      } while (r < 0 && errno == EINTR);
      status_ = r == pid_ ? FromWaitStatus(st) : ExitStatus{};
    }
  }
  return *exit_status();
}

std::optional<ExitStatus> Process::exit_status() {
  Reap();
  absl::MutexLock lock(&mu_);
  return status_;
}

std::string Process::ReadLog() const {
  absl::StatusOr<std::string> log = ReadFile(options_.log_path);
  return log.ok() ? *log : "";
}

void Process::DumpLog(size_t max_bytes) const {
  std::string text = ReadLog();
  if (!options_.stderr_path.empty()) {
    absl::StatusOr<std::string> err = ReadFile(options_.stderr_path);
    if (err.ok()) absl::StrAppend(&text, "---- stderr ----\n", *err);
  }
  std::fprintf(stderr, "==== log of %s (pid %d, %s) ====\n%s%s==== end of log of %s ====\n",
               options_.name.c_str(), static_cast<int>(pid_), options_.log_path.c_str(),
               Tail(text, max_bytes).c_str(),
               text.empty() || text.back() == '\n' ? "" : "\n", options_.name.c_str());
}

std::string CommandResult::Describe() const {
  return absl::StrCat(command, ": ", status.ToString(), "\nstdout:\n", Tail(out, 4096),
                      "\nstderr:\n", Tail(err, 4096));
}

absl::StatusOr<CommandResult> RunCommand(Process::Options options, absl::Duration timeout,
                                         const std::string& stdin_data) {
  TempDir dir("cmd");
  options.log_path = dir.Sub("stdout");
  options.stderr_path = dir.Sub("stderr");
  options.dump_log_on_failure = false;  // the caller gets the output
  if (!stdin_data.empty()) {
    options.stdin_path = dir.Sub("stdin");
    if (absl::Status s = WriteFile(options.stdin_path, stdin_data); !s.ok()) return s;
  }
  CommandResult result;
  result.command = absl::StrJoin(
      {options.binary, absl::StrJoin(options.args, " ")}, " ");
  absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(options);
  if (!p.ok()) return p.status();
  std::optional<ExitStatus> st = (*p)->WaitForExit(timeout);
  if (!st.has_value()) {
    (*p)->Kill();
    absl::StatusOr<std::string> err = ReadFile(options.stderr_path);
    return absl::DeadlineExceededError(
        absl::StrCat(result.command, " did not finish within ", absl::FormatDuration(timeout),
                     "; stderr: ", err.ok() ? Tail(*err, 2048) : ""));
  }
  result.status = *st;
  result.out = ReadFile(options.log_path).value_or("");
  result.err = ReadFile(options.stderr_path).value_or("");
  return result;
}

absl::StatusOr<CommandResult> RunCommand(const std::string& binary,
                                         std::vector<std::string> args, absl::Duration timeout,
                                         const std::string& stdin_data) {
  Process::Options options;
  options.binary = binary;
  options.args = std::move(args);
  return RunCommand(std::move(options), timeout, stdin_data);
}

std::vector<nlohmann::json> LogEntries(const std::string& log, const std::string& msg) {
  std::vector<nlohmann::json> out;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.is_object() && j.value("msg", "") == msg) out.push_back(j);
  }
  return out;
}

}  // namespace portunus::harness
