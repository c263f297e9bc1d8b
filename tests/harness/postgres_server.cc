#include "tests/harness/postgres_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace portunus::harness {
namespace {

constexpr char kPgBin[] = "/usr/lib/postgresql/15/bin";

// initdb refuses to run as root; the server then runs as `postgres` too.
std::string ServerUser() { return geteuid() == 0 ? "postgres" : ""; }

absl::Status ChownToServerUser(const std::string& path) {
  if (geteuid() != 0) return absl::OkStatus();
  passwd* pw = getpwnam("postgres");
  if (pw == nullptr) return absl::NotFoundError("no `postgres` user to run PostgreSQL as root");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return absl::InternalError(absl::StrCat("cannot chown ", path, " to postgres"));
  }
  return absl::OkStatus();
}

}  // namespace

PostgresServer::PostgresServer(Options options, int port)
    : options_(std::move(options)), port_(port), dir_("pg") {}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(Options options) {
  const int port = options.port != 0 ? options.port : PickFreePort();
  auto server = std::unique_ptr<PostgresServer>(new PostgresServer(std::move(options), port));
  if (absl::Status s = ChownToServerUser(server->dir_.path()); !s.ok()) return s;
  Process::Options initdb;
  initdb.name = "initdb";
  initdb.binary = absl::StrCat(kPgBin, "/initdb");
  initdb.args = {"-D", server->dir_.Sub("data"), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync"};
  initdb.user = ServerUser();
  initdb.cwd = server->dir_.path();
  absl::StatusOr<CommandResult> r = RunCommand(initdb, absl::Seconds(120));
  if (!r.ok()) return r.status();
  if (!r->ok()) return absl::InternalError(absl::StrCat("initdb failed: ", r->Describe()));
  if (absl::Status s = server->Launch(); !s.ok()) return s;
  return server;
}

PostgresServer::~PostgresServer() {
  Stop().IgnoreError();  // best effort; the Process destructor kills what is left
  process_.reset();
}

absl::Status PostgresServer::Launch() {
  Process::Options o;
  o.name = absl::StrCat("postgres:", port_);
  o.binary = absl::StrCat(kPgBin, "/postgres");
  o.args = {"-D", dir_.Sub("data"), "-p", absl::StrCat(port_), "-k", dir_.path(),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200"};
  for (const std::string& setting : options_.settings) {
    o.args.push_back("-c");
    o.args.push_back(setting);
  }
  o.user = ServerUser();
  o.cwd = dir_.path();
  o.log_path = dir_.Sub("server.log");
  absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(o);
  if (!p.ok()) return p.status();
  process_ = std::move(*p);
  const std::string dsn = Dsn();
  if (!PollUntil([&] { return PgIsAccepting(dsn) || !process_->IsRunning(); },
                 absl::Seconds(60))) {
    return absl::DeadlineExceededError(
        absl::StrCat("PostgreSQL on port ", port_, " did not accept connections within 60 s:\n",
                     Tail(process_->ReadLog(), 2048)));
  }
  if (!process_->IsRunning()) {
    return absl::InternalError(absl::StrCat("PostgreSQL on port ", port_, " exited (",
                                            process_->exit_status()->ToString(), "):\n",
                                            Tail(process_->ReadLog(), 2048)));
  }
  return absl::OkStatus();
}

absl::Status PostgresServer::Stop() {
  if (!process_ || !process_->IsRunning()) return absl::OkStatus();
  // SIGINT = "fast" shutdown: roll back open transactions, disconnect clients, stop.
  process_->Signal(SIGINT).IgnoreError();
  if (!process_->WaitForExit(absl::Seconds(30)).has_value()) {
    process_->Kill();
    return absl::DeadlineExceededError("PostgreSQL did not stop within 30 s; killed");
  }
  return absl::OkStatus();
}

absl::Status PostgresServer::Restart() {
  if (absl::Status s = Stop(); !s.ok()) return s;
  return Launch();
}

void PostgresServer::Kill() {
  if (process_) process_->Kill();
}

bool PostgresServer::IsRunning() { return process_ && process_->IsRunning(); }

std::string PostgresServer::Dsn(const std::string& database) const {
  return absl::StrCat("host=", dir_.path(), " port=", port_, " user=postgres dbname=", database);
}

std::string PostgresServer::TcpDsn(const std::string& database) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " user=postgres dbname=", database);
}

absl::Status PostgresServer::CreateDatabase(const std::string& name) {
  absl::Status s = PgExecute(Dsn(), absl::StrCat("CREATE DATABASE \"", name, "\""));
  if (!s.ok() && absl::StrContains(s.message(), "already exists")) {
    return absl::AlreadyExistsError(s.message());
  }
  return s;
}

absl::Status PgExecute(const std::string& dsn, const std::string& sql) {
  try {
    pqxx::connection c(dsn);
    pqxx::nontransaction w(c);
    w.exec(sql);
    return absl::OkStatus();
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(e.what());
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

absl::StatusOr<std::string> PgQueryValue(const std::string& dsn, const std::string& sql) {
  try {
    pqxx::connection c(dsn);
    pqxx::nontransaction w(c);
    pqxx::result r = w.exec(sql);
    if (r.empty() || r.columns() == 0) return absl::NotFoundError(absl::StrCat("no row: ", sql));
    return r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(e.what());
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

bool PgIsAccepting(const std::string& dsn) {
  return PQping((dsn + " connect_timeout=2").c_str()) == PQPING_OK;
}

}  // namespace portunus::harness
