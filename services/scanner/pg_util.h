// Small conversions shared by the scanner's PostgreSQL adapters (pg_*.cc only): PostgreSQL
// array literals, timestamps, text arrays read back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "pqxx/pqxx"

namespace portunus::scanner::pg {

// A text[] literal: {"a","b"} with '"' and '\' escaped.
std::string TextArray(const std::vector<std::string>& values);
// Reads a text[] field.
std::vector<std::string> ReadTextArray(const pqxx::field& f);
// Reads an int[]/bigint[] field.
std::vector<int64_t> ReadIntArray(const pqxx::field& f);
// A timestamptz literal (UTC, microseconds); "" for InfinitePast (bind as NULL with NullIfEmpty).
std::string Timestamp(absl::Time t);
// A field holding epoch microseconds (SQL: (extract(epoch from x) * 1000000)::bigint), NULL ->
// InfinitePast.
absl::Time ReadMicros(const pqxx::field& f);
// SQL expression for a timestamptz column as epoch microseconds.
std::string MicrosOf(absl::string_view column);

}  // namespace portunus::scanner::pg
