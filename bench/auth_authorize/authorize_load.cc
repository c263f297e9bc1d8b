// Load generator for AccessService.Authorize (bench/auth_authorize/run.sh drives it): keeps
// --concurrency calls in flight over --channels gRPC channels for --duration seconds, each asking for
// one scope (repository:<namespace>/app:pull,push) on behalf of a random user of the seeded
// data set, and prints one line:
//   decisions=<n> seconds=<s> rate=<decisions/s> errors=<n> pull_granted=<n> push_granted=<n>
//   denials_with_reason=<n> p50_us=<n> p99_us=<n>
// Every call is checked: OK status, one decision, and a reason for every denied action.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "portunus/auth/v1/access.grpc.pb.h"

namespace {

namespace v1 = ::portunus::auth::v1;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string target = "127.0.0.1:50051";
  double duration_s = 10;
  int concurrency = 64;
  int channels = 2;        // separate TCP connections; calls are spread over them
  int users = 10000;       // user ids 1..users are the seeded people "user<i>"
  int namespaces = 5000;   // team namespaces "ns-<k>", k in 1..namespaces
  uint32_t seed = 42;
};

class Load {
 public:
  explicit Load(const Options& o) : options_(o) {
    for (int i = 0; i < o.channels; ++i) {
      // A distinct channel argument, so each channel gets its own connection instead of
      // sharing one subchannel.
      grpc::ChannelArguments args;
      args.SetInt("portunus.bench.channel", i);
      stubs_.push_back(v1::AccessService::NewStub(
          grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args)));
    }
  }

  void Run() {
    start_ = Clock::now();
    end_ = start_ + std::chrono::microseconds(static_cast<int64_t>(options_.duration_s * 1e6));
    for (int i = 0; i < options_.concurrency; ++i) {
      auto chain = std::make_shared<Chain>();
      chain->rng.seed(options_.seed + static_cast<uint32_t>(i));
      chain->stub = stubs_[static_cast<size_t>(i) % stubs_.size()].get();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++active_;
      }
      Issue(chain);
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return active_ == 0; });
    finished_ = Clock::now();
  }

  void Report() {
    const double seconds = std::chrono::duration<double>(finished_ - start_).count();
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto pct = [&](double p) -> int64_t {
      if (latencies_us_.empty()) return 0;
      return latencies_us_[static_cast<size_t>(p * static_cast<double>(latencies_us_.size() - 1))];
    };
    std::printf(
        "decisions=%lld seconds=%.2f rate=%.0f errors=%lld pull_granted=%lld push_granted=%lld "
        "denials_with_reason=%lld p50_us=%lld p99_us=%lld\n",
        static_cast<long long>(decisions_), seconds, static_cast<double>(decisions_) / seconds,
        static_cast<long long>(errors_), static_cast<long long>(pull_granted_),
        static_cast<long long>(push_granted_), static_cast<long long>(denials_with_reason_),
        static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.99)));
    if (!first_error_.empty()) std::fprintf(stderr, "first error: %s\n", first_error_.c_str());
  }

  int64_t errors() const { return errors_; }
  int64_t decisions() const { return decisions_; }

 private:
  struct Chain {
    std::mt19937 rng;
    v1::AccessService::Stub* stub = nullptr;
    grpc::ClientContext ctx;
    v1::AuthorizeRequest req;
    v1::AuthorizeResponse resp;
    Clock::time_point sent;
    std::vector<int64_t> latencies;
  };

  void Issue(const std::shared_ptr<Chain>& c) {
    if (Clock::now() >= end_) {
      std::lock_guard<std::mutex> lock(mu_);
      latencies_us_.insert(latencies_us_.end(), c->latencies.begin(), c->latencies.end());
      if (--active_ == 0) cv_.notify_all();
      return;
    }
    c->ctx.~ClientContext();
    new (&c->ctx) grpc::ClientContext();
    c->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    c->req.Clear();
    c->resp.Clear();
    const int user = std::uniform_int_distribution<int>(1, options_.users)(c->rng);
    const int ns = std::uniform_int_distribution<int>(1, options_.namespaces)(c->rng);
    v1::Principal* p = c->req.mutable_principal();
    p->set_kind(v1::Principal::USER);
    p->set_user_id(user);
    p->set_name(absl::StrCat("user", user));
    v1::Scope* s = c->req.add_scopes();
    s->set_type("repository");
    s->set_name(absl::StrCat("ns-", ns, "/app"));
    s->add_actions("pull");
    s->add_actions("push");
    c->sent = Clock::now();
    c->stub->async()->Authorize(&c->ctx, &c->req, &c->resp, [this, c](grpc::Status status) {
      c->latencies.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c->sent).count());
      Check(status, c->resp);
      Issue(c);
    });
  }

  void Check(const grpc::Status& status, const v1::AuthorizeResponse& resp) {
    if (!status.ok() || resp.decisions_size() != 1) {
      std::lock_guard<std::mutex> lock(mu_);
      ++errors_;
      if (first_error_.empty()) {
        first_error_ = status.ok() ? absl::StrCat(resp.decisions_size(), " decisions")
                                   : absl::StrCat(status.error_code(), ": ", status.error_message());
      }
      return;
    }
    const v1::Decision& d = resp.decisions(0);
    int64_t pull = 0, push = 0, reasons = 0;
    for (const std::string& g : d.granted()) {
      if (g == "pull") pull = 1;
      if (g == "push") push = 1;
    }
    bool reasons_ok = d.granted_size() + d.denied_size() == 2;
    for (const v1::Denial& denial : d.denied()) {
      if (denial.reason().empty()) reasons_ok = false;
      ++reasons;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++decisions_;
    pull_granted_ += pull;
    push_granted_ += push;
    denials_with_reason_ += reasons;
    if (!reasons_ok) {
      ++errors_;
      if (first_error_.empty()) first_error_ = "a decision without a reason for a denial: " + d.ShortDebugString();
    }
  }

  const Options options_;
  std::vector<std::unique_ptr<v1::AccessService::Stub>> stubs_;
  Clock::time_point start_, end_, finished_;
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;
  int64_t decisions_ = 0, errors_ = 0, pull_granted_ = 0, push_granted_ = 0, denials_with_reason_ = 0;
  std::vector<int64_t> latencies_us_;
  std::string first_error_;
};

bool ParseFlag(const std::string& arg, const char* name, std::string* value) {
  const std::string prefix = std::string("--") + name + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  *value = arg.substr(prefix.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    std::string v;
    bool ok = true;
    if (ParseFlag(a, "target", &v)) {
      o.target = v;
    } else if (ParseFlag(a, "duration", &v)) {
      ok = absl::SimpleAtod(v, &o.duration_s) && o.duration_s > 0;
    } else if (ParseFlag(a, "concurrency", &v)) {
      ok = absl::SimpleAtoi(v, &o.concurrency) && o.concurrency > 0;
    } else if (ParseFlag(a, "channels", &v)) {
      ok = absl::SimpleAtoi(v, &o.channels) && o.channels > 0;
    } else if (ParseFlag(a, "users", &v)) {
      ok = absl::SimpleAtoi(v, &o.users) && o.users > 0;
    } else if (ParseFlag(a, "namespaces", &v)) {
      ok = absl::SimpleAtoi(v, &o.namespaces) && o.namespaces > 0;
    } else if (ParseFlag(a, "seed", &v)) {
      ok = absl::SimpleAtoi(v, &o.seed);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: authorize_load --target=HOST:PORT [--duration=SECONDS] [--concurrency=N] [--channels=N] "
                   "[--users=N] [--namespaces=N] [--seed=N]\n(bad argument: %s)\n",
                   a.c_str());
      return 2;
    }
  }
  Load load(o);
  load.Run();
  load.Report();
  return load.errors() == 0 && load.decisions() > 0 ? 0 : 1;
}
