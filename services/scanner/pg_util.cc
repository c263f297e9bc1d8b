#include "services/scanner/pg_util.h"

#include "absl/strings/str_cat.h"

namespace portunus::scanner::pg {

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::vector<std::string> ReadTextArray(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  pqxx::array_parser parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done; item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(item.second);
  }
  return out;
}

std::vector<int64_t> ReadIntArray(const pqxx::field& f) {
  std::vector<int64_t> out;
  if (f.is_null()) return out;
  pqxx::array_parser parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done; item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(std::stoll(item.second));
  }
  return out;
}

std::string Timestamp(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

absl::Time ReadMicros(const pqxx::field& f) {
  if (f.is_null()) return absl::InfinitePast();
  return absl::FromUnixMicros(f.as<int64_t>());
}

std::string MicrosOf(absl::string_view column) {
  return absl::StrCat("(extract(epoch from ", column, ") * 1000000)::bigint");
}

}  // namespace portunus::scanner::pg
