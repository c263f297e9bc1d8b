// HttpRegistryClient against the real registry (docker-registry 2.8), without auth and with
// token auth (tokens signed by a throwaway key the registry trusts), plus its parsing helpers.
#include "services/common/registry_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/fake_registry_client.h"
#include "services/common/testing/registry_process.h"
#include "services/common/testing/registry_push.h"
#include "services/common/testing/test_token_signer.h"

namespace portunus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ----- parsing helpers -----

TEST(ParseAuthChallengeTest, ParsesTheRegistrysBearerChallenge) {
  absl::StatusOr<AuthChallenge> c = ParseAuthChallenge(
      "Bearer realm=\"http://127.0.0.1:5001/v2/token\",service=\"registry.test\","
      "scope=\"repository:ns/other:pull,push repository:ns/app:pull\",error=\"invalid_token\"");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->params.at("realm"), "http://127.0.0.1:5001/v2/token");
  EXPECT_EQ(c->params.at("service"), "registry.test");
  EXPECT_EQ(c->params.at("error"), "invalid_token");
  EXPECT_THAT(c->Scopes(), ElementsAre("repository:ns/other:pull,push", "repository:ns/app:pull"));
}

TEST(ParseAuthChallengeTest, HandlesSchemesWithoutParamsAndRejectsGarbage) {
  absl::StatusOr<AuthChallenge> basic = ParseAuthChallenge("Basic realm=\"Registry Realm\"");
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(basic->scheme, "basic");
  EXPECT_TRUE(basic->Scopes().empty());
  EXPECT_EQ(ParseAuthChallenge("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAuthChallenge("Bearer realm=\"unterminated").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAuthChallenge("Bearer novalue").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResolveNextLinkTest, ResolvesRelativeLinksAgainstTheOrigin) {
  absl::StatusOr<std::string> next =
      ResolveNextLink("</v2/_catalog?last=lib%2Fy&n=2>; rel=\"next\"", "http://127.0.0.1:5000");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, "http://127.0.0.1:5000/v2/_catalog?last=lib%2Fy&n=2");
  EXPECT_EQ(*ResolveNextLink("", "http://r:5000"), "");
  EXPECT_EQ(*ResolveNextLink("</v2/x>; rel=\"prev\"", "http://r:5000"), "");
  EXPECT_EQ(*ResolveNextLink("</a>; rel=prev, </v2/_catalog?n=1&last=b>; rel=next", "https://r"),
            "https://r/v2/_catalog?n=1&last=b");
  EXPECT_EQ(*ResolveNextLink("<https://r/v2/_catalog?n=1>; rel=\"next\"", "https://r/prefix"),
            "https://r/v2/_catalog?n=1");
  EXPECT_EQ(ResolveNextLink("<https://evil/v2/_catalog>; rel=\"next\"", "https://r").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RegistryNamesTest, ValidatesNamesTagsAndDigests) {
  EXPECT_TRUE(IsValidRepositoryName("team/app"));
  EXPECT_TRUE(IsValidRepositoryName("a/b/c-d.e__f"));
  EXPECT_TRUE(IsValidRepositoryName("busybox"));
  EXPECT_FALSE(IsValidRepositoryName("Team/app"));
  EXPECT_FALSE(IsValidRepositoryName("team//app"));
  EXPECT_FALSE(IsValidRepositoryName("team/../app"));
  EXPECT_FALSE(IsValidRepositoryName("team/app?x=1"));
  EXPECT_FALSE(IsValidRepositoryName("-app"));
  EXPECT_FALSE(IsValidRepositoryName(std::string(256, 'a')));
  EXPECT_TRUE(IsValidTag("v1.2_3-rc"));
  EXPECT_FALSE(IsValidTag(".hidden"));
  EXPECT_FALSE(IsValidTag(std::string(129, 'a')));
  EXPECT_FALSE(IsValidTag("a/b"));
  EXPECT_TRUE(IsValidDigest(Sha256Digest("x")));
  EXPECT_FALSE(IsValidDigest("sha256:ABC"));
  EXPECT_FALSE(IsValidDigest("md5:00"));
  EXPECT_EQ(Sha256Digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ----- against the real registry -----

class RegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::RegistryProcess>> r = testing::RegistryProcess::Start();
    if (r.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << r.status();
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = std::move(*r);
    HttpRegistryClient::Options o;
    o.url = registry_->url();
    o.timeout = absl::Seconds(10);
    auto c = HttpRegistryClient::Create(o, nullptr, clock_);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
  }

  testing::BuiltImage Push(const std::string& repo, const std::string& tag,
                           testing::FakeImage image = {}) {
    absl::StatusOr<testing::BuiltImage> b =
        testing::PushTestImage(registry_->url(), "", repo, tag, image);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : testing::BuiltImage{};
  }

  testing::FakeClock clock_;
  std::unique_ptr<testing::RegistryProcess> registry_;
  std::unique_ptr<HttpRegistryClient> client_;
};

TEST_F(RegistryClientTest, PingsAndFetchesOciManifestsByTagAndDigest) {
  ASSERT_TRUE(client_->Ping().ok());
  const testing::BuiltImage image = Push("ns/app", "v1");
  absl::StatusOr<FetchedManifest> by_tag = client_->GetManifest("ns/app", "v1");
  ASSERT_TRUE(by_tag.ok()) << by_tag.status();
  EXPECT_EQ(by_tag->digest, image.digest);
  EXPECT_EQ(by_tag->media_type, kMediaTypeOciManifest);
  EXPECT_EQ(by_tag->body, image.manifest);
  absl::StatusOr<FetchedManifest> by_digest = client_->GetManifest("ns/app", image.digest);
  ASSERT_TRUE(by_digest.ok()) << by_digest.status();
  EXPECT_EQ(by_digest->body, image.manifest);
  absl::StatusOr<ManifestHead> head = client_->HeadManifest("ns/app", "v1");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->digest, image.digest);
  EXPECT_EQ(head->media_type, kMediaTypeOciManifest);
  EXPECT_EQ(head->size, static_cast<int64_t>(image.manifest.size()));
}

TEST_F(RegistryClientTest, KeepsDockerSchema2ManifestsUnconverted) {
  testing::FakeImage image;
  image.docker_schema2 = true;
  const testing::BuiltImage pushed = Push("ns/app", "v2", image);
  absl::StatusOr<FetchedManifest> m = client_->GetManifest("ns/app", "v2");
  ASSERT_TRUE(m.ok()) << m.status();
  // Without the schema2 type in Accept, 2.8 would convert to schema1 with another digest.
  EXPECT_EQ(m->digest, pushed.digest);
  EXPECT_EQ(m->media_type, kMediaTypeDockerManifest);
}

TEST_F(RegistryClientTest, ListsTagsSortedAndReportsUnknownNames) {
  Push("ns/app", "t3");
  Push("ns/app", "t1");
  Push("ns/app", "t2");
  absl::StatusOr<std::vector<std::string>> tags = client_->ListTags("ns/app");
  ASSERT_TRUE(tags.ok()) << tags.status();
  EXPECT_THAT(*tags, ElementsAre("t1", "t2", "t3"));
  absl::StatusOr<std::vector<std::string>> none = client_->ListTags("ns/nothing");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("NAME_UNKNOWN"));
  EXPECT_EQ(client_->GetManifest("ns/app", "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->ListTags("../etc").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->GetManifest("ns/app", "bad tag").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryClientTest, PagesThroughTheCatalogWithRelativeLinks) {
  const std::vector<std::string> names = {"a/one", "a/two", "b/x", "c", "lib/y"};
  for (const std::string& n : names) Push(n, "latest", testing::FakeImage{.layers = {n}});
  std::vector<size_t> page_sizes;
  std::vector<std::string> all;
  absl::Status s = client_->Catalog(2, [&](std::vector<std::string> page) {
    page_sizes.push_back(page.size());
    all.insert(all.end(), page.begin(), page.end());
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(all, names);
  EXPECT_GE(page_sizes.size(), 3u);
  absl::StatusOr<std::vector<std::string>> everything = ListAllRepositories(*client_, 1000);
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(*everything, names);
  // A callback error stops paging and comes back unchanged.
  int pages = 0;
  absl::Status stopped = client_->Catalog(2, [&](std::vector<std::string>) {
    ++pages;
    return absl::CancelledError("enough");
  });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(pages, 1);
  // n above the registry's maximum (1000) is a 400 from the registry.
  EXPECT_EQ(client_->Catalog(5000, [](std::vector<std::string>) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryClientTest, StreamsBlobsInChunksAndVerifiesThem) {
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) % 251);
  absl::StatusOr<std::string> digest = testing::UploadBlob(registry_->url(), "", "ns/app", big);
  ASSERT_TRUE(digest.ok()) << digest.status();
  std::string received;
  int chunks = 0;
  absl::StatusOr<int64_t> n = client_->GetBlob("ns/app", *digest, [&](absl::string_view c) {
    ++chunks;
    received.append(c.data(), c.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, static_cast<int64_t>(big.size()));
  EXPECT_EQ(received, big);
  EXPECT_GT(chunks, 1);
  // A callback error aborts the transfer and is returned as is.
  int64_t seen = 0;
  absl::StatusOr<int64_t> aborted = client_->GetBlob("ns/app", *digest, [&](absl::string_view c) {
    seen += static_cast<int64_t>(c.size());
    return seen > (1 << 20) ? absl::ResourceExhaustedError("layer too large") : absl::OkStatus();
  });
  EXPECT_EQ(aborted.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(aborted.status().message(), "layer too large");
  EXPECT_LT(seen, static_cast<int64_t>(big.size()));
  // The connection that was aborted is not reused for the next request.
  absl::StatusOr<int64_t> again =
      client_->GetBlob("ns/app", *digest, [](absl::string_view) { return absl::OkStatus(); });
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(client_->GetBlob("ns/app", Sha256Digest("absent"), [](absl::string_view) {
                     return absl::OkStatus();
                   }).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RegistryClientTest, DeletesByDigestOnlyAndPutsManifestsBack) {
  const testing::BuiltImage image = Push("ns/app", "v1");
  absl::StatusOr<std::string> put =
      client_->PutManifest("ns/app", "v2", image.media_type, image.manifest);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(*put, image.digest);
  EXPECT_THAT(*client_->ListTags("ns/app"), ElementsAre("v1", "v2"));
  EXPECT_EQ(client_->DeleteManifest("ns/app", "v1").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(client_->DeleteManifest("ns/app", image.digest).ok());
  EXPECT_TRUE(client_->ListTags("ns/app")->empty());
  EXPECT_EQ(client_->DeleteManifest("ns/app", image.digest).code(), absl::StatusCode::kNotFound);
  // The same bytes go back under one tag only: the single-tag delete technique.
  ASSERT_TRUE(client_->PutManifest("ns/app", "v2", image.media_type, image.manifest).ok());
  EXPECT_THAT(*client_->ListTags("ns/app"), ElementsAre("v2"));
}

TEST_F(RegistryClientTest, ReportsAnUnreachableRegistry) {
  // A port nothing listens on: bind, read the port, close.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  HttpRegistryClient::Options o;
  o.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto c = HttpRegistryClient::Create(o, nullptr, clock_);
  ASSERT_TRUE(c.ok());
  absl::Status s = (*c)->Ping();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("GET /v2/"));
  EXPECT_EQ(HttpRegistryClient::Create({.url = "ftp://x"}, nullptr, clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpRegistryClient::Create({.url = "https://r", .ca_file = "/nonexistent.pem"}, nullptr,
                                       clock_)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryClientTest, DeleteDisabledIsAFailedPrecondition) {
  registry_.reset();
  testing::RegistryProcessOptions opts;
  opts.delete_enabled = false;
  auto r = testing::RegistryProcess::Start(opts);
  ASSERT_TRUE(r.ok()) << r.status();
  HttpRegistryClient::Options o;
  o.url = (*r)->url();
  auto c = HttpRegistryClient::Create(o, nullptr, clock_);
  ASSERT_TRUE(c.ok());
  auto image = testing::PushTestImage((*r)->url(), "", "ns/app", "v1", {});
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ((*c)->DeleteManifest("ns/app", image->digest).code(),
            absl::StatusCode::kFailedPrecondition);
}

// ----- token auth -----

class RegistryClientTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/portunus-signer-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto signer = testing::TestTokenSigner::Create(dir_, "portunus-test-issuer");
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = std::move(*signer);
    testing::RegistryProcessOptions opts;
    opts.token_realm = "http://127.0.0.1:1/v2/token";  // never called: the client asks auth
    opts.token_service = "registry.test";
    opts.token_issuer = signer_->issuer();
    opts.token_cert_bundle = signer_->bundle_path();
    auto r = testing::RegistryProcess::Start(opts);
    if (r.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << r.status();
    ASSERT_TRUE(r.ok()) << r.status();
    registry_ = std::move(*r);
    source_ = std::make_unique<testing::TestTokenSource>(*signer_, clock_);
    HttpRegistryClient::Options o;
    o.url = registry_->url();
    o.service = "registry.test";
    auto c = HttpRegistryClient::Create(o, source_.get(), clock_);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string PushToken(const std::string& repo) {
    return signer_->Sign("alice", "registry.test", {"repository:" + repo + ":pull,push"},
                         absl::Now(), absl::Minutes(5));
  }

  std::string dir_;
  testing::FakeClock clock_;
  std::unique_ptr<testing::TestTokenSigner> signer_;
  std::unique_ptr<testing::RegistryProcess> registry_;
  std::unique_ptr<testing::TestTokenSource> source_;
  std::unique_ptr<HttpRegistryClient> client_;
};

TEST_F(RegistryClientTokenTest, AnswersChallengesAndCachesTokensUntilShortlyBeforeExpiry) {
  auto image = testing::PushTestImage(registry_->url(), PushToken("ns/app"), "ns/app", "v1", {});
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_TRUE(client_->Ping().ok());
  EXPECT_EQ(source_->fetches(), 1);

  absl::StatusOr<std::vector<std::string>> tags = client_->ListTags("ns/app");
  ASSERT_TRUE(tags.ok()) << tags.status();
  EXPECT_THAT(*tags, ElementsAre("v1"));
  EXPECT_EQ(source_->fetches(), 2);
  // Same scope (repository:ns/app:pull): the cached token goes out up front.
  ASSERT_TRUE(client_->GetManifest("ns/app", "v1").ok());
  ASSERT_TRUE(client_->HeadManifest("ns/app", image->digest).ok());
  EXPECT_EQ(source_->fetches(), 2);
  EXPECT_EQ(client_->token_fetches_for_test(), 2);

  // The catalog needs registry:catalog:*.
  absl::StatusOr<std::vector<std::string>> repos = ListAllRepositories(*client_);
  ASSERT_TRUE(repos.ok()) << repos.status();
  EXPECT_THAT(*repos, ElementsAre("ns/app"));
  EXPECT_EQ(source_->fetches(), 3);

  // 5-minute tokens are renewed 30 s before they expire.
  clock_.Advance(absl::Minutes(4) + absl::Seconds(31));
  ASSERT_TRUE(client_->ListTags("ns/app").ok());
  EXPECT_EQ(source_->fetches(), 4);

  // Delete asks for repository:ns/app:delete.
  ASSERT_TRUE(client_->DeleteManifest("ns/app", image->digest).ok());
  EXPECT_EQ(source_->fetches(), 5);
}

TEST_F(RegistryClientTokenTest, ReportsRefusedTokensAndTokenServiceOutages) {
  source_->FailNextCall(absl::UnavailableError("auth is down"));
  absl::Status down = client_->Ping();
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(down.message(), HasSubstr("auth is down"));

  source_->set_issue_bad_tokens(true);
  absl::Status refused = client_->Ping();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.message(), HasSubstr("invalid_token"));
  source_->set_issue_bad_tokens(false);
  EXPECT_TRUE(client_->Ping().ok());

  // Without a token source the client says what is missing.
  HttpRegistryClient::Options o;
  o.url = registry_->url();
  auto anonymous = HttpRegistryClient::Create(o, nullptr, clock_);
  ASSERT_TRUE(anonymous.ok());
  absl::Status s = (*anonymous)->Ping();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("no token source"));
}

}  // namespace
}  // namespace portunus
