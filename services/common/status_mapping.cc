#include "services/common/status_mapping.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "portunus/common/v1/error.pb.h"
#include "services/common/log.h"

namespace portunus {
namespace {

constexpr char kFieldPayloadUrl[] = "type.portunus.dev/field";
constexpr char kRulePayloadUrl[] = "type.portunus.dev/rule";

}  // namespace

absl::Status InvalidFieldError(absl::string_view field, absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
  status.SetPayload(kFieldPayloadUrl, absl::Cord(field));
  return status;
}

std::string ErrorField(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldPayloadUrl);
  return payload.has_value() ? std::string(*payload) : std::string();
}

absl::Status RuleConflictError(absl::string_view rule, absl::string_view message) {
  absl::Status status = absl::FailedPreconditionError(message);
  status.SetPayload(kRulePayloadUrl, absl::Cord(rule));
  return status;
}

std::string ErrorRule(const absl::Status& status) {
  auto payload = status.GetPayload(kRulePayloadUrl);
  return payload.has_value() ? std::string(*payload) : std::string();
}

bool IsInternalCode(absl::StatusCode code) {
  return code == absl::StatusCode::kInternal || code == absl::StatusCode::kUnknown ||
         code == absl::StatusCode::kDataLoss;
}

std::string PublicMessage(const absl::Status& status) {
  if (IsInternalCode(status.code())) return "internal error";
  return std::string(status.message());
}

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view request_id) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(static_cast<int>(status.code()));
  common::v1::ErrorDetail detail;
  detail.set_request_id(std::string(request_id));
  detail.set_field(ErrorField(status));
  detail.set_rule(ErrorRule(status));
  if (IsInternalCode(status.code())) {
    LogError("internal error", {{"request_id", request_id}, {"error", status.ToString()}});
    std::string message = request_id.empty()
                              ? std::string("internal error")
                              : absl::StrCat("internal error (request id ", request_id, ")");
    return grpc::Status(code, message, detail.SerializeAsString());
  }
  return grpc::Status(code, std::string(status.message()), detail.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(static_cast<int>(status.error_code())),
                      status.error_message());
  common::v1::ErrorDetail detail;
  if (!status.error_details().empty() && detail.ParseFromString(status.error_details())) {
    if (!detail.field().empty()) result.SetPayload(kFieldPayloadUrl, absl::Cord(detail.field()));
    if (!detail.rule().empty()) result.SetPayload(kRulePayloadUrl, absl::Cord(detail.rule()));
  }
  return result;
}

int HttpStatusForCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

int HttpStatusFor(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument && !ErrorField(status).empty()) {
    return 422;
  }
  if (status.code() == absl::StatusCode::kFailedPrecondition && !ErrorRule(status).empty()) {
    return 409;
  }
  return HttpStatusForCode(status.code());
}

}  // namespace portunus
