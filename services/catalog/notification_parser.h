// Turns a registry notification POST (content type + body) into the events Portunus stores.
// It never fails: whatever cannot be understood becomes a REJECTED event carrying the reason,
// because the registry retries a refused notification forever, in order, and would stall every
// later event behind it (../shared/ENVIRONMENT.md §5).
//
// Kept: manifest push (with a tag), manifest pull (GET, not HEAD), delete by digest, delete by
// tag, mount. Dropped (counted as ignored): blob push/pull, pulls made by HEAD requests, and
// pushes without a tag (the platform manifests of an index, pushed by digest).
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/catalog/catalog_types.h"

namespace portunus::catalog {

struct ParsedNotification {
  std::vector<NewEvent> events;  // pending and rejected, in envelope order
  int ignored = 0;
};

// Content types the registry uses (events.v1+json, events.v2+json) and application/json.
bool IsAcceptedNotificationContentType(absl::string_view content_type);

ParsedNotification ParseNotification(absl::string_view content_type, absl::string_view body);

}  // namespace portunus::catalog
