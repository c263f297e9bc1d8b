#include "services/catalog/notification_parser.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "services/common/registry_client.h"

namespace portunus::catalog {
namespace {

constexpr size_t kMaxStoredPayload = 64 << 10;  // raw input kept with a rejected event
constexpr size_t kMaxEventId = 255;

// Valid UTF-8 without NUL bytes (PostgreSQL text accepts nothing else): every invalid
// sequence and NUL becomes U+FFFD, so storing an event can never fail on its bytes.
std::string Sanitize(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0x01 && c < 0x80) {  // a run of ASCII goes over in one piece
      size_t j = i + 1;
      while (j < n && p[j] >= 0x01 && p[j] < 0x80) ++j;
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Reject overlong forms, surrogates and values above U+10FFFF.
    ok = ok && !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) &&
         !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

std::string Truncate(absl::string_view s, size_t n) {
  return Sanitize(s.substr(0, std::min(s.size(), n)));
}

NewEvent Rejected(std::string id, std::string reason, absl::string_view payload) {
  NewEvent e;
  e.event_id = std::move(id);
  e.status = EventStatus::kRejected;
  e.reject_reason = std::move(reason);
  e.payload = Truncate(payload, kMaxStoredPayload);
  return e;
}

std::string StringField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return Truncate(it->get<std::string>(), 4096);
}

// object[key], or null when `object` is not an object or lacks `key` (no copy either way).
const nlohmann::json& Member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json* const kNull = new nlohmann::json();
  if (!object.is_object()) return *kNull;
  auto it = object.find(key);
  return it == object.end() ? *kNull : *it;
}

bool IsSchema1(absl::string_view media_type) {
  return absl::StartsWith(media_type, "application/vnd.docker.distribution.manifest.v1");
}

// Returns false (with *ignored set or the event rejected) when the event is not kept.
void ParseEvent(const nlohmann::json& ev, ParsedNotification* out) {
  const std::string raw = ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!ev.is_object()) {
    out->events.push_back(
        Rejected(absl::StrCat("rejected:", Sha256Digest(raw)), "event is not a JSON object", raw));
    return;
  }
  std::string id = StringField(ev, "id");
  if (id.empty() || id.size() > kMaxEventId) {
    out->events.push_back(Rejected(absl::StrCat("rejected:", Sha256Digest(raw)),
                                   id.empty() ? "event has no id" : "event id is too long", raw));
    return;
  }
  NewEvent e;
  e.event_id = id;
  e.payload = Truncate(raw, kMaxStoredPayload);
  e.action = StringField(ev, "action");
  const nlohmann::json& target = Member(ev, "target");
  e.repository = StringField(target, "repository");
  e.tag = StringField(target, "tag");
  e.digest = StringField(target, "digest");
  e.media_type = StringField(target, "mediaType");
  e.actor = StringField(Member(ev, "actor"), "name");
  const std::string method = StringField(Member(ev, "request"), "method");
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, StringField(ev, "timestamp"), &t, &err)) {
    e.event_time = t;
  }
  auto reject = [&](const std::string& reason) {
    e.status = EventStatus::kRejected;
    e.reject_reason = reason;
    out->events.push_back(std::move(e));
  };

  if (e.action != "push" && e.action != "pull" && e.action != "delete" && e.action != "mount") {
    return reject(e.action.empty() ? "event has no action"
                                   : absl::StrCat("unknown action \"", Truncate(e.action, 50), "\""));
  }
  if (!target.is_object()) return reject("event has no target");
  if (!IsValidRepositoryName(e.repository)) {
    return reject(e.repository.empty()
                      ? "target has no repository"
                      : absl::StrCat("invalid repository name \"", Truncate(e.repository, 300), "\""));
  }
  if (!e.tag.empty() && !IsValidTag(e.tag)) {
    return reject(absl::StrCat("invalid tag \"", Truncate(e.tag, 200), "\""));
  }
  if (!e.digest.empty() && !IsValidDigest(e.digest)) {
    return reject(absl::StrCat("invalid digest \"", Truncate(e.digest, 200), "\""));
  }

  if (e.action == "push" || e.action == "pull") {
    if (IsSchema1(e.media_type)) {
      return reject(absl::StrCat("schema1 manifests are not supported (", e.media_type, ")"));
    }
    if (!IsManifestMediaType(e.media_type)) {  // a blob (layer or config)
      ++out->ignored;
      return;
    }
    if (e.action == "pull" && method == "HEAD") {  // an existence check, not a pull
      ++out->ignored;
      return;
    }
    if (e.digest.empty()) return reject("manifest event has no digest");
    if (e.action == "push" && e.tag.empty()) {  // pushed by digest: recorded when tagged
      ++out->ignored;
      return;
    }
  } else if (e.action == "delete") {
    if (e.digest.empty() && e.tag.empty()) return reject("delete event has neither digest nor tag");
  }
  out->events.push_back(std::move(e));
}

}  // namespace

bool IsAcceptedNotificationContentType(absl::string_view content_type) {
  const std::string bare = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
  return bare == "application/vnd.docker.distribution.events.v1+json" ||
         bare == "application/vnd.docker.distribution.events.v2+json" ||
         bare == "application/json";
}

ParsedNotification ParseNotification(absl::string_view content_type, absl::string_view body) {
  ParsedNotification out;
  // The id of a notification rejected as a whole: the same body is the same rejection.
  auto body_id = [body] { return absl::StrCat("rejected:", Sha256Digest(body)); };
  if (!IsAcceptedNotificationContentType(content_type)) {
    out.events.push_back(Rejected(
        body_id(),
        absl::StrCat("unsupported content type \"", Truncate(content_type, 100),
                     "\" (expected application/vnd.docker.distribution.events.v1+json)"),
        body));
    return out;
  }
  nlohmann::json envelope = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (envelope.is_discarded()) {
    out.events.push_back(Rejected(body_id(), "body is not valid JSON", body));
    return out;
  }
  const nlohmann::json& events = Member(envelope, "events");
  if (!events.is_array()) {
    out.events.push_back(
        Rejected(body_id(), "body is not a notification envelope {\"events\": [...]}", body));
    return out;
  }
  for (const nlohmann::json& ev : events) ParseEvent(ev, &out);
  return out;
}

}  // namespace portunus::catalog
