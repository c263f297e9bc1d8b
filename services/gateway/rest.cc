#include "services/gateway/rest.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "services/common/log.h"
#include "services/common/status_mapping.h"

namespace portunus::gateway {
namespace {

namespace pb = google::protobuf;
using Json = nlohmann::json;

constexpr int kMaxJsonDepth = 64;
constexpr char kJsonContentType[] = "application/json; charset=utf-8";

// ---- printing ---------------------------------------------------------------------------------

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, r.ptr);
  }
}

void AppendFloat(float v, std::string* out) {
  if (std::isnan(v) || std::isinf(v)) return AppendDouble(v, out);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendEnum(const pb::EnumDescriptor* type, int number, std::string* out) {
  const pb::EnumValueDescriptor* value = type->FindValueByNumber(number);
  if (value == nullptr) {
    absl::StrAppend(out, number);
    return;
  }
  AppendJsonString(absl::AsciiStrToLower(value->name()), out);
}

// "2024-01-02T03:04:05.000Z": milliseconds always (as Rails prints Portus's times), micro- or
// nanoseconds only when the value has them.
void AppendTimestamp(int64_t seconds, int32_t nanos, std::string* out) {
  constexpr int64_t kMin = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  if (seconds < kMin || seconds > kMax || nanos < 0 || nanos > 999999999) {
    out->append("null");
    return;
  }
  std::string text = absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(seconds),
                                      absl::UTCTimeZone());
  if (nanos % 1000000 == 0) {
    absl::StrAppend(&text, ".", absl::Dec(nanos / 1000000, absl::kZeroPad3));
  } else if (nanos % 1000 == 0) {
    absl::StrAppend(&text, ".", absl::Dec(nanos / 1000, absl::kZeroPad6));
  } else {
    absl::StrAppend(&text, ".", absl::Dec(nanos, absl::kZeroPad9));
  }
  text.push_back('Z');
  AppendJsonString(text, out);
}

void AppendDuration(int64_t seconds, int32_t nanos, std::string* out) {
  std::string text;
  const bool negative = seconds < 0 || nanos < 0;
  const uint64_t s = seconds < 0 ? 0 - static_cast<uint64_t>(seconds) : static_cast<uint64_t>(seconds);
  const int32_t n = nanos < 0 ? -nanos : nanos;
  if (negative) text.push_back('-');
  absl::StrAppend(&text, s);
  if (n != 0) {
    if (n % 1000000 == 0) {
      absl::StrAppend(&text, ".", absl::Dec(n / 1000000, absl::kZeroPad3));
    } else if (n % 1000 == 0) {
      absl::StrAppend(&text, ".", absl::Dec(n / 1000, absl::kZeroPad6));
    } else {
      absl::StrAppend(&text, ".", absl::Dec(n, absl::kZeroPad9));
    }
  }
  text.push_back('s');
  AppendJsonString(text, out);
}

void AppendMessage(const pb::Message& m, std::string* out);

// One value of field `f`: the singular value when index < 0, else element `index`.
void AppendValue(const pb::Message& m, const pb::FieldDescriptor* f, int index, std::string* out) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      return;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      AppendDouble(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f), out);
      return;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      AppendFloat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f), out);
      return;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
      return;
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      AppendEnum(f->enum_type(), rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f),
                 out);
      return;
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      if (f->type() == pb::FieldDescriptor::TYPE_BYTES) {
        AppendJsonString(absl::Base64Escape(s), out);
      } else {
        AppendJsonString(s, out);
      }
      return;
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), out);
      return;
  }
}

// The key of a map entry as a JSON object key, plus an ordering key.
struct MapKey {
  std::string text;
  int64_t i = 0;
  uint64_t u = 0;
};

void AppendMap(const pb::Message& m, const pb::FieldDescriptor* f, std::string* out) {
  const pb::Reflection* r = m.GetReflection();
  const pb::FieldDescriptor* key_f = f->message_type()->map_key();
  const pb::FieldDescriptor* value_f = f->message_type()->map_value();
  const int n = r->FieldSize(m, f);
  std::vector<std::pair<MapKey, const pb::Message*>> entries;
  entries.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const pb::Message& entry = r->GetRepeatedMessage(m, f, i);
    const pb::Reflection* er = entry.GetReflection();
    MapKey key;
    switch (key_f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32:
        key.i = er->GetInt32(entry, key_f);
        key.text = absl::StrCat(key.i);
        break;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        key.i = er->GetInt64(entry, key_f);
        key.text = absl::StrCat(key.i);
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        key.u = er->GetUInt32(entry, key_f);
        key.text = absl::StrCat(key.u);
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        key.u = er->GetUInt64(entry, key_f);
        key.text = absl::StrCat(key.u);
        break;
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        key.u = er->GetBool(entry, key_f) ? 1 : 0;
        key.text = key.u ? "true" : "false";
        break;
      default:
        key.text = er->GetString(entry, key_f);
        break;
    }
    entries.emplace_back(std::move(key), &entry);
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    if (a.first.i != b.first.i) return a.first.i < b.first.i;
    if (a.first.u != b.first.u) return a.first.u < b.first.u;
    return a.first.text < b.first.text;
  });
  out->push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(entries[i].first.text, out);
    out->push_back(':');
    AppendValue(*entries[i].second, value_f, -1, out);
  }
  out->push_back('}');
}

void AppendStructValue(const pb::Message& value, std::string* out);

void AppendStruct(const pb::Message& s, std::string* out) {
  // google.protobuf.Struct: map<string, Value> fields = 1.
  const pb::FieldDescriptor* fields = s.GetDescriptor()->FindFieldByNumber(1);
  const pb::Reflection* r = s.GetReflection();
  std::vector<std::pair<std::string, const pb::Message*>> entries;
  for (int i = 0; i < r->FieldSize(s, fields); ++i) {
    const pb::Message& entry = r->GetRepeatedMessage(s, fields, i);
    const pb::Descriptor* ed = entry.GetDescriptor();
    entries.emplace_back(entry.GetReflection()->GetString(entry, ed->map_key()),
                         &entry.GetReflection()->GetMessage(entry, ed->map_value()));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out->push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(entries[i].first, out);
    out->push_back(':');
    AppendStructValue(*entries[i].second, out);
  }
  out->push_back('}');
}

void AppendListValue(const pb::Message& list, std::string* out) {
  const pb::FieldDescriptor* values = list.GetDescriptor()->FindFieldByNumber(1);
  const pb::Reflection* r = list.GetReflection();
  out->push_back('[');
  for (int i = 0; i < r->FieldSize(list, values); ++i) {
    if (i > 0) out->push_back(',');
    AppendStructValue(r->GetRepeatedMessage(list, values, i), out);
  }
  out->push_back(']');
}

void AppendStructValue(const pb::Message& value, std::string* out) {
  const pb::Reflection* r = value.GetReflection();
  const pb::OneofDescriptor* kind = value.GetDescriptor()->FindOneofByName("kind");
  const pb::FieldDescriptor* f = r->GetOneofFieldDescriptor(value, kind);
  if (f == nullptr || f->name() == "null_value") {
    out->append("null");
  } else if (f->name() == "number_value") {
    AppendDouble(r->GetDouble(value, f), out);
  } else if (f->name() == "string_value") {
    AppendJsonString(r->GetString(value, f), out);
  } else if (f->name() == "bool_value") {
    out->append(r->GetBool(value, f) ? "true" : "false");
  } else if (f->name() == "struct_value") {
    AppendStruct(r->GetMessage(value, f), out);
  } else {
    AppendListValue(r->GetMessage(value, f), out);
  }
}

bool IsWrapper(const std::string& full_name) {
  static const char* const kWrappers[] = {
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  for (const char* w : kWrappers) {
    if (full_name == w) return true;
  }
  return false;
}

// Well-known types with a JSON form of their own; false when `m` is an ordinary message.
bool AppendWellKnown(const pb::Message& m, std::string* out) {
  const pb::Descriptor* d = m.GetDescriptor();
  if (d->file()->package() != "google.protobuf") return false;
  const std::string& name = d->full_name();
  const pb::Reflection* r = m.GetReflection();
  if (name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration") {
    const int64_t seconds = r->GetInt64(m, d->FindFieldByNumber(1));
    const int32_t nanos = r->GetInt32(m, d->FindFieldByNumber(2));
    if (name == "google.protobuf.Timestamp") {
      AppendTimestamp(seconds, nanos, out);
    } else {
      AppendDuration(seconds, nanos, out);
    }
    return true;
  }
  if (IsWrapper(name)) {
    AppendValue(m, d->FindFieldByNumber(1), -1, out);
    return true;
  }
  if (name == "google.protobuf.Struct") {
    AppendStruct(m, out);
    return true;
  }
  if (name == "google.protobuf.Value") {
    AppendStructValue(m, out);
    return true;
  }
  if (name == "google.protobuf.ListValue") {
    AppendListValue(m, out);
    return true;
  }
  if (name == "google.protobuf.FieldMask") {
    std::vector<std::string> paths;
    const pb::FieldDescriptor* f = d->FindFieldByNumber(1);
    for (int i = 0; i < r->FieldSize(m, f); ++i) paths.push_back(r->GetRepeatedString(m, f, i));
    AppendJsonString(absl::StrJoin(paths, ","), out);
    return true;
  }
  if (name == "google.protobuf.Any") {
    std::string json;
    pb::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (pb::util::MessageToJsonString(m, &json, options).ok()) {
      out->append(json);
    } else {
      out->append("null");
    }
    return true;
  }
  return false;
}

void AppendMessage(const pb::Message& m, std::string* out) {
  if (AppendWellKnown(m, out)) return;
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  out->push_back('{');
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (i > 0) out->push_back(',');
    AppendJsonString(f->name(), out);
    out->push_back(':');
    if (f->is_map()) {
      AppendMap(m, f, out);
    } else if (f->is_repeated()) {
      out->push_back('[');
      const int n = r->FieldSize(m, f);
      for (int j = 0; j < n; ++j) {
        if (j > 0) out->push_back(',');
        AppendValue(m, f, j, out);
      }
      out->push_back(']');
    } else if (f->has_presence() && !r->HasField(m, f)) {
      out->append("null");
    } else {
      AppendValue(m, f, -1, out);
    }
  }
  out->push_back('}');
}

// ---- parsing ----------------------------------------------------------------------------------

// Thrown from the parser callback when the document nests too deeply.
struct TooDeep {};

// Tracks where the parser is, so an error inside a value (a number beyond double) can name it.
class PathTracker {
 public:
  void OnEvent(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        frames_.push_back(Frame{event == Json::parse_event_t::array_start, "", 0});
        if (frames_.size() > static_cast<size_t>(kMaxJsonDepth)) throw TooDeep{};
        break;
      case Json::parse_event_t::key:
        if (!frames_.empty()) frames_.back().key = parsed.get<std::string>();
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        AfterValue();
        break;
      case Json::parse_event_t::value:
        AfterValue();
        break;
    }
  }

  // Whether the innermost open container is an array.
  bool InArray() const { return !frames_.empty() && frames_.back().array; }

  // The path of the innermost open container (Path() without the current key).
  std::string ContainerPath() const {
    PathTracker parent = *this;
    if (!parent.frames_.empty() && !parent.frames_.back().array) parent.frames_.back().key.clear();
    return parent.Path();
  }

  std::string Path() const {
    std::string path;
    for (const Frame& f : frames_) {
      if (f.array) {
        absl::StrAppend(&path, "[", f.index, "]");
      } else if (!f.key.empty()) {
        if (!path.empty()) path.push_back('.');
        path.append(f.key);
      }
    }
    return path;
  }

 private:
  struct Frame {
    bool array;
    std::string key;
    int64_t index;
  };
  void AfterValue() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  std::vector<Frame> frames_;
};

// Whether the string that holds body[pos] is an object key: the character before its opening
// quote (skipping blanks) is '{', or ',' inside an object.
bool StringIsKey(absl::string_view body, size_t pos, bool in_array) {
  if (body.empty()) return false;
  size_t i = std::min(pos, body.size() - 1);
  while (i > 0) {
    --i;
    if (body[i] != '"') continue;
    size_t backslashes = 0;
    for (size_t j = i; j > 0 && body[j - 1] == '\\'; --j) ++backslashes;
    if (backslashes % 2 == 0) break;  // the opening quote
  }
  while (i > 0 && absl::ascii_isspace(static_cast<unsigned char>(body[i - 1]))) --i;
  if (i == 0) return false;
  const char before = body[i - 1];
  return before == '{' || (before == ',' && !in_array);
}

std::string StripNlohmannPrefix(const std::string& what) {
  // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> the text after "] ".
  const size_t close = what.find("] ");
  return close == std::string::npos ? what : what.substr(close + 2);
}

std::string FieldPath(const std::string& parent, absl::string_view name) {
  return parent.empty() ? std::string(name) : absl::StrCat(parent, ".", name);
}

template <class T>
absl::Status CheckIntegerRange(Json& v, const std::string& path) {
  const auto lo = std::numeric_limits<T>::min();
  const auto hi = std::numeric_limits<T>::max();
  const std::string range = absl::StrCat("must be an integer between ", lo, " and ", hi);
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    const int64_t x = v.get<int64_t>();
    if (x < 0 && lo == 0) return InvalidFieldError(path, range);
    if (x >= 0 && static_cast<uint64_t>(x) > static_cast<uint64_t>(hi)) {
      return InvalidFieldError(path, range);
    }
    if (x < 0 && x < static_cast<int64_t>(lo)) return InvalidFieldError(path, range);
    return absl::OkStatus();
  }
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(hi)) return InvalidFieldError(path, range);
    return absl::OkStatus();
  }
  if (v.is_number_float()) {
    const double x = v.get<double>();
    if (std::floor(x) != x) return InvalidFieldError(path, "must be an integer");
    // Doubles hold integers exactly up to 2^53; beyond the type's range is out of range.
    if (x < static_cast<double>(lo) || x >= static_cast<double>(hi) + 1.0) {
      return InvalidFieldError(path, range);
    }
    if (std::is_signed<T>::value) {
      v = static_cast<int64_t>(x);
    } else {
      v = static_cast<uint64_t>(x);
    }
    return absl::OkStatus();
  }
  if (v.is_string()) {  // proto3 JSON allows quoted integers
    const std::string& s = v.get_ref<const std::string&>();
    if (std::is_signed<T>::value) {
      int64_t x;
      if (!absl::SimpleAtoi(s, &x)) return InvalidFieldError(path, "must be an integer");
      if (x < static_cast<int64_t>(lo) || x > static_cast<int64_t>(hi)) {
        return InvalidFieldError(path, range);
      }
      v = x;
    } else {
      uint64_t x;
      if (s.empty() || s[0] == '-' || !absl::SimpleAtoi(s, &x)) {
        return InvalidFieldError(path, s.rfind('-', 0) == 0 ? range : "must be an integer");
      }
      if (x > static_cast<uint64_t>(hi)) return InvalidFieldError(path, range);
      v = x;
    }
    return absl::OkStatus();
  }
  return InvalidFieldError(path, "must be an integer");
}

absl::Status CheckFloating(Json& v, const std::string& path, bool is_float) {
  if (v.is_number()) {
    const double x = v.get<double>();
    if (is_float && std::isfinite(x) && std::fabs(x) > std::numeric_limits<float>::max()) {
      return InvalidFieldError(path, "is out of range for a 32-bit float");
    }
    return absl::OkStatus();
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN" || s == "Infinity" || s == "-Infinity") return absl::OkStatus();
    double x;
    if (absl::SimpleAtod(s, &x) && std::isfinite(x)) {
      v = x;
      return CheckFloating(v, path, is_float);
    }
  }
  return InvalidFieldError(path, "must be a number");
}

absl::Status CheckMessage(Json& j, const pb::Descriptor* d, const std::string& path, int depth);

absl::Status CheckEnum(Json& v, const pb::EnumDescriptor* type, const std::string& path) {
  const pb::EnumValueDescriptor* value = nullptr;
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    value = type->FindValueByName(s);
    if (value == nullptr) {
      for (int i = 0; i < type->value_count(); ++i) {
        if (absl::EqualsIgnoreCase(type->value(i)->name(), s)) {
          value = type->value(i);
          break;
        }
      }
    }
  } else if (v.is_number_integer()) {
    // nlohmann stores non-negative literals as unsigned.
    const bool too_big = v.is_number_unsigned() &&
                         v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
    const int64_t n = too_big ? -1 : v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>())
                                                           : v.get<int64_t>();
    if (!too_big && n >= std::numeric_limits<int32_t>::min() &&
        n <= std::numeric_limits<int32_t>::max()) {
      value = type->FindValueByNumber(static_cast<int>(n));
    }
  }
  if (value == nullptr) {
    std::vector<std::string> names;
    for (int i = 0; i < type->value_count(); ++i) {
      names.push_back(absl::AsciiStrToLower(type->value(i)->name()));
    }
    return InvalidFieldError(path, absl::StrCat("must be one of: ", absl::StrJoin(names, ", ")));
  }
  v = value->name();
  return absl::OkStatus();
}

// Checks one value (a singular field, a list element or a map value) against field `f`.
absl::Status CheckValue(Json& v, const pb::FieldDescriptor* f, const std::string& path,
                        int depth) {
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return CheckIntegerRange<int32_t>(v, path);
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return CheckIntegerRange<int64_t>(v, path);
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return CheckIntegerRange<uint32_t>(v, path);
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return CheckIntegerRange<uint64_t>(v, path);
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return CheckFloating(v, path, /*is_float=*/false);
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      return CheckFloating(v, path, /*is_float=*/true);
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      if (!v.is_boolean()) return InvalidFieldError(path, "must be true or false");
      return absl::OkStatus();
    case pb::FieldDescriptor::CPPTYPE_STRING:
      if (!v.is_string()) return InvalidFieldError(path, "must be a string");
      if (f->type() == pb::FieldDescriptor::TYPE_BYTES) {
        std::string decoded;
        const std::string& s = v.get_ref<const std::string&>();
        if (!absl::Base64Unescape(s, &decoded) && !absl::WebSafeBase64Unescape(s, &decoded)) {
          return InvalidFieldError(path, "must be base64");
        }
      }
      return absl::OkStatus();
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      return CheckEnum(v, f->enum_type(), path);
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      return CheckMessage(v, f->message_type(), path, depth + 1);
  }
  return absl::OkStatus();
}

// Well-known types with their own JSON form. Returns true with *status set when `d` is one.
bool CheckWellKnown(Json& j, const pb::Descriptor* d, const std::string& path, int depth,
                    absl::Status* status) {
  if (d->file()->package() != "google.protobuf") return false;
  const std::string& name = d->full_name();
  if (name == "google.protobuf.Timestamp") {
    absl::Time t;
    std::string err;
    if (!j.is_string() ||
        !absl::ParseTime(absl::RFC3339_full, j.get_ref<const std::string&>(), &t, &err)) {
      *status = InvalidFieldError(path, "must be an RFC 3339 time such as 2024-01-02T03:04:05Z");
    } else {
      *status = absl::OkStatus();
    }
    return true;
  }
  if (name == "google.protobuf.Duration") {
    absl::Duration ignored;
    const bool ok = j.is_string() && absl::EndsWith(j.get_ref<const std::string&>(), "s") &&
                    absl::ParseDuration(j.get_ref<const std::string&>(), &ignored);
    *status = ok ? absl::OkStatus() : InvalidFieldError(path, "must be a duration such as \"1.5s\"");
    return true;
  }
  if (IsWrapper(name)) {
    *status = CheckValue(j, d->FindFieldByNumber(1), path, depth);
    return true;
  }
  if (name == "google.protobuf.Struct") {
    *status = j.is_object() ? absl::OkStatus() : InvalidFieldError(path, "must be an object");
    return true;
  }
  if (name == "google.protobuf.ListValue") {
    *status = j.is_array() ? absl::OkStatus() : InvalidFieldError(path, "must be an array");
    return true;
  }
  if (name == "google.protobuf.Value") {
    *status = absl::OkStatus();
    return true;
  }
  if (name == "google.protobuf.FieldMask") {
    *status = j.is_string() ? absl::OkStatus() : InvalidFieldError(path, "must be a string");
    return true;
  }
  if (name == "google.protobuf.Any") {
    *status = j.is_object() ? absl::OkStatus() : InvalidFieldError(path, "must be an object");
    return true;
  }
  return false;
}

absl::Status CheckMapKey(const std::string& key, const pb::FieldDescriptor* key_f,
                         const std::string& path) {
  switch (key_f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      if (key != "true" && key != "false") return InvalidFieldError(path, "key must be true or false");
      return absl::OkStatus();
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return absl::OkStatus();
    default: {
      Json k = key;
      absl::Status s;
      switch (key_f->cpp_type()) {
        case pb::FieldDescriptor::CPPTYPE_INT32:
          s = CheckIntegerRange<int32_t>(k, path);
          break;
        case pb::FieldDescriptor::CPPTYPE_INT64:
          s = CheckIntegerRange<int64_t>(k, path);
          break;
        case pb::FieldDescriptor::CPPTYPE_UINT32:
          s = CheckIntegerRange<uint32_t>(k, path);
          break;
        default:
          s = CheckIntegerRange<uint64_t>(k, path);
          break;
      }
      if (!s.ok()) return InvalidFieldError(path, "key must be an integer in range");
      return absl::OkStatus();
    }
  }
}

absl::Status CheckMessage(Json& j, const pb::Descriptor* d, const std::string& path, int depth) {
  if (depth > kMaxJsonDepth) return InvalidFieldError(path, "is nested too deeply");
  absl::Status wkt;
  if (CheckWellKnown(j, d, path, depth, &wkt)) return wkt;
  if (!j.is_object()) return InvalidFieldError(path, "must be an object");
  std::map<const pb::OneofDescriptor*, std::string> oneofs_seen;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const pb::FieldDescriptor* f = d->FindFieldByName(key);
    for (int i = 0; f == nullptr && i < d->field_count(); ++i) {
      if (d->field(i)->json_name() == key) f = d->field(i);
    }
    if (f == nullptr) return InvalidFieldError(FieldPath(path, key), "unknown field");
    const std::string fpath = FieldPath(path, f->name());
    Json& v = it.value();
    if (v.is_null()) continue;  // not set
    if (const pb::OneofDescriptor* oneof = f->real_containing_oneof()) {
      auto [seen, inserted] = oneofs_seen.emplace(oneof, f->name());
      if (!inserted) {
        return InvalidFieldError(fpath, absl::StrCat("cannot be set together with ", seen->second,
                                                     " (only one of them)"));
      }
    }
    if (f->is_map()) {
      if (!v.is_object()) return InvalidFieldError(fpath, "must be an object");
      const pb::FieldDescriptor* key_f = f->message_type()->map_key();
      const pb::FieldDescriptor* value_f = f->message_type()->map_value();
      for (auto e = v.begin(); e != v.end(); ++e) {
        const std::string epath = absl::StrCat(fpath, "[\"", e.key(), "\"]");
        if (absl::Status s = CheckMapKey(e.key(), key_f, epath); !s.ok()) return s;
        if (e.value().is_null()) return InvalidFieldError(epath, "must not be null");
        if (absl::Status s = CheckValue(e.value(), value_f, epath, depth); !s.ok()) return s;
      }
    } else if (f->is_repeated()) {
      if (!v.is_array()) return InvalidFieldError(fpath, "must be an array");
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string epath = absl::StrCat(fpath, "[", i, "]");
        if (v[i].is_null()) return InvalidFieldError(epath, "must not be null");
        if (absl::Status s = CheckValue(v[i], f, epath, depth); !s.ok()) return s;
      }
    } else {
      if (absl::Status s = CheckValue(v, f, fpath, depth); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// protobuf's JSON parser reports "(path): message", "(path) name: Cannot find field." or
// "name: Cannot find field."; turn those into a field error.
absl::Status FromProtobufJsonError(const absl::Status& s) {
  std::string msg(s.message());
  std::string path;
  if (!msg.empty() && msg[0] == '(') {
    const size_t close = msg.find(')');
    if (close != std::string::npos) {
      path = msg.substr(1, close - 1);
      msg = std::string(absl::StripLeadingAsciiWhitespace(msg.substr(close + 1)));
    }
  }
  if (absl::StartsWith(msg, ":")) msg = std::string(absl::StripLeadingAsciiWhitespace(msg.substr(1)));
  const size_t colon = msg.find(": Cannot find field");
  if (colon != std::string::npos) {
    path = FieldPath(path, msg.substr(0, colon));
    msg = "unknown field";
  }
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("invalid request body: ", msg));
  return InvalidFieldError(path, msg);
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
         c == '[' || c == ']' || c == '_';
}

}  // namespace

// ---- Responses --------------------------------------------------------------------------------

HttpResponse JsonResponse(int status, std::string json) {
  return HttpResponse(status, kJsonContentType, std::move(json));
}

HttpResponse ErrorResponse(const absl::Status& status, absl::string_view request_id) {
  if (status.ok()) {
    LogError("error response requested for an OK status", {{"request_id", request_id}});
    return ErrorResponse(500, "internal error", request_id);
  }
  if (IsInternalCode(status.code())) {
    LogError("internal error", {{"request_id", request_id}, {"error", status.ToString()}});
  }
  return ErrorResponse(HttpStatusFor(status), PublicMessage(status), request_id,
                       ErrorField(status), ErrorRule(status));
}

HttpResponse ErrorResponse(int http_status, absl::string_view message,
                           absl::string_view request_id, absl::string_view field,
                           absl::string_view rule) {
  std::string body = "{\"message\":";
  AppendJsonString(message, &body);
  if (!field.empty()) {
    body.append(",\"field\":");
    AppendJsonString(field, &body);
  }
  if (!rule.empty()) {
    body.append(",\"rule\":");
    AppendJsonString(rule, &body);
  }
  body.append(",\"request_id\":");
  AppendJsonString(request_id, &body);
  body.push_back('}');
  return JsonResponse(http_status, std::move(body));
}

HttpResponse ProtoResponse(int status, const google::protobuf::Message& message) {
  return JsonResponse(status, MessageToJson(message));
}

// ---- protobuf <-> JSON ------------------------------------------------------------------------

std::string MessageToJson(const google::protobuf::Message& message) {
  std::string out;
  AppendMessage(message, &out);
  return out;
}

void AppendMessageJson(const google::protobuf::Message& message, std::string* out) {
  AppendMessage(message, out);
}

absl::Status ParseJsonBody(absl::string_view body, google::protobuf::Message* message) {
  message->Clear();
  if (absl::StripAsciiWhitespace(body).empty()) return absl::OkStatus();
  PathTracker tracker;
  Json doc;
  try {
    doc = Json::parse(body.begin(), body.end(),
                      [&tracker](int, Json::parse_event_t event, Json& parsed) {
                        tracker.OnEvent(event, parsed);
                        return true;
                      });
  } catch (const TooDeep&) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body is not valid JSON: nested deeper than ", kMaxJsonDepth,
                     " levels"));
  } catch (const Json::out_of_range& e) {  // a number beyond double
    const std::string path = tracker.Path();
    if (!path.empty()) return InvalidFieldError(path, "number is out of range");
    return absl::InvalidArgumentError(
        absl::StrCat("request body is not valid JSON: ", StripNlohmannPrefix(e.what())));
  } catch (const Json::parse_error& e) {
    const std::string what = StripNlohmannPrefix(e.what());
    if (absl::StrContains(what, "UTF-8")) {
      // Name the field whose value (or, failing that, the object whose key) is not UTF-8.
      const size_t pos = e.byte > 0 ? e.byte - 1 : 0;
      if (!StringIsKey(body, pos, tracker.InArray())) {
        const std::string path = tracker.Path();
        if (!path.empty()) return InvalidFieldError(path, "is not valid UTF-8");
      } else if (const std::string parent = tracker.ContainerPath(); !parent.empty()) {
        return InvalidFieldError(parent, "has a key that is not valid UTF-8");
      }
    }
    return absl::InvalidArgumentError(absl::StrCat("request body is not valid JSON: ", what));
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("request body is not valid JSON: ", StripNlohmannPrefix(e.what())));
  }
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("request body must be a JSON object");
  }
  if (absl::Status s = CheckMessage(doc, message->GetDescriptor(), "", 0); !s.ok()) return s;

  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  options.case_insensitive_enum_parsing = true;
  const auto s = google::protobuf::util::JsonStringToMessage(doc.dump(), message, options);
  if (!s.ok()) {
    message->Clear();
    return FromProtobufJsonError(absl::InvalidArgumentError(std::string(s.message())));
  }
  return absl::OkStatus();
}

// ---- Paging -----------------------------------------------------------------------------------

absl::StatusOr<PageParams> ParsePaging(const HttpRequest& request, const PagingLimits& limits) {
  PageParams p;
  p.per_page = limits.default_per_page;
  p.sort_attr = limits.default_sort_attr;
  if (request.HasQuery("all")) {
    const std::string v = absl::AsciiStrToLower(request.Query("all"));
    if (v == "true" || v == "1") {
      p.all = true;
    } else if (v != "false" && v != "0") {
      return InvalidFieldError("all", "must be true or false");
    }
  }
  if (request.HasQuery("page")) {
    if (!absl::SimpleAtoi(request.Query("page"), &p.page)) {
      return InvalidFieldError("page", "must be an integer");
    }
    constexpr int64_t kMaxPage = 1000000000;
    if (p.page < 1 || p.page > kMaxPage) {
      return InvalidFieldError("page", absl::StrCat("must be between 1 and ", kMaxPage));
    }
  }
  if (request.HasQuery("per_page")) {
    if (!absl::SimpleAtoi(request.Query("per_page"), &p.per_page)) {
      return InvalidFieldError("per_page", "must be an integer");
    }
    if (p.per_page < 1 || p.per_page > limits.max_per_page) {
      return InvalidFieldError("per_page",
                               absl::StrCat("must be between 1 and ", limits.max_per_page));
    }
  }
  if (request.HasQuery("sort_attr")) {
    const std::string attr = request.Query("sort_attr");
    if (!limits.sort_attrs.empty()) {
      if (std::find(limits.sort_attrs.begin(), limits.sort_attrs.end(), attr) ==
          limits.sort_attrs.end()) {
        return InvalidFieldError("sort_attr", absl::StrCat("must be one of: ",
                                                           absl::StrJoin(limits.sort_attrs, ", ")));
      }
    } else {
      const bool ok = !attr.empty() && attr.size() <= 64 &&
                      std::all_of(attr.begin(), attr.end(), [](char c) {
                        return absl::ascii_islower(static_cast<unsigned char>(c)) ||
                               absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_';
                      });
      if (!ok) return InvalidFieldError("sort_attr", "must be an attribute name ([a-z0-9_]+)");
    }
    p.sort_attr = attr;
  }
  if (request.HasQuery("sort_order")) {
    const std::string order = absl::AsciiStrToLower(request.Query("sort_order"));
    if (order != "asc" && order != "desc") {
      return InvalidFieldError("sort_order", "must be asc or desc");
    }
    p.descending = order == "desc";
  }
  return p;
}

int64_t TotalPages(int64_t total, int64_t per_page) {
  if (per_page <= 0 || total <= 0) return 1;
  return std::max<int64_t>(1, (total + per_page - 1) / per_page);
}

std::string RequestUrl(const HttpRequest& request, absl::string_view external_url) {
  if (!external_url.empty()) {
    return absl::StrCat(absl::StripSuffix(external_url, "/"), request.path);
  }
  std::string host = request.Header("host");
  if (host.empty() || !std::all_of(host.begin(), host.end(), IsHostChar)) host = "localhost";
  return absl::StrCat(request.tls ? "https" : "http", "://", host, request.path);
}

void SetPagingHeaders(const HttpRequest& request, absl::string_view external_url,
                      const PageParams& page, int64_t total, HttpResponse* response) {
  response->SetHeader("X-Total", absl::StrCat(total));
  if (page.all) return;
  const int64_t pages = TotalPages(total, page.per_page);
  const bool out_of_range = page.page > pages;
  const bool has_prev = page.page > 1 && !out_of_range;
  const bool has_next = page.page < pages;
  response->SetHeader("X-Total-Pages", absl::StrCat(pages));
  response->SetHeader("X-Page", absl::StrCat(page.page));
  response->SetHeader("X-Per-Page", absl::StrCat(page.per_page));
  response->SetHeader("X-Next-Page", has_next ? absl::StrCat(page.page + 1) : "");
  response->SetHeader("X-Prev-Page", has_prev ? absl::StrCat(page.page - 1) : "");

  // The other query parameters, kept as they were, sorted by name like Rails's to_query.
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : request.query) {
    if (k != "page" && k != "per_page") params.emplace_back(k, v);
  }
  params.emplace_back("per_page", absl::StrCat(page.per_page));
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::string base = RequestUrl(request, external_url);
  auto link = [&](int64_t n, absl::string_view rel) {
    std::vector<std::pair<std::string, std::string>> q = params;
    q.emplace_back("page", absl::StrCat(n));
    std::stable_sort(q.begin(), q.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string url = base + "?";
    for (size_t i = 0; i < q.size(); ++i) {
      if (i > 0) url.push_back('&');
      absl::StrAppend(&url, PercentEncode(q[i].first), "=", PercentEncode(q[i].second));
    }
    return absl::StrCat("<", url, ">; rel=\"", rel, "\"");
  };
  std::vector<std::string> links;
  if (has_prev) links.push_back(link(page.page - 1, "prev"));
  if (has_next) links.push_back(link(page.page + 1, "next"));
  links.push_back(link(1, "first"));
  links.push_back(link(pages, "last"));
  response->SetHeader("Link", absl::StrJoin(links, ", "));
}

}  // namespace portunus::gateway
