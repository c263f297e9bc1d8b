#include "services/auth/token_claims.h"

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace portunus::auth {

std::string EncodeClaimsJson(const TokenClaims& c) {
  std::string out;
  out.reserve(256 + 64 * c.access.size());
  out.append("{\"iss\":");
  AppendJsonString(c.issuer, &out);
  if (!c.subject.empty()) {
    out.append(",\"sub\":");
    AppendJsonString(c.subject, &out);
  }
  out.append(",\"aud\":");
  AppendJsonString(c.audience, &out);
  absl::StrAppend(&out, ",\"exp\":", absl::ToUnixSeconds(c.expires_at),
                  ",\"nbf\":", absl::ToUnixSeconds(c.not_before),
                  ",\"iat\":", absl::ToUnixSeconds(c.issued_at), ",\"jti\":");
  AppendJsonString(c.jwt_id, &out);
  out.append(",\"access\":[");
  for (size_t i = 0; i < c.access.size(); ++i) {
    const ResourceScope& s = c.access[i];
    if (i > 0) out.push_back(',');
    out.append("{\"type\":");
    AppendJsonString(s.type, &out);
    out.append(",\"name\":");
    AppendJsonString(s.name, &out);
    out.append(",\"actions\":[");
    for (size_t a = 0; a < s.actions.size(); ++a) {
      if (a > 0) out.push_back(',');
      AppendJsonString(s.actions[a], &out);
    }
    out.append("]}");
  }
  out.append("]}");
  return out;
}

}  // namespace portunus::auth
