#include "datagen/generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <mutex>

#include "common/thread_pool.h"
#include "common/types.h"
#include "datagen/internal/random.h"

namespace saleslake::datagen {
namespace {

using internal::Mix;
using internal::Rng;

// ---- the model (documented in docs/DATA.md) ----

constexpr int32_t kFirstDay = 20089;  // 2025-01-01
constexpr int kNumDays = 237;         // through 2025-08-25

struct RegionSpec {
  const char* name;
  double share;  // of all orders
  double trend;  // growth of daily demand from the first to the last day (0.3 = +30%)
  double price;  // price level multiplier
};

constexpr RegionSpec kRegions[] = {
    {"North America", 0.28, 0.35, 1.15}, {"Western Europe", 0.20, 0.15, 1.05},
    {"Asia Pacific", 0.17, 0.60, 0.90},  {"Latin America", 0.10, 0.45, 0.80},
    {"Eastern Europe", 0.08, 0.25, 0.75}, {"Middle East", 0.07, 0.30, 1.10},
    {"Africa", 0.05, 0.50, 0.70},         {"Oceania", 0.05, 0.10, 1.10},
};
constexpr int kNumRegions = 8;

// Monday..Sunday demand multipliers.
constexpr double kWeekly[7] = {0.88, 0.92, 0.96, 1.02, 1.15, 1.30, 1.12};

struct Promo {
  int month, day, length;
  double lift;
};
// Promotion spikes (demand lift; prices are 15% lower on these days).
constexpr Promo kPromos[] = {
    {2, 14, 1, 1.8},  // Valentine's day
    {3, 28, 3, 1.6},  // spring sale
    {5, 26, 1, 1.7},  // Memorial day
    {7, 8, 2, 2.2},   // mid-summer deal days
};

constexpr const char* kCategories[] = {"ELECTRONICS", "HOME", "GARDEN", "SPORTS", "TOYS",
                                       "BEAUTY",      "GROCERY", "FASHION", "BOOKS", "AUTO"};
constexpr const char* kAdjectives[] = {"WIRELESS", "PREMIUM", "COMPACT", "ORGANIC", "CLASSIC",
                                       "SMART",    "ULTRA",   "ECO",     "DELUXE",  "PORTABLE",
                                       "VINTAGE",  "PRO"};
constexpr const char* kNouns[] = {"HEADPHONES", "BLENDER", "BACKPACK", "LAMP",    "SNEAKERS",
                                  "KETTLE",     "JACKET",  "SPEAKER",  "PLANTER", "NOVEL",
                                  "CHARGER",    "BOTTLE",  "SHAMPOO",  "DRILL",   "PUZZLE",
                                  "MONITOR"};
constexpr const char* kColors[] = {"BLK", "WHT", "RED", "BLU", "GRN", "GRY"};
constexpr const char* kSizes[] = {"S", "M", "L", "XL", "STD", "FAMILY", "TRAVEL", "ONE-SIZE"};
constexpr const char* kStatuses[] = {"COMPLETED", "REFUNDED", "PENDING", "OUT"};

double PromoLift(int32_t day) {
  for (const Promo& p : kPromos) {
    int32_t start = DaysFromCivil(2025, static_cast<unsigned>(p.month), static_cast<unsigned>(p.day));
    if (day >= start && day < start + p.length) return p.lift;
  }
  return 1.0;
}

// Inverse-CDF table: Sample(u) returns i with probability weight[i] / sum.
class Distribution {
 public:
  explicit Distribution(const std::vector<double>& weights) : cdf_(weights.size()) {
    double sum = 0;
    for (size_t i = 0; i < weights.size(); ++i) cdf_[i] = (sum += weights[i]);
    for (double& c : cdf_) c /= sum;
    cdf_.back() = 1.0;
  }
  size_t Sample(double u) const {
    return static_cast<size_t>(std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

struct Model {
  Distribution region;
  std::vector<Distribution> day_by_region;
  Distribution product;           // Zipf(1.1) over kNumProducts
  Distribution customer_in_region;  // Zipf(0.6) over kNumCustomers / kNumRegions
  std::vector<std::string> product_ids;
  std::vector<double> product_price;
  std::vector<std::string> customer_ids;
  std::vector<std::string> dates;  // "YYYY-MM-DD" per day
  std::vector<std::string> slash_dates;

  static std::vector<double> RegionWeights() {
    std::vector<double> w;
    for (const RegionSpec& r : kRegions) w.push_back(r.share);
    return w;
  }
  static std::vector<double> Zipf(size_t n, double s) {
    std::vector<double> w(n);
    for (size_t i = 0; i < n; ++i) w[i] = 1.0 / std::pow(static_cast<double>(i + 1), s);
    return w;
  }
  static std::vector<Distribution> DayWeights() {
    std::vector<Distribution> out;
    for (const RegionSpec& r : kRegions) {
      std::vector<double> w(kNumDays);
      for (int t = 0; t < kNumDays; ++t) {
        int32_t day = kFirstDay + t;
        double trend = 1.0 + r.trend * t / (kNumDays - 1);
        w[static_cast<size_t>(t)] = trend * kWeekly[IsoDayOfWeek(day) - 1] * PromoLift(day);
      }
      out.emplace_back(w);
    }
    return out;
  }

  Model()
      : region(RegionWeights()),
        day_by_region(DayWeights()),
        product(Zipf(kNumProducts, 1.1)),
        customer_in_region(Zipf(kNumCustomers / kNumRegions, 0.6)) {
    // Products: the popularity rank is shuffled against the id so popular ids are spread out.
    product_ids.resize(kNumProducts);
    product_price.resize(kNumProducts);
    for (int32_t p = 0; p < kNumProducts; ++p) {
      uint64_t h = Mix(static_cast<uint64_t>(p) * 7919 + 17);
      uint64_t id = (static_cast<uint64_t>(p) * 2654435761ULL) % 100000;
      char buf[96];
      std::snprintf(buf, sizeof buf, "SKU-%05u-%s-%s-%s-%s-%s", static_cast<unsigned>(id),
                    kCategories[h % 10], kAdjectives[(h >> 8) % 12], kNouns[(h >> 16) % 16],
                    kColors[(h >> 24) % 6], kSizes[(h >> 32) % 8]);
      product_ids[static_cast<size_t>(p)] = buf;
      // Log-normal list price, median ~$24, clipped to $1.50..$2,000.
      Rng r(h);
      double price = std::exp(3.2 + 0.9 * r.Normal());
      product_price[static_cast<size_t>(p)] = std::clamp(price, 1.5, 2000.0);
    }
    customer_ids.resize(kNumCustomers);
    for (int32_t c = 0; c < kNumCustomers; ++c) {
      uint64_t a = Mix(static_cast<uint64_t>(c) ^ 0xC0FFEE), b = Mix(a);
      char buf[48];
      std::snprintf(buf, sizeof buf, "CUST-%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                    static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                    static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                    static_cast<unsigned long long>(b & 0xffffffffffffULL));
      customer_ids[static_cast<size_t>(c)] = buf;
    }
    for (int t = 0; t < kNumDays; ++t) {
      std::string d = FormatDate(kFirstDay + t);
      dates.push_back(d);
      std::replace(d.begin(), d.end(), '-', '/');
      slash_dates.push_back(d);
    }
  }
};

const Model& GetModel() {
  static const Model model;
  return model;
}

void AppendAmount(std::string& out, double amount) {
  // Two decimals, without printf: rounding to cents in integer arithmetic.
  int64_t cents = std::llround(amount * 100.0);
  if (cents < 0) {
    out += '-';
    cents = -cents;
  }
  char buf[32];
  int n = 0;
  int64_t whole = cents / 100;
  do {
    buf[n++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole);
  while (n) out += buf[--n];
  out += '.';
  out += static_cast<char>('0' + (cents / 10) % 10);
  out += static_cast<char>('0' + cents % 10);
}

// Generates rows [first, first + count) of the chunk into `out`.
void GenerateChunk(const GenerateOptions& opt, uint64_t chunk, uint64_t first, uint64_t count,
                   std::string& out, GenerateStats& stats) {
  const Model& m = GetModel();
  Rng rng(Mix(opt.seed * 0x100000001B3ULL + chunk));
  out.reserve(count * 160);
  for (uint64_t i = 0; i < count; ++i) {
    const size_t r = m.region.Sample(rng.Uniform());
    const size_t t = m.day_by_region[r].Sample(rng.Uniform());
    const int32_t day = kFirstDay + static_cast<int32_t>(t);
    const size_t prod = m.product.Sample(rng.Uniform());
    const size_t cust = m.customer_in_region.Sample(rng.Uniform()) * kNumRegions + r;
    // Status: 90% completed, 5% refunded, 4.5% pending, 0.5% outliers flagged OUT.
    const double su = rng.Uniform();
    const int status = su < 0.90 ? 0 : su < 0.95 ? 1 : su < 0.995 ? 2 : 3;
    const bool promo = PromoLift(day) > 1.0;
    const double qty = 1 + std::floor(-std::log(std::max(rng.Uniform(), 1e-12)) * 0.8);
    double amount = m.product_price[prod] * kRegions[r].price * qty * (promo ? 0.85 : 1.0) *
                    (1.0 + 0.05 * rng.Normal());
    amount = std::max(amount, 0.5);
    if (status == 3) amount = amount * (40 + 160 * rng.Uniform()) + 5000;  // extreme outliers
    bool missing = rng.Uniform() < kMissingAmountRate;

    int dirt = -1;
    if (opt.messy) {
      double du = rng.Uniform();
      if (du < kDirtRatePerKind * kNumDirtKinds) dirt = static_cast<int>(du / kDirtRatePerKind);
      if (dirt >= kNumDirtKinds) dirt = kNumDirtKinds - 1;
    }
    const uint64_t extra = rng.Next();  // always drawn: keeps streams aligned across modes
    const auto kind = static_cast<DirtKind>(dirt);
    if (dirt >= 0) stats.dirt[dirt]++;
    // Dirt in the amount must be visible, so those rows keep their amount.
    if (dirt >= 0 && (kind == DirtKind::kCurrencyAmount || kind == DirtKind::kThousandsAmount ||
                      kind == DirtKind::kNegativeAmount || kind == DirtKind::kWhitespace))
      missing = false;

    // purchase_date
    if (dirt >= 0 && kind == DirtKind::kUnparseableDate) {
      static constexpr const char* kBad[] = {"2025-13-45", "N/A", "31.02.2025", "soon"};
      out += kBad[extra % 4];
    } else if (dirt >= 0 && kind == DirtKind::kSlashDate) {
      out += m.slash_dates[t];
    } else {
      out += m.dates[t];
    }
    out += ',';
    // customer_id
    if (dirt >= 0 && kind == DirtKind::kEmailCustomer) {
      static constexpr const char* kDomains[] = {"example.com", "mail.test", "corp.example.org"};
      static constexpr const char* kFirst[] = {"anna", "li.wei", "omar", "j.smith", "maria"};
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%u@%s", kFirst[extra % 5], static_cast<unsigned>(cust % 1000),
                    kDomains[(extra >> 8) % 3]);
      out += buf;
    } else {
      out += m.customer_ids[cust];
    }
    out += ',';
    // product_id
    if (dirt >= 0 && kind == DirtKind::kEmbeddedComma) {
      out += '"';
      out += m.product_ids[prod];
      out += ", gift wrap\"";
    } else {
      out += m.product_ids[prod];
    }
    out += ',';
    // amount
    if (missing) {
      // empty field: the ~5% of missing amounts
    } else if (dirt >= 0 && kind == DirtKind::kCurrencyAmount) {
      out += "\"$";
      AppendAmount(out, amount);
      out += '"';
    } else if (dirt >= 0 && kind == DirtKind::kThousandsAmount) {
      std::string plain;
      AppendAmount(plain, amount < 1000 ? amount + 1000 : amount);
      size_t dot = plain.find('.');
      std::string grouped;
      for (size_t k = 0; k < dot; ++k) {
        if (k > 0 && (dot - k) % 3 == 0) grouped += ',';
        grouped += plain[k];
      }
      out += '"' + grouped + plain.substr(dot) + '"';
    } else if (dirt >= 0 && kind == DirtKind::kNegativeAmount) {
      AppendAmount(out, -amount);
    } else if (dirt >= 0 && kind == DirtKind::kWhitespace) {
      out += "  ";
      AppendAmount(out, amount);
      out += ' ';
    } else {
      AppendAmount(out, amount);
    }
    out += ',';
    out += kRegions[r].name;
    out += ',';
    if (dirt >= 0 && kind == DirtKind::kWhitespace) {
      out += ' ';
      out += kStatuses[status];
      out += "  ";
    } else {
      out += kStatuses[status];
    }
    if (dirt >= 0 && kind == DirtKind::kWrongFieldCount) {
      if (extra & 1) {
        out += ",EXTRA";
      } else {  // drop the status field
        out.resize(out.rfind(','));
      }
    }
    out += '\n';
    if (dirt >= 0 && kind == DirtKind::kBlankLine) out += '\n';
  }
  stats.rows += count;
  (void)first;
}

}  // namespace

std::string_view DirtKindName(DirtKind kind) {
  switch (kind) {
    case DirtKind::kUnparseableDate: return "unparseable_date";
    case DirtKind::kSlashDate: return "slash_date";
    case DirtKind::kCurrencyAmount: return "currency_amount";
    case DirtKind::kThousandsAmount: return "thousands_amount";
    case DirtKind::kNegativeAmount: return "negative_amount";
    case DirtKind::kEmbeddedComma: return "embedded_comma";
    case DirtKind::kWrongFieldCount: return "wrong_field_count";
    case DirtKind::kBlankLine: return "blank_line";
    case DirtKind::kWhitespace: return "whitespace";
    case DirtKind::kEmailCustomer: return "email_customer";
  }
  return "unknown";
}

const std::vector<std::string>& Regions() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const RegionSpec& r : kRegions) v.emplace_back(r.name);
    return v;
  }();
  return names;
}

Result<GenerateStats> Generate(const GenerateOptions& options, io::OutputStream* out) {
  GetModel();  // build the tables once, before the workers start
  GenerateStats total;
  std::string header = "purchase_date,customer_id,product_id,amount,region,status\n";
  SL_RETURN_IF_ERROR(out->Append(header));
  total.bytes = header.size();

  const uint64_t chunks = (options.rows + kChunkRows - 1) / kChunkRows;
  ThreadPool& pool = ThreadPool::Default();
  const size_t workers = options.threads > 0 ? static_cast<size_t>(options.threads) : pool.size();
  // Generate a window of chunks in parallel, then write them in order; memory stays bounded by
  // the window (a few chunks per worker).
  const uint64_t window = std::max<uint64_t>(2 * workers, 2);
  std::vector<std::string> bufs(window);
  std::vector<GenerateStats> stats(window);
  for (uint64_t base = 0; base < chunks; base += window) {
    const uint64_t n = std::min(window, chunks - base);
    pool.ParallelFor(
        n,
        [&](size_t k) {
          const uint64_t chunk = base + k;
          const uint64_t first = chunk * kChunkRows;
          const uint64_t count = std::min(kChunkRows, options.rows - first);
          bufs[k].clear();
          stats[k] = GenerateStats{};
          GenerateChunk(options, chunk, first, count, bufs[k], stats[k]);
        },
        workers);
    for (uint64_t k = 0; k < n; ++k) {
      SL_RETURN_IF_ERROR(out->Append(bufs[k]));
      total.rows += stats[k].rows;
      total.bytes += bufs[k].size();
      for (int d = 0; d < kNumDirtKinds; ++d) total.dirt[d] += stats[k].dirt[d];
    }
  }
  return total;
}

}  // namespace saleslake::datagen
