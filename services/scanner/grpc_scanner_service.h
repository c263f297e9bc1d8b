// gRPC transport of the scanner: ScannerService and VulnDbService (proto/portunus/scanner/v1/
// scanner.proto) over ScannerApi. Converts messages, runs the call on the worker pool and maps
// the status; nothing else. Calls that change what the scanner does (EnqueueScan, RescanAll,
// ImportVulnDb) need an administrator or the internal principal (caller_auth.h): UNAUTHENTICATED
// without credentials, PERMISSION_DENIED for anyone else.
#pragma once

#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/common/service_runner.h"
#include "services/common/caller_auth.h"
#include "services/scanner/scanner_api.h"

namespace portunus::scanner {

class GrpcScannerService final : public v1::ScannerService::CallbackService {
 public:
  GrpcScannerService(ServiceRuntime& runtime, ScannerApi& api, CallerAuthenticator& authenticator)
      : runtime_(runtime), api_(api), authenticator_(authenticator) {}

  grpc::ServerUnaryReactor* EnqueueScan(grpc::CallbackServerContext* ctx, const v1::EnqueueScanRequest* req,
                                        v1::EnqueueScanResponse* resp) override;
  grpc::ServerUnaryReactor* RescanAll(grpc::CallbackServerContext* ctx, const v1::RescanAllRequest* req,
                                      v1::RescanAllResponse* resp) override;
  grpc::ServerUnaryReactor* GetScanResult(grpc::CallbackServerContext* ctx, const v1::GetScanResultRequest* req,
                                          v1::GetScanResultResponse* resp) override;
  grpc::ServerUnaryReactor* GetScanSummaries(grpc::CallbackServerContext* ctx,
                                             const v1::GetScanSummariesRequest* req,
                                             v1::GetScanSummariesResponse* resp) override;

 private:
  ServiceRuntime& runtime_;
  ScannerApi& api_;
  CallerAuthenticator& authenticator_;
};

class GrpcVulnDbService final : public v1::VulnDbService::CallbackService {
 public:
  GrpcVulnDbService(ServiceRuntime& runtime, ScannerApi& api, CallerAuthenticator& authenticator)
      : runtime_(runtime), api_(api), authenticator_(authenticator) {}

  grpc::ServerUnaryReactor* GetVulnDbStatus(grpc::CallbackServerContext* ctx, const v1::GetVulnDbStatusRequest* req,
                                            v1::GetVulnDbStatusResponse* resp) override;
  grpc::ServerUnaryReactor* ImportVulnDb(grpc::CallbackServerContext* ctx, const v1::ImportVulnDbRequest* req,
                                         v1::ImportVulnDbResponse* resp) override;

 private:
  ServiceRuntime& runtime_;
  ScannerApi& api_;
  CallerAuthenticator& authenticator_;
};

// The caller's credentials from the call's metadata, checked to be an administrator's or the
// internal principal's (blocking: call on a worker). `what` names the action in the error.
absl::Status RequireAdminCaller(const grpc::ServerContextBase& ctx, CallerAuthenticator& authenticator,
                                absl::Duration timeout, const std::string& request_id, absl::string_view what);

// Conversions, exposed for the gateway-facing tests and portunusctl.
void ToProto(const ScanSummary& s, v1::ScanSummary* out);
void ToProto(const FeedSource& s, v1::FeedSource* out);
std::string Rfc3339(absl::Time t);

}  // namespace portunus::scanner
