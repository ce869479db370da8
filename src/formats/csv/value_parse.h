// Text -> typed value parsers shared by the CSV reader, the sniffer and the ETL (which re-types
// single values, e.g. when a cleaning rule rewrites a field). One definition of "conforms" keeps
// the sniffer's verdict and the reader's behaviour identical: a value the sniffer counted as
// conforming is a value the reader loads.
//
// All functions are pure and thread-safe; none allocates on the success path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace saleslake::csv {

// Leading/trailing ASCII spaces and tabs removed (numbers, dates and booleans tolerate padding;
// VARCHAR values are never trimmed).
std::string_view TrimSpaces(std::string_view s);

// true/false, t/f, yes/no, y/n, 1/0, case-insensitive, after TrimSpaces.
bool ParseBool(std::string_view s, bool* out);
// [+-]digits after TrimSpaces; false on overflow or any other character.
bool ParseInt64(std::string_view s, int64_t* out);
bool ParseInt32(std::string_view s, int32_t* out);
// Decimal or scientific notation (fast_float), plus inf/nan; a leading '+' is allowed.
bool ParseDouble(std::string_view s, double* out);
// Like ParseDouble but refuses inf/nan spellings: used by the sniffer so that a text column that
// happens to hold "NaN" or "Infinity" is not typed DOUBLE.
bool ParseFiniteDouble(std::string_view s, double* out);
// [+-]digits[.digits] into an unscaled integer of `scale` decimals; extra decimals are rounded
// half away from zero. False when the result needs more than `precision` digits.
bool ParseDecimal(std::string_view s, uint8_t precision, uint8_t scale, __int128* out);

// A compiled strptime-style date/timestamp format.
//
// Directives: %Y (4-digit year), %m %d %H %I %M %S (1 or 2 digits), %f (1-9 fraction digits,
// kept to microseconds), %p (AM/PM), %% (a percent sign); any other byte matches itself.
// Leniencies that real exports need, applied by every format:
//   - a ' ' in the format also matches 'T' (ISO 8601);
//   - after %S an optional ".fraction" is accepted;
//   - the value may stop before a time part: "2024-01-05" parses with "%Y-%m-%d %H:%M:%S" as
//     midnight, and "2024-01-05 10:30" as 10:30:00 (the missing fields are zero);
//   - a timestamp may end in "Z", "UTC" or an offset [+-]HH[:MM], converted to UTC.
// The empty format means ISO 8601: "%Y-%m-%d" for dates, "%Y-%m-%d %H:%M:%S" for timestamps.
// Thread safety: immutable after Compile; share freely.
class DateTimeFormat {
 public:
  DateTimeFormat();  // ISO 8601
  // kInvalidArgument for an unknown directive, a trailing '%', or a format without %Y, %m, %d.
  static Result<DateTimeFormat> Compile(std::string_view format);

  // Days since 1970-01-01; nullopt when `s` does not match or is not a real date. A date column
  // refuses values with a non-zero time of day.
  std::optional<int32_t> ParseDate(std::string_view s) const;
  // Microseconds since 1970-01-01 UTC.
  std::optional<int64_t> ParseTimestamp(std::string_view s) const;

  const std::string& text() const { return text_; }

 private:
  enum class Kind : uint8_t { kLiteral, kYear, kMonth, kDay, kHour, kHour12, kMinute, kSecond,
                              kFraction, kAmPm };
  struct Token {
    Kind kind;
    char literal;
  };
  struct Uncompiled {};
  explicit DateTimeFormat(Uncompiled) {}
  // Parses into civil fields; `micros_of_day` is the time part.
  bool Parse(std::string_view s, int32_t* days, int64_t* micros_of_day) const;

  std::string text_;
  std::vector<Token> tokens_;
};

}  // namespace saleslake::csv
