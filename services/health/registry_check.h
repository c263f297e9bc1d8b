// The `registry` component: the Docker registry is reachable AND usable by Portunus. Like Portus,
// a ping is not enough: the check gets a token for the internal principal from the auth
// service, then `GET /v2/` with it must answer 200 and the catalog must be readable, which
// proves the registry trusts Portunus's tokens (issuer, service, signing certificate).
//   "registry is reachable"
//   "registry is not reachable: <reason>"            (no HTTP answer at all)
//   "registry is reachable but not usable: <reason>" (anything else that fails)
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/health/component_check.h"
#include "services/health/http_getter.h"

namespace portunus::health {

// Gives registry bearer tokens for the internal principal `portunus`. Thread-safe.
class RegistryTokenSource {
 public:
  virtual ~RegistryTokenSource() = default;
  // A token granting `scopes` ("registry:catalog:*"). kUnavailable when the token service
  // cannot be reached; other codes as the token service answered.
  virtual absl::StatusOr<std::string> Token(const std::vector<std::string>& scopes,
                                            absl::Duration timeout) = 0;
};

// "UNAUTHORIZED: authentication required (invalid_token)" from a registry error response:
// the codes and messages of its {"errors":[...]} body and the `error` of its Bearer challenge;
// the first 200 bytes of the body when it has no such structure.
std::string DescribeRegistryError(const HttpResponse& response);

class RegistryCheck final : public ComponentCheck {
 public:
  // `url`: the registry's base URL ("http://127.0.0.1:5000"). The getter and token source must
  // outlive the check.
  RegistryCheck(std::string url, HttpGetter& http, RegistryTokenSource& tokens);
  const std::string& name() const override { return name_; }
  std::optional<ComponentStatus> Run(absl::Duration timeout) override;

 private:
  const std::string url_;
  HttpGetter& http_;
  RegistryTokenSource& tokens_;
  const std::string name_ = "registry";
};

}  // namespace portunus::health
