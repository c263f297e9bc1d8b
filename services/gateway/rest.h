// Helpers every gateway route file (routes_<area>.cc) uses, so the REST API looks the same
// everywhere and like Portus's:
//   - error responses {"message": ..., "request_id": ...} (+ "field" for validation errors,
//     "rule" for conflicts with the current state), with the HTTP code from
//     services/common/status_mapping.h;
//   - JSON request bodies -> protobuf messages, with 400 for malformed JSON and 422 naming the
//     field for anything the message cannot hold (never 500);
//   - protobuf messages -> JSON in Portus's API shapes (see MessageToJson);
//   - Portus's paging parameters (page, per_page, all, sort_attr, sort_order) and headers
//     (X-Total, X-Total-Pages, X-Page, X-Per-Page, X-Next-Page, X-Prev-Page, Link).
// Everything here is CPU-only and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/http_server.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace portunus::gateway {

// ---- Responses --------------------------------------------------------------------------------

// A response with `json` as body and Content-Type application/json; charset=utf-8.
HttpResponse JsonResponse(int status, std::string json);

// The response for a failed call: HTTP code HttpStatusFor(status) (422 for InvalidFieldError,
// 409 for RuleConflictError), body {"message": PublicMessage(status), "request_id": request_id}
// plus "field" / "rule" when the status names one. Internal/Unknown/DataLoss are logged here with their real message and reach the
// client only as "internal error". An OK status is a caller bug and answers 500.
HttpResponse ErrorResponse(const absl::Status& status, absl::string_view request_id);

// An error response with an explicit HTTP code and message (and optional field and rule).
HttpResponse ErrorResponse(int http_status, absl::string_view message,
                           absl::string_view request_id, absl::string_view field = "",
                           absl::string_view rule = "");

// `message` printed by MessageToJson, with HTTP `status`.
HttpResponse ProtoResponse(int status, const google::protobuf::Message& message);

// ---- protobuf -> JSON -------------------------------------------------------------------------

// Prints `message` as a JSON object in Portus's API shapes:
//   - every field, in .proto order, named exactly as in the .proto (snake_case);
//   - int64/uint64 (and every integer) as JSON numbers, never strings;
//   - enums as their value name in lower case ("USER" -> "user"); an unknown number as a number;
//   - google.protobuf.Timestamp as RFC 3339 UTC with milliseconds ("2024-01-02T03:04:05.000Z",
//     more digits only when needed); Duration as "1.5s"; wrappers as their plain value;
//     Struct/Value/ListValue as the JSON they hold;
//   - unset message fields, unset proto3 `optional` scalars and unset oneof members as null;
//   - scalars always printed, also when zero/empty; repeated as arrays; maps as objects with
//     keys sorted; bytes as base64; NaN/Infinity as the strings "NaN"/"Infinity"/"-Infinity".
std::string MessageToJson(const google::protobuf::Message& message);
void AppendMessageJson(const google::protobuf::Message& message, std::string* out);

// A JSON array of the messages in `messages` (any range of messages, e.g. a RepeatedPtrField).
template <class Messages>
std::string MessagesToJsonArray(const Messages& messages) {
  std::string out = "[";
  bool first = true;
  for (const auto& m : messages) {
    if (!first) out.push_back(',');
    first = false;
    AppendMessageJson(m, &out);
  }
  out.push_back(']');
  return out;
}

// ---- JSON -> protobuf -------------------------------------------------------------------------

// Parses a JSON request body into *message (cleared first). An empty (or all-whitespace) body
// is {}. Field names are the .proto names (the lowerCamelCase JSON names are accepted too);
// enums take the value name in any case or the number of a defined value; integers may be
// quoted; null means "not set". Returns:
//   kInvalidArgument without a field (HTTP 400): "request body is not valid JSON: ..." for bad
//     syntax (or bad UTF-8 outside any field), "request body must be a JSON object", nesting
//     deeper than 64;
//   InvalidFieldError (HTTP 422) naming the field as a path ("user.username",
//     "scopes[2].actions[0]", "labels[\"k\"]"): unknown field, wrong type, number out of range
//     (also numbers beyond double), unknown enum value, bad base64/timestamp, two members of one
//     oneof, a string value that is not UTF-8 (a key that is not: the object holding it).
absl::Status ParseJsonBody(absl::string_view body, google::protobuf::Message* message);

// ---- Paging (Portus's API) --------------------------------------------------------------------

struct PageParams {
  bool all = false;       // all=true: no paging
  int64_t page = 1;       // 1-based
  int64_t per_page = 15;  // Portus's default
  std::string sort_attr;  // as given, or PagingLimits::default_sort_attr
  bool descending = false;  // sort_order=desc (default asc)

  int64_t offset() const { return all ? 0 : (page - 1) * per_page; }
  int64_t limit() const { return all ? 0 : per_page; }  // 0 = no limit
};

struct PagingLimits {
  int64_t default_per_page = 15;
  int64_t max_per_page = 500;
  std::string default_sort_attr = "id";
  // Accepted sort_attr values; empty: any name of [a-z0-9_] (the service decides).
  std::vector<std::string> sort_attrs;
};

// Reads page, per_page, all, sort_attr and sort_order from the query. InvalidFieldError (422)
// naming the parameter for a non-integer or out-of-range page (>= 1) or per_page
// (1..max_per_page), an `all` that is not true/false/1/0, a sort_order other than asc/desc, or
// a sort_attr not allowed by `limits`.
absl::StatusOr<PageParams> ParsePaging(const HttpRequest& request, const PagingLimits& limits = {});

// max(1, ceil(total / per_page)), as Portus reports it.
int64_t TotalPages(int64_t total, int64_t per_page);

// Sets Portus's paging headers for a page of `total` items: X-Total, X-Total-Pages, X-Page,
// X-Per-Page, X-Next-Page and X-Prev-Page (empty when there is none, as in Portus), and an
// RFC 5988 Link header with prev/next (when they exist), first and last URLs, which keep the
// request's other query parameters. With page.all only X-Total is set.
void SetPagingHeaders(const HttpRequest& request, absl::string_view external_url,
                      const PageParams& page, int64_t total, HttpResponse* response);

// The absolute URL of the request's path, without query: external_url + path when
// external_url is set, else scheme (from TLS) + "://" + Host header + path.
std::string RequestUrl(const HttpRequest& request, absl::string_view external_url);

}  // namespace portunus::gateway
