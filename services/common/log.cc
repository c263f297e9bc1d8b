#include "services/common/log.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace portunus {
namespace {

struct LoggerState {
  std::mutex mu;
  std::string service = "portunus";
  LogLevel min_level = LogLevel::kInfo;
  bool json = true;
};

LoggerState& State() {
  static LoggerState* const state = new LoggerState();
  return *state;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

LogValue::LogValue(const LogValue& other)
    : kind_(other.kind_), owned_(other.owned_), s_(other.s_), i_(other.i_), d_(other.d_),
      b_(other.b_) {
  if (kind_ == kOwnedString) s_ = owned_;
}

void LogValue::AppendJson(std::string* out) const {
  switch (kind_) {
    case kString:
    case kOwnedString:
      AppendJsonString(s_, out);
      return;
    case kInt:
      absl::StrAppend(out, i_);
      return;
    case kDouble:
      absl::StrAppend(out, d_);
      return;
    case kBool:
      out->append(b_ ? "true" : "false");
      return;
  }
}

void LogValue::AppendText(std::string* out) const {
  switch (kind_) {
    case kString:
    case kOwnedString:
      if (s_.find_first_of(" \"=") != absl::string_view::npos || s_.empty()) {
        AppendJsonString(s_, out);
      } else {
        out->append(s_.data(), s_.size());
      }
      return;
    default:
      AppendJson(out);
  }
}

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

void InitLogging(absl::string_view service, LogLevel min_level, bool json) {
  LoggerState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  state.service = std::string(service);
  state.min_level = min_level;
  state.json = json;
}

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "debug") {
    *level = LogLevel::kDebug;
  } else if (t == "info") {
    *level = LogLevel::kInfo;
  } else if (t == "warn" || t == "warning") {
    *level = LogLevel::kWarn;
  } else if (t == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

bool LogEnabled(LogLevel level) { return level >= State().min_level; }

void Log(LogLevel level, absl::string_view message, LogFields fields) {
  LoggerState& state = State();
  if (level < state.min_level) return;
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line;
  line.reserve(128 + message.size());
  if (state.json) {
    absl::StrAppend(&line, "{\"ts\":\"", ts, "\",\"level\":\"", LevelName(level),
                    "\",\"service\":");
    AppendJsonString(state.service, &line);
    line.append(",\"msg\":");
    AppendJsonString(message, &line);
    for (const LogField& f : fields) {
      line.push_back(',');
      AppendJsonString(f.key, &line);
      line.push_back(':');
      f.value.AppendJson(&line);
    }
    line.append("}\n");
  } else {
    absl::StrAppend(&line, ts, " ", absl::AsciiStrToUpper(LevelName(level)), " ", state.service,
                    ": ", message);
    for (const LogField& f : fields) {
      absl::StrAppend(&line, " ", f.key, "=");
      f.value.AppendText(&line);
    }
    line.push_back('\n');
  }
  std::lock_guard<std::mutex> lock(state.mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace portunus
