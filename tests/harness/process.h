// Child processes for integration tests: the services, PostgreSQL, the registry, skopeo, tools.
//
// A Process is spawned with explicit arguments and environment, writes stdout and stderr to a
// log file, and never outlives the test:
//   - its destructor stops it (SIGTERM, then SIGKILL after a grace period);
//   - it runs in its own process group, and Kill() signals the whole group;
//   - it gets SIGKILL when the test binary dies (PR_SET_PDEATHSIG; spawn from the test's main
//     thread, since the kernel ties this to the spawning thread);
//   - a gtest environment kills every process still registered when the program ends.
// When the running test has failed, the tail of each process's log is printed (by the
// destructor, or by a gtest listener for processes that outlive the test) so CI shows why.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace portunus::harness {

// How a process ended.
struct ExitStatus {
  bool exited = false;  // true: exit(code); false: killed by `signal`
  int code = -1;
  int signal = 0;

  bool success() const { return exited && code == 0; }
  // "exit code 2" or "killed by signal 9 (Killed)".
  std::string ToString() const;
};

class Process {
 public:
  struct Options {
    std::string name;                // shown in log dumps: "auth", "postgres"
    std::string binary;              // absolute path, or a name looked up in PATH
    std::vector<std::string> args;   // without argv[0]
    // Environment: the test's own environment, minus variables starting with any of
    // `unset_env_prefixes` (e.g. "PORTUNUS_" so a developer's shell cannot leak settings in),
    // then `env` applied on top.
    std::vector<std::pair<std::string, std::string>> env;
    std::vector<std::string> unset_env_prefixes;
    std::string log_path;     // stdout and stderr (appended); required
    std::string stderr_path;  // when set, stderr goes here instead of log_path
    std::string stdin_path;   // default /dev/null
    std::string cwd;          // default: inherited
    std::string user;         // run as this user (needs root); e.g. "postgres"
    bool dump_log_on_failure = true;
  };

  // Spawns the process. kInvalidArgument for missing options, kNotFound when the binary cannot
  // be executed (the exec error is reported here, not as an exit code), kInternal otherwise.
  static absl::StatusOr<std::unique_ptr<Process>> Start(Options options);

  // Terminates the process if still running (SIGTERM, SIGKILL after 5 s).
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  const std::string& name() const { return options_.name; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return options_.log_path; }
  bool dump_log_on_failure() const { return options_.dump_log_on_failure; }

  // False once the process has ended (it is reaped here).
  bool IsRunning();
  // Sends `sig` to the process (not its group). kFailedPrecondition when it already ended.
  absl::Status Signal(int sig);
  // Waits up to `timeout` for the process to end; nullopt if it is still running.
  std::optional<ExitStatus> WaitForExit(absl::Duration timeout);
  // SIGTERM, then waits up to `timeout`. kDeadlineExceeded when it did not end in time (it is then
  // killed with SIGKILL before returning). Returns the earlier status when it had already ended.
  absl::StatusOr<ExitStatus> Terminate(absl::Duration timeout = absl::Seconds(10));
  // SIGKILL to the whole process group, then waits.
  ExitStatus Kill();
  // The exit status once it ended.
  std::optional<ExitStatus> exit_status();

  // Everything the process wrote so far (stdout and stderr, or stdout only with stderr_path).
  std::string ReadLog() const;
  // Prints the last `max_bytes` of the log to stderr with a header naming the process.
  void DumpLog(size_t max_bytes = 16384) const;

 private:
  explicit Process(Options options, pid_t pid);
  // Reaps the process without blocking; true once it ended.
  bool Reap();

  const Options options_;
  const pid_t pid_;
  mutable absl::Mutex mu_;
  std::optional<ExitStatus> status_ ABSL_GUARDED_BY(mu_);
};

// The JSON lines of a service log (log.format json) whose "msg" is `msg`, in order.
std::vector<nlohmann::json> LogEntries(const std::string& log, const std::string& msg);

// The outcome of a command run to completion.
struct CommandResult {
  ExitStatus status;
  std::string out;  // stdout
  std::string err;  // stderr
  bool ok() const { return status.success(); }
  // "<cmd>: exit code 1: <stderr tail>", for assertion messages.
  std::string Describe() const;
  std::string command;
};

// Runs a command to completion with stdout and stderr captured separately. `options.log_path`
// and `options.stderr_path` are ignored. kDeadlineExceeded (after killing it) when it runs longer
// than `timeout`; a non-zero exit is not an error here: check result.status.
absl::StatusOr<CommandResult> RunCommand(Process::Options options,
                                         absl::Duration timeout = absl::Seconds(60),
                                         const std::string& stdin_data = "");

// Shorthand: RunCommand({binary, args}) with the test's environment.
absl::StatusOr<CommandResult> RunCommand(const std::string& binary,
                                         std::vector<std::string> args,
                                         absl::Duration timeout = absl::Seconds(60),
                                         const std::string& stdin_data = "");

}  // namespace portunus::harness
