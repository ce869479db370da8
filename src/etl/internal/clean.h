// Lenient typing of raw CSV text into the target types (the ETL's cleaning step).
//
// The CSV reader is strict on purpose (a value it loads is exactly what the sniffer promised);
// the ETL reads raw text and cleans it here, so that the dirt of real exports becomes data and
// only what cannot be read goes to quarantine:
//   DOUBLE  surrounding spaces, a currency sign or code ($ € £ ¥ USD EUR GBP), thousands
//           separators ("1,234.50") and accounting negatives ("(12.50)") are removed.
//   DATE    the column's own format first, then every date format the sniffer knows
//           (%Y-%m-%d, %Y/%m/%d, %m/%d/%Y and %d/%m/%Y in the order the column's format implies,
//           %d.%m.%Y), and ISO timestamps (their date part).
//   BIGINT  like DOUBLE, but the value must be whole.
//   VARCHAR kept as it is (mapping expressions trim or upper-case where a job says so).
// Null tokens ("", NULL, NA, N/A after trimming spaces) are NULL, never 0.
// Thread safety: Cleaner is immutable after Make and safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "formats/csv/value_parse.h"

namespace saleslake::etl::internal {

enum class CleanOutcome : uint8_t {
  kValue,  // parsed as it was
  kFixed,  // parsed after removing dirt (counted in the report)
  kNull,   // a null token
  kError,  // cannot be read as the type: the row goes to quarantine
};

class Cleaner {
 public:
  // `format`: the column's DATE/TIMESTAMP format from the sniffer ("" = ISO 8601).
  // `null_tokens`: compared after trimming spaces.
  static Result<Cleaner> Make(DataType type, std::string_view format,
                              std::vector<std::string> null_tokens = {"", "NULL", "NA", "N/A"});

  const DataType& type() const { return type_; }

  CleanOutcome CleanDouble(std::string_view raw, double* out) const;
  CleanOutcome CleanInt64(std::string_view raw, int64_t* out) const;
  CleanOutcome CleanDate(std::string_view raw, int32_t* out) const;
  CleanOutcome CleanTimestamp(std::string_view raw, int64_t* out) const;
  CleanOutcome CleanBool(std::string_view raw, bool* out) const;
  bool IsNull(std::string_view raw) const;

  // "cannot read 'soon' as DATE (formats tried: %Y-%m-%d, ...)" for quarantine reasons.
  std::string ErrorReason(std::string_view raw) const;

 private:
  Cleaner() = default;
  DataType type_;
  std::vector<csv::DateTimeFormat> formats_;  // tried in order
  std::vector<std::string> null_tokens_;
};

}  // namespace saleslake::etl::internal
