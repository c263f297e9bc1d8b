// REST calls through the gateway for integration tests: one line per call, the answer parsed as
// JSON. Every REST test speaks to the gateway the same way; only the credentials differ.
#pragma once

#include <string>

#include "nlohmann/json.hpp"
#include "tests/harness/http.h"

namespace portunus::harness {

// How a request authenticates: HTTP Basic, or one header (Authorization: Bearer, Portus-Auth).
struct As {
  std::string header;  // "Authorization" or "Portus-Auth"; "" with basic_* or for anonymous
  std::string value;
  std::string basic_user;
  std::string basic_password;

  static As Anonymous() { return {}; }
  static As Basic(const std::string& user, const std::string& secret) {
    return {"", "", user, secret};
  }
  static As Bearer(const std::string& token) {
    return {"Authorization", "Bearer " + token, "", ""};
  }
  static As PortusAuth(const std::string& user, const std::string& token) {
    return {"Portus-Auth", user + ":" + token, "", ""};
  }
};

struct Reply {
  long status = 0;
  nlohmann::json body;  // discarded (is_discarded()) when the body is not JSON
  HttpResponse raw;
};

// `method` `base_url` + `path` as `as`; a non-empty `body` is sent as application/json. No
// answer at all, or a 5xx answer (bad input must never be one), is a test failure (gtest's
// ADD_FAILURE / EXPECT, so the caller's assertions on the Reply still run).
Reply CallRest(const std::string& base_url, const std::string& method, const std::string& path,
               const As& as, const std::string& body = "");

}  // namespace portunus::harness
