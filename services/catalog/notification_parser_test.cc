#include "services/catalog/notification_parser.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/testdata/registry_events.h"

namespace portunus::catalog {
namespace {

using ::testing::HasSubstr;

constexpr char kV1[] = "application/vnd.docker.distribution.events.v1+json";

TEST(NotificationParserTest, KeepsManifestPushWithEverythingTheRegistrySent) {
  ParsedNotification p = ParseNotification(kV1, testdata::kPushManifestOci);
  ASSERT_EQ(p.events.size(), 1u);
  const NewEvent& e = p.events[0];
  EXPECT_EQ(e.status, EventStatus::kPending);
  EXPECT_EQ(e.event_id, "81890f62-054f-4d83-9ec4-54e165a96dd0");
  EXPECT_EQ(e.action, "push");
  EXPECT_EQ(e.repository, "ns/app");
  EXPECT_EQ(e.tag, "v1");
  EXPECT_EQ(e.digest, "sha256:49ce1e4e19ad23b4be19d708a64b6fc7bb64036bc68ab561fd3d8888dbfff422");
  EXPECT_EQ(e.media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(e.actor, "alice");
  EXPECT_EQ(e.event_time, absl::FromUnixNanos(1795379850078768380));  // ...T20:37:30.07876838Z
  EXPECT_THAT(e.payload, HasSubstr("\"references\""));
  EXPECT_EQ(p.ignored, 0);

  ParsedNotification v2s2 = ParseNotification(kV1, testdata::kPushManifestDockerV2s2);
  ASSERT_EQ(v2s2.events.size(), 1u);
  EXPECT_EQ(v2s2.events[0].media_type, "application/vnd.docker.distribution.manifest.v2+json");
}

TEST(NotificationParserTest, DropsBlobEventsAndHeadPulls) {
  for (const char* body : {testdata::kPushBlobLayer, testdata::kPullBlobGet,
                           testdata::kPullBlobHead}) {
    ParsedNotification p = ParseNotification(kV1, body);
    EXPECT_TRUE(p.events.empty()) << body;
    EXPECT_EQ(p.ignored, 1);
  }
  // The same manifest pull made by HEAD (an existence check) is not a pull.
  std::string head = testdata::kPullManifestOci;
  head.replace(head.find("\"GET\""), 5, "\"HEAD\"");
  EXPECT_TRUE(ParseNotification(kV1, head).events.empty());
  ParsedNotification get = ParseNotification(kV1, testdata::kPullManifestOci);
  ASSERT_EQ(get.events.size(), 1u);
  EXPECT_EQ(get.events[0].action, "pull");
  EXPECT_EQ(get.events[0].actor, "bob");
}

TEST(NotificationParserTest, KeepsDeletesByDigestAndByTagAndMounts) {
  ParsedNotification by_digest = ParseNotification(kV1, testdata::kDeleteManifest);
  ASSERT_EQ(by_digest.events.size(), 1u);
  EXPECT_EQ(by_digest.events[0].action, "delete");
  EXPECT_EQ(by_digest.events[0].tag, "");
  EXPECT_EQ(by_digest.events[0].digest,
            "sha256:89f5c49f174ad98065c40218d2ffb24dc1f35ef0eb8cdf54b9ede25850e74407");
  ParsedNotification by_tag = ParseNotification(kV1, testdata::kDeleteTag);
  ASSERT_EQ(by_tag.events.size(), 1u);
  EXPECT_EQ(by_tag.events[0].tag, "v2");
  EXPECT_EQ(by_tag.events[0].digest, "");
  ParsedNotification mount = ParseNotification(kV1, testdata::kMountBlob);
  ASSERT_EQ(mount.events.size(), 1u);
  EXPECT_EQ(mount.events[0].action, "mount");
  EXPECT_EQ(mount.events[0].repository, "ns/retry");
}

TEST(NotificationParserTest, AcceptsTheThreeContentTypesAndManyEventsPerEnvelope) {
  const std::string two =
      R"({"events":[{"id":"a","action":"delete","target":{"repository":"x/y","tag":"t"}},)"
      R"({"id":"b","action":"delete","target":{"repository":"x/y","tag":"u"}}]})";
  for (const char* ct : {"application/vnd.docker.distribution.events.v1+json",
                         "application/vnd.docker.distribution.events.v2+json; charset=utf-8",
                         "Application/JSON"}) {
    ParsedNotification p = ParseNotification(ct, two);
    ASSERT_EQ(p.events.size(), 2u) << ct;
    EXPECT_EQ(p.events[0].event_id, "a");
    EXPECT_EQ(p.events[1].event_id, "b");
    EXPECT_EQ(p.events[1].status, EventStatus::kPending);
  }
}

TEST(NotificationParserTest, RejectsWhatItCannotUnderstandWithAReason) {
  struct Case {
    std::string content_type;
    std::string body;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"text/plain", "{}", "unsupported content type"},
      {kV1, "not json", "not valid JSON"},
      {kV1, "[1,2]", "not a notification envelope"},
      {kV1, R"({"events":{}})", "not a notification envelope"},
      {kV1, "{\"events\":[\"\xff\xfe\"]}", "not valid JSON"},
      {kV1, R"({"events":[42]})", "not a JSON object"},
      {kV1, R"({"events":[{"action":"push"}]})", "has no id"},
      {kV1, R"({"events":[{"id":"x","action":"explode","target":{"repository":"a/b"}}]})",
       "unknown action \"explode\""},
      {kV1, R"({"events":[{"id":"x","action":"push"}]})", "has no target"},
      {kV1, R"({"events":[{"id":"x","action":"push","target":{"repository":"A/../b"}}]})",
       "invalid repository name"},
      {kV1, R"({"events":[{"id":"x","action":"delete","target":{"repository":"a/b"}}]})",
       "neither digest nor tag"},
      {kV1,
       R"({"events":[{"id":"x","action":"push","target":{"repository":"a/b","tag":"v1",)"
       R"("mediaType":"application/vnd.oci.image.manifest.v1+json"}}]})",
       "has no digest"},
      {kV1,
       R"({"events":[{"id":"x","action":"push","target":{"repository":"a/b","tag":"v1",)"
       R"("digest":"sha256:zz","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]})",
       "invalid digest"},
      {kV1,
       R"({"events":[{"id":"x","action":"push","target":{"repository":"a/b","tag":"v1",)"
       R"("mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"}}]})",
       "schema1"},
  };
  for (const Case& c : cases) {
    ParsedNotification p = ParseNotification(c.content_type, c.body);
    ASSERT_EQ(p.events.size(), 1u) << c.body;
    EXPECT_EQ(p.events[0].status, EventStatus::kRejected) << c.body;
    EXPECT_THAT(p.events[0].reject_reason, HasSubstr(c.reason)) << c.body;
    EXPECT_FALSE(p.events[0].event_id.empty());
    EXPECT_FALSE(p.events[0].payload.empty());
  }
  // The same garbage twice gets the same id, so a redelivery is deduplicated.
  EXPECT_EQ(ParseNotification(kV1, "garbage").events[0].event_id,
            ParseNotification(kV1, "garbage").events[0].event_id);
  EXPECT_NE(ParseNotification(kV1, "garbage").events[0].event_id,
            ParseNotification(kV1, "garbage2").events[0].event_id);
}

TEST(NotificationParserTest, StoresARejectedBodyAsValidUtf8WithoutNul) {
  // PostgreSQL text takes neither NUL nor invalid UTF-8: each becomes U+FFFD, the rest stays.
  const std::string body("ab\0c\xff" "d\xC3\xA9" "e\xE2\x82", 11);
  ParsedNotification p = ParseNotification(kV1, body);
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].payload,
            "ab\xEF\xBF\xBD" "c\xEF\xBF\xBD" "d\xC3\xA9" "e\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(NotificationParserTest, IgnoresPushesByDigestOnly) {
  const std::string by_digest =
      R"({"events":[{"id":"x","action":"push","target":{"repository":"a/b","digest":")" +
      std::string("sha256:") + std::string(64, 'a') +
      R"(","mediaType":"application/vnd.oci.image.manifest.v1+json"}}]})";
  ParsedNotification p = ParseNotification(kV1, by_digest);
  EXPECT_TRUE(p.events.empty());
  EXPECT_EQ(p.ignored, 1);
}

}  // namespace
}  // namespace portunus::catalog
