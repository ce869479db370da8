// Logical types, their physical representation, schemas, and date/time arithmetic.
//
// Physical layout of one value in a ColumnVector (the contract every module relies on):
//   kBoolean   -> uint8_t (0 or 1)
//   kInt32     -> int32_t          (SQL INTEGER)
//   kInt64     -> int64_t          (SQL BIGINT)
//   kFloat     -> float            (SQL REAL)
//   kDouble    -> double
//   kDecimal   -> int64_t unscaled when precision <= 18, else __int128 unscaled
//   kVarchar   -> std::string_view (bytes owned by the vector's string heap or a kept-alive buffer)
//   kDate      -> int32_t days since 1970-01-01
//   kTimestamp -> int64_t microseconds since 1970-01-01 00:00:00 UTC
//   kInterval  -> Interval {months, days, micros}
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake {

enum class TypeId : uint8_t {
  kNull,  // the type of a bare NULL literal before coercion
  kBoolean,
  kInt32,
  kInt64,
  kFloat,
  kDouble,
  kDecimal,
  kVarchar,
  kDate,
  kTimestamp,
  kInterval,
};

struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  bool operator==(const Interval&) const = default;
};

struct DataType {
  TypeId id = TypeId::kNull;
  uint8_t precision = 0;  // kDecimal only: 1..38
  uint8_t scale = 0;      // kDecimal only: 0..precision

  static DataType Null() { return {TypeId::kNull}; }
  static DataType Boolean() { return {TypeId::kBoolean}; }
  static DataType Int32() { return {TypeId::kInt32}; }
  static DataType Int64() { return {TypeId::kInt64}; }
  static DataType Float() { return {TypeId::kFloat}; }
  static DataType Double() { return {TypeId::kDouble}; }
  static DataType Decimal(uint8_t p, uint8_t s) { return {TypeId::kDecimal, p, s}; }
  static DataType Varchar() { return {TypeId::kVarchar}; }
  static DataType Date() { return {TypeId::kDate}; }
  static DataType Timestamp() { return {TypeId::kTimestamp}; }
  static DataType IntervalType() { return {TypeId::kInterval}; }

  bool operator==(const DataType&) const = default;
  bool is_numeric() const;
  bool is_integer() const { return id == TypeId::kInt32 || id == TypeId::kInt64; }
  // Decimals of precision > 18 are stored as __int128.
  bool is_wide_decimal() const { return id == TypeId::kDecimal && precision > 18; }
  // Bytes per value in a flat vector (sizeof std::string_view for varchar).
  size_t byte_width() const;
  // SQL name in upper case: BOOLEAN, INTEGER, BIGINT, REAL, DOUBLE, DECIMAL(p,s), VARCHAR, DATE,
  // TIMESTAMP, INTERVAL, NULL (unknown).
  std::string ToString() const;
};

// Parses an SQL type name as ToString prints it, plus common aliases (INT, STRING, TEXT, FLOAT8,
// DECIMAL without arguments = DECIMAL(38,0), ...). Case-insensitive.
Result<DataType> ParseDataType(std::string_view name);

struct Field {
  std::string name;
  DataType type;
  bool nullable = true;
  bool operator==(const Field&) const = default;
};

struct Schema {
  std::vector<Field> fields;

  size_t size() const { return fields.size(); }
  const Field& operator[](size_t i) const { return fields[i]; }
  // Index of the field with this name (exact match first, then case-insensitive), or nullopt.
  std::optional<size_t> FindField(std::string_view name) const;
  bool operator==(const Schema&) const = default;
};

// ---- Calendar arithmetic (proleptic Gregorian, UTC) ----

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400LL * kMicrosPerSecond;

struct CivilDate {
  int32_t year;
  uint8_t month;  // 1..12
  uint8_t day;    // 1..31
};

// Days since 1970-01-01 for a civil date. REQUIRES: a valid date (see IsValidDate).
int32_t DaysFromCivil(int32_t year, unsigned month, unsigned day);
CivilDate CivilFromDays(int32_t days);
bool IsValidDate(int32_t year, unsigned month, unsigned day);
int DaysInMonth(int32_t year, unsigned month);
// 1 = Monday ... 7 = Sunday (ISO, as Trino's day_of_week).
int IsoDayOfWeek(int32_t days);

// "YYYY-MM-DD" (years outside 0..9999 get a sign / more digits, as DuckDB prints them).
std::string FormatDate(int32_t days);
// "YYYY-MM-DD HH:MM:SS", plus ".ffffff" (six digits) when the microseconds are non-zero.
std::string FormatTimestamp(int64_t micros);
// The current UTC time through strftime(3) `format`; the default is ISO 8601 ("2025-08-01T10:00:00Z").
std::string UtcNow(const char* format = "%Y-%m-%dT%H:%M:%SZ");
// Strict ISO parse "YYYY-MM-DD"; nullopt when malformed or not a real date.
std::optional<int32_t> ParseIsoDate(std::string_view s);
// "YYYY-MM-DD[ T]HH:MM[:SS[.fraction]]" with optional trailing Z or +00:00; nullopt when malformed.
std::optional<int64_t> ParseIsoTimestamp(std::string_view s);

}  // namespace saleslake
