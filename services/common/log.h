// Structured logs: one JSON object per line on stderr, with timestamp, level, service, message
// and fields (request_id among them), e.g.
//   {"ts":"2026-11-22T21:42:13.123Z","level":"info","service":"auth","msg":"listening",
//    "addr":"127.0.0.1:50051"}
// `log.format: text` prints the same content as one readable line for local development.
// Never pass secrets (passwords, tokens, webhook secrets) as fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace portunus {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// A field value: string, integer, floating point or boolean.
class LogValue {
 public:
  LogValue(absl::string_view s) : kind_(kString), s_(s) {}  // NOLINT: implicit on purpose
  LogValue(const char* s) : kind_(kString), s_(s ? s : "") {}
  LogValue(const std::string& s) : kind_(kString), s_(s) {}
  LogValue(int v) : kind_(kInt), i_(v) {}
  LogValue(long v) : kind_(kInt), i_(v) {}
  LogValue(long long v) : kind_(kInt), i_(v) {}
  LogValue(unsigned v) : kind_(kInt), i_(v) {}
  LogValue(unsigned long v) : kind_(kInt), i_(static_cast<int64_t>(v)) {}
  LogValue(unsigned long long v) : kind_(kInt), i_(static_cast<int64_t>(v)) {}
  LogValue(double v) : kind_(kDouble), d_(v) {}
  LogValue(bool v) : kind_(kBool), b_(v) {}
  LogValue(absl::Duration d) : kind_(kDouble), d_(absl::ToDoubleSeconds(d)) {}
  LogValue(const absl::Status& s) : kind_(kOwnedString), owned_(s.ToString()), s_(owned_) {}
  LogValue(const LogValue& other);

  // Appends the value as JSON (strings escaped and quoted).
  void AppendJson(std::string* out) const;
  // Appends the value as plain text.
  void AppendText(std::string* out) const;

 private:
  enum Kind { kString, kOwnedString, kInt, kDouble, kBool };
  Kind kind_;
  std::string owned_;
  absl::string_view s_;
  int64_t i_ = 0;
  double d_ = 0;
  bool b_ = false;
};

struct LogField {
  absl::string_view key;
  LogValue value;
};
using LogFields = std::initializer_list<LogField>;

// Configures the process logger. Call once at startup, before other threads log; until then
// logs go to stderr as JSON with service "portunus" at info level.
void InitLogging(absl::string_view service, LogLevel min_level, bool json);

// Parses "debug", "info", "warn"/"warning", "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

bool LogEnabled(LogLevel level);
// Thread-safe; each call writes one whole line.
void Log(LogLevel level, absl::string_view message, LogFields fields = {});
inline void LogDebug(absl::string_view m, LogFields f = {}) { Log(LogLevel::kDebug, m, f); }
inline void LogInfo(absl::string_view m, LogFields f = {}) { Log(LogLevel::kInfo, m, f); }
inline void LogWarn(absl::string_view m, LogFields f = {}) { Log(LogLevel::kWarn, m, f); }
inline void LogError(absl::string_view m, LogFields f = {}) { Log(LogLevel::kError, m, f); }

// Appends `s` as a JSON string literal (with quotes). Invalid UTF-8 becomes U+FFFD, so the
// output is always valid JSON whatever bytes a client sent.
void AppendJsonString(absl::string_view s, std::string* out);

}  // namespace portunus
