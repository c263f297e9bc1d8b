#include "bench/wrk.h"

#include <cstdlib>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/harness/process.h"

namespace portunus::bench {
namespace {

// wrk prints durations as "850.00us", "1.23ms", "1.02s", "1.00m".
double ToMs(const std::string& value, const std::string& unit) {
  double v = 0;
  if (!absl::SimpleAtod(value, &v)) return -1;
  if (unit == "us") return v / 1000;
  if (unit == "s") return v * 1000;
  if (unit == "m") return v * 60000;
  return v;
}

}  // namespace

absl::StatusOr<WrkResult> RunWrk(const std::string& url, const WrkOptions& o) {
  std::vector<std::string> args = {absl::StrCat("-t", o.threads), absl::StrCat("-c", o.connections),
                                   absl::StrCat("-d", o.seconds, "s"), "--latency"};
  if (!o.script.empty()) {
    args.push_back("-s");
    args.push_back(o.script);
  }
  args.push_back(url);
  if (!o.script_args.empty()) {
    args.push_back("--");
    args.insert(args.end(), o.script_args.begin(), o.script_args.end());
  }
  absl::StatusOr<harness::CommandResult> r =
      harness::RunCommand("wrk", args, absl::Seconds(o.seconds + 60));
  if (!r.ok()) return r.status();
  if (!r->ok()) return absl::InternalError(r->Describe());
  WrkResult w;
  std::smatch m;
  if (!std::regex_search(r->out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))")) ||
      !absl::SimpleAtod(m[1].str(), &w.requests_per_second)) {
    return absl::InternalError("no Requests/sec in wrk's output:\n" + r->out);
  }
  const std::regex percentile(R"((50|99)%\s+([0-9.]+)(us|ms|s|m)\b)");
  for (auto it = std::sregex_iterator(r->out.begin(), r->out.end(), percentile);
       it != std::sregex_iterator(); ++it) {
    const double ms = ToMs((*it)[2].str(), (*it)[3].str());
    if ((*it)[1].str() == "50") w.p50_ms = ms;
    if ((*it)[1].str() == "99") w.p99_ms = ms;
  }
  if (std::regex_search(r->out, m, std::regex(R"(([0-9]+) requests in ([0-9.]+)(us|ms|s|m)\b)"))) {
    w.requests = std::atol(m[1].str().c_str());
    w.seconds = ToMs(m[2].str(), m[3].str()) / 1000;
  }
  if (std::regex_search(r->out, m, std::regex(R"(Non-2xx or 3xx responses:\s+([0-9]+))"))) {
    w.non_2xx = std::atol(m[1].str().c_str());
  }
  if (std::regex_search(r->out, m,
                        std::regex(R"(Socket errors: connect ([0-9]+), read ([0-9]+), )"
                                   R"(write ([0-9]+), timeout ([0-9]+))"))) {
    for (int i = 1; i <= 4; ++i) w.socket_errors += std::atol(m[i].str().c_str());
  }
  return w;
}

}  // namespace portunus::bench
