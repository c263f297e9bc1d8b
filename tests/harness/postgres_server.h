// A throwaway PostgreSQL 15 server for one test (or one suite): its own data directory, a free
// TCP port on 127.0.0.1 and a Unix socket in its directory. initdb and the server run as the
// `postgres` user when the test runs as root (initdb refuses root). The server is a direct child
// of the test (no pg_ctl daemon), so it dies with the test.
//
// Most tests share the ctest fixture's server instead (PORTUNUS_TEST_DATABASE in
// services/common/testing/test_database.h); use this one to stop and restart the database
// under a running service, or for settings the shared one lacks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/harness/process.h"
#include "tests/harness/util.h"

namespace portunus::harness {

class PostgresServer {
 public:
  struct Options {
    int port = 0;  // 0: a free port
    // Extra server settings, e.g. {"max_connections=50"}; fsync is off by default.
    std::vector<std::string> settings;
  };

  // initdb + start, waits until it accepts connections (up to 60 s).
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start() { return Start(Options{}); }
  // Stops the server and removes its directory.
  ~PostgresServer();

  // Fast shutdown (clients are disconnected), waits until it has stopped.
  absl::Status Stop();
  // Starts it again (after Stop) on the same port with the same data; stops it first when it
  // is running. Waits until it accepts connections.
  absl::Status Restart();
  // Kills the server with SIGKILL (a crash): clients see broken connections.
  void Kill();
  bool IsRunning();

  int port() const { return port_; }
  const std::string& socket_dir() const { return dir_.path(); }
  // libpq keyword DSN over the Unix socket: "host=<dir> port=<port> user=postgres dbname=<db>".
  std::string Dsn(const std::string& database = "postgres") const;
  // The same over TCP: "host=127.0.0.1 port=<port> ...".
  std::string TcpDsn(const std::string& database = "postgres") const;

  // CREATE DATABASE `name` (kAlreadyExists when it exists).
  absl::Status CreateDatabase(const std::string& name);
  Process* process() { return process_.get(); }

 private:
  PostgresServer(Options options, int port);
  absl::Status Launch();

  const Options options_;
  const int port_;
  TempDir dir_;
  std::unique_ptr<Process> process_;
};

// Runs `sql` (one or more statements) on the database `dsn`. kUnavailable when it cannot
// connect, kInternal with the server's message on an SQL error.
absl::Status PgExecute(const std::string& dsn, const std::string& sql);
// The first column of the first row of `sql` as text ("" for NULL); kNotFound when no row.
absl::StatusOr<std::string> PgQueryValue(const std::string& dsn, const std::string& sql);
// True when a server accepts connections at `dsn` (libpq PQping).
bool PgIsAccepting(const std::string& dsn);

}  // namespace portunus::harness
