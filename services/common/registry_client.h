// RegistryClient: Portunus as a client of the Docker Registry HTTP API v2 (Distribution 2.8),
// the way Portus's lib/portus/registry_client.rb was, acting as the internal principal
// `portunus`. The catalog uses it to fetch pushed manifests and to reconcile with the Catalog
// API, the scanner streams layers through it, the health service pings it, and
// `portunusctl registry` exposes it on the command line.
//
// RegistryClient is an interface so domain code can be tested with FakeRegistryClient
// (services/common/testing/fake_registry_client.h); HttpRegistryClient is the libcurl
// implementation. Registry quirks it handles (../shared/ENVIRONMENT.md §4-6):
//   - manifests are always requested with the full Accept list (OCI manifest, Docker schema2,
//     manifest list, OCI index): without it 2.8 answers 404 for OCI manifests and converts
//     schema2 to schema1 (a different digest);
//   - /v2/_catalog pages through a *relative* Link header whose `last` is URL-encoded;
//   - tags/list is unsorted and unpaginated (this client sorts it);
//   - manifests are deleted by digest only (a tag gives 400 DIGEST_INVALID);
//   - `WWW-Authenticate: Bearer realm,service,scope` challenges are answered with a token from a
//     RegistryTokenSource (the auth service's TokenService), cached until shortly before expiry.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"

namespace portunus {

inline constexpr char kMediaTypeOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kMediaTypeOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kMediaTypeDockerManifest[] =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kMediaTypeDockerManifestList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";

// The Accept header value for manifest requests: all four manifest media types.
const std::string& ManifestAcceptHeader();

// True for the four manifest media types above.
bool IsManifestMediaType(absl::string_view media_type);
// True for an OCI index or a Docker manifest list.
bool IsIndexMediaType(absl::string_view media_type);

// "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>".
bool IsValidDigest(absl::string_view digest);
// A repository name as the registry accepts it: path components of
// [a-z0-9]+([._-][a-z0-9]+)* separated by '/', at most 255 characters.
bool IsValidRepositoryName(absl::string_view name);
// A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool IsValidTag(absl::string_view tag);
// "sha256:" + hex SHA-256 of `bytes`.
std::string Sha256Digest(absl::string_view bytes);

// A registry bearer token and when it stops being valid.
struct RegistryToken {
  std::string token;
  absl::Time expires_at;
};

// Issues registry tokens for the internal principal. Thread-safe.
class RegistryTokenSource {
 public:
  virtual ~RegistryTokenSource() = default;
  // A token for `service` (the registry's auth.token.service, from the challenge) covering
  // `scopes` ("repository:team/app:pull", "registry:catalog:*"; may be empty for GET /v2/).
  // kUnavailable: the token service cannot be reached (retry). kUnauthenticated: the internal
  // credentials were refused. Other codes as the token service returned them.
  virtual absl::StatusOr<RegistryToken> Fetch(const std::string& service,
                                              const std::vector<std::string>& scopes) = 0;
};

struct ManifestHead {
  std::string digest;      // Docker-Content-Digest
  std::string media_type;  // Content-Type
  int64_t size = 0;        // Content-Length
};

struct FetchedManifest {
  std::string digest;      // Docker-Content-Digest (verified against the body)
  std::string media_type;  // Content-Type
  std::string body;        // the exact bytes (needed to put the manifest back unchanged)
};

// The registry's Docker Registry HTTP API v2, as the internal principal. Implementations are
// thread-safe. Status codes, for every method:
//   kInvalidArgument   a malformed name, tag or digest (checked before any request), or the
//                      registry answered 400;
//   kNotFound          404 (NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN);
//   kUnauthenticated   the registry refused the token (or wants a scheme other than Bearer);
//   kPermissionDenied  403;
//   kFailedPrecondition 405 (e.g. deletes disabled: storage.delete.enabled is false);
//   kResourceExhausted 429;
//   kDeadlineExceeded  the request timed out;
//   kUnavailable       the registry cannot be reached or answered 5xx (retry later);
//   kDataLoss          content did not match its digest;
//   kInternal          anything else (an unexpected status or malformed answer).
// Messages name the request ("GET /v2/team/app/tags/list: 404 NAME_UNKNOWN: ...").
class RegistryClient {
 public:
  virtual ~RegistryClient() = default;

  // GET /v2/: OK when the registry answers 200 (after answering its challenge).
  virtual absl::Status Ping() = 0;

  // Pages through GET /v2/_catalog?n=page_size (1..the registry's catalog.maxentries, default
  // 1000), following the relative Link header, and calls on_page with each page's names in the
  // registry's order (lexical). Stops and returns on_page's status when it is not OK.
  virtual absl::Status Catalog(
      int page_size, const std::function<absl::Status(std::vector<std::string> page)>& on_page) = 0;

  // GET /v2/<repository>/tags/list, sorted (the registry's order is random). A repository whose
  // tags were all deleted answers an empty list (2.8 gives `"tags": null`).
  virtual absl::StatusOr<std::vector<std::string>> ListTags(absl::string_view repository) = 0;

  // GET /v2/<repository>/manifests/<reference> (a tag or a digest) with the full Accept list.
  // When `reference` is a digest the body is checked against it (kDataLoss on mismatch).
  virtual absl::StatusOr<FetchedManifest> GetManifest(absl::string_view repository,
                                                      absl::string_view reference) = 0;

  // HEAD /v2/<repository>/manifests/<reference> with the full Accept list: digest, media type
  // and size without the body.
  virtual absl::StatusOr<ManifestHead> HeadManifest(absl::string_view repository,
                                                    absl::string_view reference) = 0;

  // GET /v2/<repository>/blobs/<digest>, following redirects (to storage backends), calling
  // on_chunk with each piece of the body as it arrives. A non-OK status from on_chunk aborts
  // the transfer and is returned as is. Returns the number of bytes delivered; for sha256
  // digests the streamed content is verified (kDataLoss on mismatch, after the last chunk).
  // Never buffers the blob: safe for multi-gigabyte layers.
  virtual absl::StatusOr<int64_t> GetBlob(
      absl::string_view repository, absl::string_view digest,
      const std::function<absl::Status(absl::string_view chunk)>& on_chunk) = 0;

  // PUT /v2/<repository>/manifests/<reference> with Content-Type `media_type`. Returns the
  // digest the registry reports. Used to put a manifest back under a tag.
  virtual absl::StatusOr<std::string> PutManifest(absl::string_view repository,
                                                  absl::string_view reference,
                                                  absl::string_view media_type,
                                                  absl::string_view body) = 0;

  // DELETE /v2/<repository>/manifests/<digest> (202). Every tag pointing at the digest goes
  // with it (registry semantics). A tag instead of a digest is kInvalidArgument before any
  // request: 2.8 cannot delete by tag.
  virtual absl::Status DeleteManifest(absl::string_view repository, absl::string_view digest) = 0;
};

// Every repository of the catalog (pages of `page_size`).
absl::StatusOr<std::vector<std::string>> ListAllRepositories(RegistryClient& client,
                                                             int page_size = 1000);

// A parsed `WWW-Authenticate` header value.
struct AuthChallenge {
  std::string scheme;  // "bearer" or "basic", lower-cased
  std::map<std::string, std::string> params;  // realm, service, scope, error (names lower-cased)
  // The scope parameter split at spaces (the registry puts several scopes in one parameter).
  std::vector<std::string> Scopes() const;
};
// kInvalidArgument when the value cannot be parsed.
absl::StatusOr<AuthChallenge> ParseAuthChallenge(absl::string_view header);

// The URL a `Link: <...>; rel="next"` header points to, resolved against `base_url`'s origin
// (scheme://host[:port]); "" when the header has no rel="next" link. kInvalidArgument when the
// link points to another origin (a token must never be sent elsewhere).
absl::StatusOr<std::string> ResolveNextLink(absl::string_view link_header,
                                            absl::string_view base_url);

// The libcurl implementation. Thread-safe; keeps a small pool of connections alive.
class HttpRegistryClient final : public RegistryClient {
 public:
  struct Options {
    std::string url;             // "http://127.0.0.1:5000" (a path prefix is allowed)
    std::string service;         // token service when a challenge names none
    std::string ca_file;         // PEM bundle; empty: system CAs
    bool tls_verify = true;
    absl::Duration timeout = absl::Seconds(30);  // one request; for blobs: max stall
    absl::Duration connect_timeout = absl::Seconds(10);
    // Tokens are renewed this long before they expire (at least 10% of their lifetime).
    absl::Duration token_renew_margin = absl::Seconds(30);
    size_t max_idle_handles = 16;  // kept-alive connections
    std::string user_agent = "portunus";
  };

  // kInvalidArgument for a bad URL or an unreadable ca_file. `tokens` may be null (a registry
  // without token auth); it and `clock` must outlive the client.
  static absl::StatusOr<std::unique_ptr<HttpRegistryClient>> Create(Options options,
                                                                    RegistryTokenSource* tokens,
                                                                    const Clock& clock);
  ~HttpRegistryClient() override;

  absl::Status Ping() override;
  absl::Status Catalog(
      int page_size,
      const std::function<absl::Status(std::vector<std::string> page)>& on_page) override;
  absl::StatusOr<std::vector<std::string>> ListTags(absl::string_view repository) override;
  absl::StatusOr<FetchedManifest> GetManifest(absl::string_view repository,
                                              absl::string_view reference) override;
  absl::StatusOr<ManifestHead> HeadManifest(absl::string_view repository,
                                            absl::string_view reference) override;
  absl::StatusOr<int64_t> GetBlob(
      absl::string_view repository, absl::string_view digest,
      const std::function<absl::Status(absl::string_view chunk)>& on_chunk) override;
  absl::StatusOr<std::string> PutManifest(absl::string_view repository,
                                          absl::string_view reference,
                                          absl::string_view media_type,
                                          absl::string_view body) override;
  absl::Status DeleteManifest(absl::string_view repository, absl::string_view digest) override;

  // Number of tokens fetched from the token source so far (tests check the cache).
  int64_t token_fetches_for_test() const;

 private:
  struct Request;
  struct Response;
  HttpRegistryClient(Options options, RegistryTokenSource* tokens, const Clock& clock);

  // Runs `request`, answering one Bearer challenge with a fresh token.
  absl::StatusOr<Response> Execute(Request& request);
  absl::StatusOr<Response> Perform(Request& request, const std::string& token);
  absl::StatusOr<std::string> CachedToken(const std::string& scope_key);
  absl::StatusOr<std::string> FetchToken(const AuthChallenge& challenge,
                                         const std::vector<std::string>& fallback_scopes);
  void* TakeHandle();
  void ReturnHandle(void* handle);
  // libcurl callbacks (user data: a TransferState in registry_client.cc).
  static size_t OnHeader(char* data, size_t size, size_t n, void* user);
  static size_t OnBody(char* data, size_t size, size_t n, void* user);

  const Options options_;
  RegistryTokenSource* const tokens_;
  const Clock& clock_;
  std::string origin_;  // scheme://host[:port] of options_.url

  mutable absl::Mutex mu_;
  std::map<std::string, RegistryToken> token_cache_ ABSL_GUARDED_BY(mu_);
  std::vector<void*> idle_handles_ ABSL_GUARDED_BY(mu_);
  int64_t token_fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus
