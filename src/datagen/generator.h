// Seed-like sales data: a deterministic CRM export with the shape and the statistical signal of
// the original dataset (see docs/DATA.md for every distribution and rate).
//
// Output is CSV with the header purchase_date,customer_id,product_id,amount,region,status.
// The bytes depend only on (rows, seed, messy): rows are produced in fixed chunks of kChunkRows,
// each from its own RNG stream, so the thread count changes speed, never content.
// Thread safety: Generate may run concurrently with itself on different outputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "io/object_store.h"

namespace saleslake::datagen {

struct GenerateOptions {
  uint64_t rows = 1000;
  uint64_t seed = 42;
  // Adds realistic dirt to ~0.5% of rows (DirtKind below, each at kDirtRatePerKind).
  bool messy = false;
  // 0 = ThreadPool::Default().
  int threads = 0;
};

// The kinds of dirt --messy adds; each hits a row with probability kDirtRatePerKind, except
// kBlankLine, which adds an empty line after a row with that probability.
enum class DirtKind : uint8_t {
  kUnparseableDate,   // "2025-13-45", "N/A", "31.02.2025", "soon"
  kSlashDate,         // 2025/03/14
  kCurrencyAmount,    // "$12.50" (quoted)
  kThousandsAmount,   // "1,234.50" (quoted; the amount is scaled above 1000)
  kNegativeAmount,    // -12.50
  kEmbeddedComma,     // product_id quoted with a comma inside: "SKU-..., gift wrap"
  kWrongFieldCount,   // a field missing or an extra one
  kBlankLine,         // an empty line after the row
  kWhitespace,        // spaces around amount and status
  kEmailCustomer,     // an e-mail address as customer_id
};
constexpr int kNumDirtKinds = 10;
constexpr double kDirtRatePerKind = 0.0005;
std::string_view DirtKindName(DirtKind kind);

constexpr uint64_t kChunkRows = 65536;
constexpr int32_t kNumCustomers = 200'000;
constexpr int32_t kNumProducts = 5'000;
constexpr double kMissingAmountRate = 0.05;
// Region names, in the order of their market share.
const std::vector<std::string>& Regions();

struct GenerateStats {
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t dirt[kNumDirtKinds] = {};
};

// Writes the CSV (header included) to `out`; the caller commits the stream.
Result<GenerateStats> Generate(const GenerateOptions& options, io::OutputStream* out);

}  // namespace saleslake::datagen
