#include "services/gateway/rest.h"

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "mapping_test.pb.h"
#include "services/common/status_mapping.h"

namespace portunus::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::AllTypes;
using testing::CreateRequest;

// ---- protobuf -> JSON -------------------------------------------------------------------------

TEST(MessageToJsonTest, PrintsEveryFieldOfAnEmptyMessage) {
  EXPECT_EQ(MessageToJson(AllTypes()),
            R"({"i32":0,"i64":0,"u32":0,"u64":0,"s64":0,"f64":0,"d":0,"f":0,"b":false,"s":"",)"
            R"("by":"","role":"role_unspecified","inner":null,"inners":[],"ids":[],"counts":{},)"
            R"("by_id":{},"nickname":null,"maybe":null,"created_at":null,"ttl":null,)"
            R"("wrapped":null,"meta":null,"user_name":null,"team_id":null,"roles":[]})");
}

AllTypes Filled() {
  AllTypes m;
  m.set_i32(-7);
  m.set_i64(9007199254740993);  // not representable as a double: must stay exact
  m.set_u32(4000000000u);
  m.set_u64(18446744073709551615ull);
  m.set_s64(-9223372036854775807 - 1);
  m.set_f64(12);
  m.set_d(0.1);
  m.set_f(0.1f);
  m.set_b(true);
  m.set_s("h\xc3\xa9llo \"q\"\n");
  m.set_by(std::string("\x00\xff", 2));
  m.set_role(AllTypes::OWNER);
  m.mutable_inner()->set_name("n");
  m.mutable_inner()->set_count(2);
  m.add_inners()->set_name("a");
  m.add_inners()->set_count(3);
  m.add_ids(1);
  m.add_ids(-2);
  (*m.mutable_counts())["b"] = 2;
  (*m.mutable_counts())["a"] = 1;
  (*m.mutable_by_id())[10].set_name("ten");
  (*m.mutable_by_id())[9].set_name("nine");
  m.set_nickname("");
  m.set_maybe(0);
  m.mutable_created_at()->set_seconds(1700000000);
  m.mutable_ttl()->set_seconds(1);
  m.mutable_ttl()->set_nanos(500000000);
  m.mutable_wrapped()->set_value(5);
  auto& list = *(*m.mutable_meta()->mutable_fields())["k"].mutable_list_value();
  list.add_values()->set_number_value(1);
  list.add_values()->set_string_value("x");
  list.add_values()->set_null_value(google::protobuf::NULL_VALUE);
  list.add_values()->set_bool_value(true);
  m.set_team_id(7);
  m.add_roles(AllTypes::VIEWER);
  return m;
}

TEST(MessageToJsonTest, PrintsPortusShapes) {
  AllTypes m = Filled();
  m.add_roles(static_cast<AllTypes::Role>(99));  // unknown to this binary: printed as a number
  EXPECT_EQ(
      MessageToJson(m),
      R"({"i32":-7,"i64":9007199254740993,"u32":4000000000,"u64":18446744073709551615,)"
      R"("s64":-9223372036854775808,"f64":12,"d":0.1,"f":0.1,"b":true,"s":"héllo \"q\"\n",)"
      R"("by":"AP8=","role":"owner","inner":{"name":"n","count":2},)"
      R"("inners":[{"name":"a","count":0},{"name":"","count":3}],"ids":[1,-2],)"
      R"("counts":{"a":1,"b":2},"by_id":{"9":{"name":"nine","count":0},)"
      R"("10":{"name":"ten","count":0}},"nickname":"","maybe":0,)"
      R"("created_at":"2023-11-14T22:13:20.000Z","ttl":"1.500s","wrapped":5,)"
      R"("meta":{"k":[1,"x",null,true]},"user_name":null,"team_id":7,"roles":["viewer",99]})");
}

TEST(MessageToJsonTest, TimestampsKeepTheirPrecisionAndSpecialDoublesAreStrings) {
  AllTypes m;
  m.mutable_created_at()->set_seconds(0);
  m.mutable_created_at()->set_nanos(5000);
  m.set_d(std::numeric_limits<double>::infinity());
  const std::string json = MessageToJson(m);
  EXPECT_THAT(json, HasSubstr(R"("created_at":"1970-01-01T00:00:00.000005Z")"));
  EXPECT_THAT(json, HasSubstr(R"("d":"Infinity")"));
  m.mutable_created_at()->set_nanos(123456789);
  EXPECT_THAT(MessageToJson(m), HasSubstr(R"("created_at":"1970-01-01T00:00:00.123456789Z")"));
}

TEST(MessageToJsonTest, InvalidUtf8InStringsStillGivesValidJson) {
  AllTypes m;
  m.set_s("a\xff" "b");
  EXPECT_THAT(MessageToJson(m), HasSubstr(R"("s":"a\ufffdb")"));
}

TEST(MessageToJsonTest, ArrayOfMessages) {
  AllTypes m;
  m.add_inners()->set_name("x");
  m.add_inners()->set_name("y");
  EXPECT_EQ(MessagesToJsonArray(m.inners()),
            R"([{"name":"x","count":0},{"name":"y","count":0}])");
  EXPECT_EQ(MessagesToJsonArray(AllTypes().inners()), "[]");
}

// ---- JSON -> protobuf -------------------------------------------------------------------------

TEST(ParseJsonBodyTest, RoundTripsEverything) {
  const AllTypes original = Filled();
  AllTypes parsed;
  ASSERT_TRUE(ParseJsonBody(MessageToJson(original), &parsed).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(original, parsed))
      << parsed.DebugString();
}

TEST(ParseJsonBodyTest, AcceptsLenientButUnambiguousInput) {
  AllTypes m;
  const absl::Status s =
      ParseJsonBody(R"({"i64":"9223372036854775807","u64":"18446744073709551615",)"
                    R"("i32":1e2,"role":"Viewer","roles":["OWNER",1],)"
                    R"("createdAt":"2024-01-02T03:04:05+01:00","inner":null,)"
                    R"("nickname":null,"d":"NaN"})",
                    &m);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(m.i64(), 9223372036854775807);
  EXPECT_EQ(m.u64(), 18446744073709551615ull);
  EXPECT_EQ(m.i32(), 100);
  EXPECT_EQ(m.role(), AllTypes::VIEWER);
  EXPECT_THAT(m.roles(), ::testing::ElementsAre(AllTypes::OWNER, AllTypes::VIEWER));
  EXPECT_EQ(m.created_at().seconds(), 1704161045);
  EXPECT_FALSE(m.has_inner());
  EXPECT_FALSE(m.has_nickname());
  EXPECT_TRUE(std::isnan(m.d()));

  // An empty body is an empty object.
  EXPECT_TRUE(ParseJsonBody("  \n", &m).ok());
  EXPECT_EQ(m.i64(), 0);
}

// Expects a 422 naming `field`, with `message` in the status text.
void ExpectFieldError(absl::string_view body, absl::string_view field,
                      absl::string_view message) {
  CreateRequest m;
  absl::Status s = ParseJsonBody(body, &m);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << body;
  EXPECT_EQ(ErrorField(s), field) << body << " -> " << s;
  EXPECT_EQ(HttpStatusFor(s), 422) << body;
  EXPECT_THAT(std::string(s.message()), HasSubstr(std::string(message))) << body;
}

TEST(ParseJsonBodyTest, UnknownFieldsAreNamed) {
  ExpectFieldError(R"({"usr":{}})", "usr", "unknown field");
  ExpectFieldError(R"({"user":{"nmae":"x"}})", "user.nmae", "unknown field");
  ExpectFieldError(R"({"user":{"inners":[{},{"nope":1}]}})", "user.inners[1].nope",
                   "unknown field");
}

TEST(ParseJsonBodyTest, WrongTypesAreNamed) {
  ExpectFieldError(R"({"user":{"i32":"abc"}})", "user.i32", "must be an integer");
  ExpectFieldError(R"({"user":{"i32":1.5}})", "user.i32", "must be an integer");
  ExpectFieldError(R"({"user":{"i64":true}})", "user.i64", "must be an integer");
  ExpectFieldError(R"({"user":{"b":"yes"}})", "user.b", "must be true or false");
  ExpectFieldError(R"({"user":{"s":5}})", "user.s", "must be a string");
  ExpectFieldError(R"({"user":{"d":"fast"}})", "user.d", "must be a number");
  ExpectFieldError(R"({"user":{"by":"!!!"}})", "user.by", "must be base64");
  ExpectFieldError(R"({"user":{"role":"admin"}})", "user.role",
                   "must be one of: role_unspecified, viewer, owner");
  ExpectFieldError(R"({"user":{"roles":[7]}})", "user.roles[0]", "must be one of");
  ExpectFieldError(R"({"user":{"inner":"x"}})", "user.inner", "must be an object");
  ExpectFieldError(R"({"user":{"inners":{}}})", "user.inners", "must be an array");
  ExpectFieldError(R"({"user":{"inners":[null]}})", "user.inners[0]", "must not be null");
  ExpectFieldError(R"({"user":{"inners":[{"count":"x"}]}})", "user.inners[0].count",
                   "must be an integer");
  ExpectFieldError(R"({"user":{"counts":{"a":"x"}}})", "user.counts[\"a\"]", "must be an integer");
  ExpectFieldError(R"({"user":{"by_id":{"x":{}}}})", "user.by_id[\"x\"]", "key must be an integer");
  ExpectFieldError(R"({"user":{"created_at":"yesterday"}})", "user.created_at", "RFC 3339");
  ExpectFieldError(R"({"user":{"ttl":5}})", "user.ttl", "duration");
  ExpectFieldError(R"({"user":{"wrapped":"x"}})", "user.wrapped", "must be an integer");
  // Keys are checked in name order: the second member of the oneof is the one named.
  ExpectFieldError(R"({"user":{"user_name":"a","team_id":1}})", "user.user_name",
                   "cannot be set together with team_id");
}

TEST(ParseJsonBodyTest, NumbersOutOfRangeAreNamed) {
  ExpectFieldError(R"({"user":{"i32":2147483648}})", "user.i32",
                   "between -2147483648 and 2147483647");
  ExpectFieldError(R"({"user":{"u32":-1}})", "user.u32", "between 0 and 4294967295");
  ExpectFieldError(R"({"user":{"u64":-1}})", "user.u64", "between 0 and");
  ExpectFieldError(R"({"user":{"u64":"-1"}})", "user.u64", "between 0 and");
  ExpectFieldError(R"({"user":{"i64":99999999999999999999}})", "user.i64", "between");
  ExpectFieldError(R"({"user":{"i64":"9223372036854775808"}})", "user.i64", "must be an integer");
  ExpectFieldError(R"({"user":{"f":1e39}})", "user.f", "out of range for a 32-bit float");
  ExpectFieldError(R"({"user":{"d":1e400}})", "user.d", "number is out of range");
  ExpectFieldError(R"({"user":{"ids":[1,2,1e999]}})", "user.ids[2]", "number is out of range");
}

TEST(ParseJsonBodyTest, InvalidUtf8IsNamed) {
  ExpectFieldError("{\"user\":{\"s\":\"a\xff\"}}", "user.s", "is not valid UTF-8");
  ExpectFieldError("{\"user\":{\"i32\":1, \"s\" : \"ok\\\"\xc3\x28\"}}", "user.s",
                   "is not valid UTF-8");
  ExpectFieldError("{\"user\":{\"inners\":[{\"name\":\"x\"},{\"name\":\"\xed\xa0\x80\"}]}}",
                   "user.inners[1].name", "is not valid UTF-8");
  ExpectFieldError("{\"user\":{\"s\":\"ok\",\"k\xff\":1}}", "user", "has a key that is not valid UTF-8");
  ExpectFieldError("{\"user\":{\"k\xff\":1}}", "user", "has a key that is not valid UTF-8");
  AllTypes m;
  absl::Status top_key = ParseJsonBody("{\"\xff\":1}", &m);
  EXPECT_EQ(HttpStatusFor(top_key), 400);
  EXPECT_THAT(std::string(top_key.message()), HasSubstr("UTF-8"));
}

TEST(ParseJsonBodyTest, MalformedJsonIs400) {
  AllTypes m;
  for (absl::string_view body : {"{", "{\"s\":}", "nope", "{'s':1}", "\"\xff\""}) {
    absl::Status s = ParseJsonBody(body, &m);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_EQ(HttpStatusFor(s), 400) << body;
    EXPECT_THAT(std::string(s.message()), HasSubstr("request body is not valid JSON: ")) << body;
  }
  absl::Status array = ParseJsonBody("[1,2]", &m);
  EXPECT_EQ(HttpStatusFor(array), 400);
  EXPECT_EQ(array.message(), "request body must be a JSON object");

  absl::Status deep = ParseJsonBody(std::string(100, '[') + std::string(100, ']'), &m);
  EXPECT_EQ(HttpStatusFor(deep), 400);
  EXPECT_THAT(std::string(deep.message()), HasSubstr("nested deeper than 64"));
  absl::Status deep_object =
      ParseJsonBody("{\"meta\":" + std::string(80, '[') + std::string(80, ']') + "}", &m);
  EXPECT_EQ(HttpStatusFor(deep_object), 400);
}

// ---- Errors -----------------------------------------------------------------------------------

TEST(ErrorResponseTest, MapsStatusesToPortusErrorBodies) {
  HttpResponse field = ErrorResponse(InvalidFieldError("user.username", "is taken"), "rid");
  EXPECT_EQ(field.status, 422);
  EXPECT_EQ(field.body,
            R"({"message":"user.username: is taken","field":"user.username","request_id":"rid"})");
  EXPECT_THAT(field.Header("Content-Type"), HasSubstr("application/json"));

  HttpResponse missing = ErrorResponse(absl::NotFoundError("user 5 not found"), "rid");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"message":"user 5 not found","request_id":"rid"})");

  HttpResponse conflict =
      ErrorResponse(RuleConflictError("last_admin", "admin is the last enabled administrator"), "rid");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.body,
            R"({"message":"admin is the last enabled administrator","rule":"last_admin",)"
            R"("request_id":"rid"})");

  HttpResponse internal = ErrorResponse(absl::InternalError("db said password=hunter2"), "rid");
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body, R"({"message":"internal error","request_id":"rid"})");

  EXPECT_EQ(ErrorResponse(absl::UnavailableError("auth down"), "r").status, 503);
  EXPECT_EQ(ErrorResponse(absl::DeadlineExceededError("slow"), "r").status, 504);
  EXPECT_EQ(ErrorResponse(absl::UnauthenticatedError("who"), "r").status, 401);
  EXPECT_EQ(ErrorResponse(absl::OkStatus(), "r").status, 500);
  EXPECT_EQ(ErrorResponse(403, "nope", "r").body, R"({"message":"nope","request_id":"r"})");
}

// ---- Paging -----------------------------------------------------------------------------------

HttpRequest RequestWithQuery(absl::string_view raw) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/api/v1/users";
  req.raw_query = std::string(raw);
  req.query = ParseQueryString(raw);
  req.headers = {{"host", "gw.local:8080"}};
  return req;
}

TEST(PagingTest, DefaultsAreThoseOfPortus) {
  absl::StatusOr<PageParams> p = ParsePaging(RequestWithQuery(""));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->all);
  EXPECT_EQ(p->page, 1);
  EXPECT_EQ(p->per_page, 15);
  EXPECT_EQ(p->sort_attr, "id");
  EXPECT_FALSE(p->descending);
  EXPECT_EQ(p->offset(), 0);

  p = ParsePaging(RequestWithQuery("page=3&per_page=20&sort_attr=name&sort_order=DESC&all=false"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->offset(), 40);
  EXPECT_EQ(p->limit(), 20);
  EXPECT_EQ(p->sort_attr, "name");
  EXPECT_TRUE(p->descending);
  EXPECT_TRUE(ParsePaging(RequestWithQuery("all=true"))->all);
}

TEST(PagingTest, BadValuesAre422NamingTheParameter) {
  PagingLimits limits;
  limits.sort_attrs = {"id", "name"};
  const std::pair<const char*, const char*> cases[] = {
      {"page=abc", "page"},        {"page=0", "page"},          {"page=-1", "page"},
      {"per_page=0", "per_page"},  {"per_page=501", "per_page"}, {"per_page=", "per_page"},
      {"all=maybe", "all"},        {"sort_order=up", "sort_order"},
      {"sort_attr=password", "sort_attr"}};
  for (const auto& [query, field] : cases) {
    absl::StatusOr<PageParams> p = ParsePaging(RequestWithQuery(query), limits);
    EXPECT_EQ(HttpStatusFor(p.status()), 422) << query;
    EXPECT_EQ(ErrorField(p.status()), field) << query;
  }
  EXPECT_EQ(ErrorField(ParsePaging(RequestWithQuery("sort_attr=Robert%27)--")).status()),
            "sort_attr");
  EXPECT_TRUE(ParsePaging(RequestWithQuery("sort_attr=created_at")).ok());
}

TEST(PagingTest, SetsPortusHeadersAndLinks) {
  HttpRequest req = RequestWithQuery("page=2&per_page=10&filter=x+y");
  absl::StatusOr<PageParams> p = ParsePaging(req);
  ASSERT_TRUE(p.ok());
  HttpResponse r(200);
  SetPagingHeaders(req, "", *p, 45, &r);
  EXPECT_EQ(r.Header("X-Total"), "45");
  EXPECT_EQ(r.Header("X-Total-Pages"), "5");
  EXPECT_EQ(r.Header("X-Page"), "2");
  EXPECT_EQ(r.Header("X-Per-Page"), "10");
  EXPECT_EQ(r.Header("X-Next-Page"), "3");
  EXPECT_EQ(r.Header("X-Prev-Page"), "1");
  const std::string base = "http://gw.local:8080/api/v1/users?filter=x%20y&page=";
  EXPECT_EQ(r.Header("Link"),
            "<" + base + "1&per_page=10>; rel=\"prev\", <" + base +
                "3&per_page=10>; rel=\"next\", <" + base + "1&per_page=10>; rel=\"first\", <" +
                base + "5&per_page=10>; rel=\"last\"");

  HttpResponse ext(200);
  SetPagingHeaders(req, "https://portus.example.com/", *p, 45, &ext);
  EXPECT_THAT(ext.Header("Link"),
              HasSubstr("<https://portus.example.com/api/v1/users?filter=x%20y&page=1&"));
}

TEST(PagingTest, EdgesOfTheRange) {
  HttpRequest req = RequestWithQuery("");
  HttpResponse empty(200);
  SetPagingHeaders(req, "", *ParsePaging(req), 0, &empty);
  EXPECT_EQ(empty.Header("X-Total-Pages"), "1");
  EXPECT_EQ(empty.Header("X-Next-Page"), "");
  EXPECT_EQ(empty.Header("X-Prev-Page"), "");
  EXPECT_EQ(empty.Header("Link"),
            "<http://gw.local:8080/api/v1/users?page=1&per_page=15>; rel=\"first\", "
            "<http://gw.local:8080/api/v1/users?page=1&per_page=15>; rel=\"last\"");

  HttpRequest beyond = RequestWithQuery("page=9");
  HttpResponse r(200);
  SetPagingHeaders(beyond, "", *ParsePaging(beyond), 30, &r);
  EXPECT_EQ(r.Header("X-Total-Pages"), "2");
  EXPECT_EQ(r.Header("X-Next-Page"), "");
  EXPECT_EQ(r.Header("X-Prev-Page"), "");
  EXPECT_THAT(r.Header("Link"), Not(HasSubstr("rel=\"prev\"")));

  HttpRequest all = RequestWithQuery("all=1");
  HttpResponse a(200);
  SetPagingHeaders(all, "", *ParsePaging(all), 30, &a);
  EXPECT_EQ(a.Header("X-Total"), "30");
  EXPECT_FALSE(a.HasHeader("Link"));

  EXPECT_EQ(TotalPages(0, 15), 1);
  EXPECT_EQ(TotalPages(15, 15), 1);
  EXPECT_EQ(TotalPages(16, 15), 2);
}

TEST(RequestUrlTest, UsesExternalUrlOrHostAndScheme) {
  HttpRequest req = RequestWithQuery("a=1");
  EXPECT_EQ(RequestUrl(req, ""), "http://gw.local:8080/api/v1/users");
  req.tls = true;
  EXPECT_EQ(RequestUrl(req, ""), "https://gw.local:8080/api/v1/users");
  EXPECT_EQ(RequestUrl(req, "https://x.example"), "https://x.example/api/v1/users");
  req.headers = {{"host", "evil\"><script>"}};
  EXPECT_EQ(RequestUrl(req, ""), "https://localhost/api/v1/users");
}

}  // namespace
}  // namespace portunus::gateway
