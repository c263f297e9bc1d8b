// The one place that maps absl::Status to gRPC statuses and HTTP status codes (and back).
//
// Codes follow STYLE.md §3 (Envoy's grpcToHttpStatus), with two additions: an InvalidArgument
// that names a request field (InvalidFieldError) is a validation error, HTTP 422, as in Portus's
// API; a FailedPrecondition that names the rule it would break (RuleConflictError, e.g. "the
// last owner of a team cannot be removed") is a conflict with the current state, HTTP 409, as in
// Harbor. Internal, Unknown and DataLoss never reach clients with their real message: they see
// "internal error" plus the request id, and the real message is logged.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace portunus {

// An InvalidArgument status naming the request field at fault, e.g.
// InvalidFieldError("user.username", "must match [a-z0-9]+([._-][a-z0-9]+)*").
// The message becomes "user.username: must match ...".
absl::Status InvalidFieldError(absl::string_view field, absl::string_view message);

// The field recorded by InvalidFieldError (also after a gRPC round trip), or "".
std::string ErrorField(const absl::Status& status);

// A FailedPrecondition status naming the rule the request would break, e.g.
// RuleConflictError("last_owner", "alice is the last owner of team devs and cannot be removed").
// `rule` is a short snake_case identifier clients may switch on; the message stays as given.
// gRPC callers see FAILED_PRECONDITION (retrying is useless until the state changes); REST
// callers see 409 with the rule in the body.
absl::Status RuleConflictError(absl::string_view rule, absl::string_view message);

// The rule recorded by RuleConflictError (also after a gRPC round trip), or "".
std::string ErrorRule(const absl::Status& status);

// True for codes whose message must not leave the process (Internal, Unknown, DataLoss).
bool IsInternalCode(absl::StatusCode code);

// The message a client may see: the status message, or "internal error" for internal codes.
std::string PublicMessage(const absl::Status& status);

// absl → gRPC, same numeric code. Internal codes are logged here with `request_id` and replaced
// by "internal error (request id ...)". The field of an InvalidFieldError and the rule of a
// RuleConflictError travel in error_details (portunus.common.v1.ErrorDetail).
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view request_id = "");

// gRPC → absl, keeping the field and the rule recorded by ToGrpcStatus.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The HTTP status for a code (STYLE.md §3).
int HttpStatusForCode(absl::StatusCode code);

// The HTTP status for a status: HttpStatusForCode, except 422 for InvalidFieldError and 409 for
// RuleConflictError.
int HttpStatusFor(const absl::Status& status);

}  // namespace portunus
