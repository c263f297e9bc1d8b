// Conversions between the auth service's protos (portunus/auth/v1/{principal,access,identity}
// .proto) and its domain types. Transport files only (this header includes generated code).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "portunus/auth/v1/access.pb.h"
#include "portunus/auth/v1/identity.pb.h"
#include "portunus/auth/v1/principal.pb.h"
#include "services/auth/access_policy.h"
#include "services/auth/authenticator.h"
#include "services/auth/directory_common.h"
#include "services/auth/model.h"
#include "services/auth/namespace_directory.h"
#include "services/auth/principal.h"

namespace portunus::auth {

// The caller's credentials from the call metadata (`authorization`, else `portus-auth`).
Credentials CredentialsFromMetadata(const grpc::ServerContextBase& ctx);
// Credentials given in a request; unset kind means none (anonymous).
Credentials CredentialsFromProto(const v1::Credentials& proto);

void ToProto(const Principal& principal, v1::Principal* out);
// An unset or UNSPECIFIED kind is the anonymous principal.
Principal PrincipalFromProto(const v1::Principal& proto);

// kInvalidArgument naming "scopes[i]..." when a scope is out of bounds.
absl::StatusOr<std::vector<ScopeRequest>> ScopesFromProto(
    const google::protobuf::RepeatedPtrField<v1::Scope>& scopes);
void ToProto(const ScopeRequest& scope, v1::Scope* out);
void ToProto(const ScopeDecision& decision, v1::Decision* out);

ListParams ListParamsFromProto(const v1::Paging& paging);

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out);

// `now` decides whether a lock is still in force (expired locks are shown as null).
void ToProto(const User& user, absl::Time now, v1::User* out);
void ToProto(const ApplicationToken& token, v1::ApplicationToken* out);
void ToProto(const Team& team, std::optional<Role> caller_role, v1::Team* out);
void ToProto(const Member& member, v1::TeamMember* out);
void ToProto(const NamespaceDirectory::View& view, v1::Namespace* out);

}  // namespace portunus::auth
