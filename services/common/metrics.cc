#include "services/common/metrics.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"

namespace portunus {
namespace {

// process_* metrics from /proc/self (the names the Go and Java clients use).
class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector() {
    // Process start time: boot time + starttime ticks.
    std::ifstream stat("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t close = content.rfind(')');
    if (close != std::string::npos) {
      std::vector<std::string> f = absl::StrSplit(content.substr(close + 2), ' ');
      // Fields after the command: index 0 is field 3 (state); starttime is field 22.
      if (f.size() > 19) {
        const double ticks = std::stod(f[19]);
        start_time_ = BootTime() + ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
      }
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    std::ifstream stat("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t close = content.rfind(')');
    double cpu = 0, rss = 0, vsize = 0, threads = 0;
    if (close != std::string::npos) {
      std::vector<std::string> f = absl::StrSplit(content.substr(close + 2), ' ');
      if (f.size() > 21) {
        const double tck = static_cast<double>(sysconf(_SC_CLK_TCK));
        cpu = (std::stod(f[11]) + std::stod(f[12])) / tck;  // utime + stime
        threads = std::stod(f[17]);
        vsize = std::stod(f[20]);
        rss = std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
      }
    }
    double fds = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    out.push_back(Gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                        cpu, prometheus::MetricType::Counter));
    out.push_back(Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", rss));
    out.push_back(Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", vsize));
    out.push_back(Gauge("process_open_fds", "Number of open file descriptors.", fds));
    out.push_back(Gauge("process_threads", "Number of OS threads in the process.", threads));
    out.push_back(Gauge("process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds.", start_time_));
    return out;
  }

 private:
  static double BootTime() {
    std::ifstream in("/proc/stat");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
    }
    return 0;
  }

  static prometheus::MetricFamily Gauge(const std::string& name, const std::string& help,
                                        double value,
                                        prometheus::MetricType type = prometheus::MetricType::Gauge) {
    prometheus::MetricFamily family;
    family.name = name;
    family.help = help;
    family.type = type;
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(metric);
    return family;
  }

  double start_time_ = 0;
};

constexpr int kGrpcCodes = 17;

const char* GrpcCodeName(int code) {
  static const char* const kNames[kGrpcCodes] = {
      "OK",           "Canceled",          "Unknown",        "InvalidArgument",
      "DeadlineExceeded", "NotFound",      "AlreadyExists",  "PermissionDenied",
      "ResourceExhausted", "FailedPrecondition", "Aborted",  "OutOfRange",
      "Unimplemented", "Internal",         "Unavailable",    "DataLoss",
      "Unauthenticated"};
  return (code >= 0 && code < kGrpcCodes) ? kNames[code] : "Unknown";
}

struct MethodMetrics {
  prometheus::Counter* started = nullptr;
  prometheus::Histogram* latency = nullptr;
  prometheus::Gauge* in_flight = nullptr;
  std::array<prometheus::Counter*, kGrpcCodes> handled{};
};

class GrpcServerMetrics {
 public:
  explicit GrpcServerMetrics(prometheus::Registry& registry)
      : started_(prometheus::BuildCounter()
                     .Name("grpc_server_started_total")
                     .Help("RPCs started on the server.")
                     .Register(registry)),
        handled_(prometheus::BuildCounter()
                     .Name("grpc_server_handled_total")
                     .Help("RPCs completed on the server, regardless of success or failure.")
                     .Register(registry)),
        latency_(prometheus::BuildHistogram()
                     .Name("grpc_server_handling_seconds")
                     .Help("Response latency of RPCs handled by the server, in seconds.")
                     .Register(registry)),
        in_flight_(prometheus::BuildGauge()
                       .Name("grpc_server_in_flight_requests")
                       .Help("RPCs being handled right now.")
                       .Register(registry)) {}

  MethodMetrics* For(const std::string& full_method) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = methods_.find(full_method);
    if (it != methods_.end()) return &it->second;
    // "/pkg.Service/Method"
    std::string service = "unknown", method = full_method;
    const size_t slash = full_method.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      service = full_method.substr(1, slash - 1);
      method = full_method.substr(slash + 1);
    }
    MethodMetrics m;
    m.started = &started_.Add({{"grpc_service", service}, {"grpc_method", method}});
    m.latency = &latency_.Add({{"grpc_service", service}, {"grpc_method", method}},
                              LatencyBuckets());
    m.in_flight = &in_flight_.Add({{"grpc_service", service}});
    for (int c = 0; c < kGrpcCodes; ++c) {
      m.handled[c] = &handled_.Add(
          {{"grpc_service", service}, {"grpc_method", method}, {"grpc_code", GrpcCodeName(c)}});
    }
    return &methods_.emplace(full_method, m).first->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, MethodMetrics> methods_;
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
};

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(MethodMetrics* m)
      : m_(m), start_(std::chrono::steady_clock::now()) {
    m_->started->Increment();
    m_->in_flight->Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const int code = static_cast<int>(methods->GetSendStatus().error_code());
      m_->handled[(code >= 0 && code < kGrpcCodes) ? code : 2]->Increment();
      m_->latency->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
      m_->in_flight->Decrement();
      done_ = true;
    }
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_CLOSE) &&
        !done_) {
      // Cancelled before a status was sent.
      m_->handled[1]->Increment();
      m_->in_flight->Decrement();
      done_ = true;
    }
    methods->Proceed();
  }

 private:
  MethodMetrics* m_;
  const std::chrono::steady_clock::time_point start_;
  bool done_ = false;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(prometheus::Registry& registry) : metrics_(registry) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_.For(info->method() ? info->method() : "/unknown"));
  }

 private:
  GrpcServerMetrics metrics_;
};

}  // namespace

const std::vector<double>& LatencyBuckets() {
  static const auto* const kBuckets = new std::vector<double>{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *kBuckets;
}

MetricsServer::MetricsServer()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_collector_(std::make_shared<ProcessCollector>()) {}

MetricsServer::~MetricsServer() = default;

absl::Status MetricsServer::Start(const std::string& listen) {
  try {
    // One civetweb worker: /metrics is scraped every few seconds, not under load.
    exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen, ": ", e.what(),
                     " (is the port already in use?)"));
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(process_collector_);
  return absl::OkStatus();
}

int MetricsServer::port() const {
  if (!exposer_) return 0;
  std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports[0];
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeGrpcServerMetricsFactory(prometheus::Registry& registry) {
  return std::make_unique<MetricsInterceptorFactory>(registry);
}

}  // namespace portunus
