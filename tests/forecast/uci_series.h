// The UCI Online Retail daily revenue series of the accuracy test, rebuilt from the shared CSV
// (../shared/testdata/real/uci-online-retail/online_retail.csv) with our own sniffer and reader.
//
// Definition (the same as tools/forecast_goldens.R, which wrote the committed fixture the R
// goldens were computed on): revenue = sum(Quantity * UnitPrice) over every invoice line,
// cancellations (C invoices, negative quantities) and adjustments included, by calendar day of
// InvoiceDate, from the first to the last day of the data; days without trade (every Saturday,
// the Christmas break) are 0. Series: "uci_total" and one per top-5 country by total revenue
// ("uci_united_kingdom", ...), in that order.
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/types.h"
#include "formats/csv/csv_reader.h"
#include "formats/csv/csv_reader.h"
#include "io/object_store.h"

namespace saleslake::forecast::testing {

struct UciSeries {
  std::vector<std::string> names;             // uci_total, then the top 5 countries
  std::vector<std::vector<double>> values;    // one value per day, names[i] -> values[i]
  int32_t start_day = 0;                      // days since 1970-01-01 of values[*][0]
  std::vector<std::string> top_countries;     // by total revenue, largest first
};

inline std::string UciSeriesName(std::string country) {
  for (char& c : country) c = c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "uci_" + country;
}

inline Result<UciSeries> BuildUciSeries(const std::string& csv_path) {
  SL_ASSIGN_OR_RETURN(auto file, io::OpenLocalFile(csv_path));
  SL_ASSIGN_OR_RETURN(csv::SniffResult sniff, csv::Sniff(*file));
  csv::ReadOptions ro = sniff.ToReadOptions();
  std::vector<size_t> cols;
  for (const char* name : {"Quantity", "InvoiceDate", "UnitPrice", "Country"}) {
    auto i = sniff.schema.FindField(name);
    if (!i) return Status::InvalidArgument(csv_path + ": no column " + name);
    cols.push_back(*i);
  }
  if (sniff.schema[cols[1]].type.id != TypeId::kTimestamp) {
    return Status::InvalidArgument(csv_path + ": InvoiceDate was not sniffed as TIMESTAMP");
  }
  // Quantity may be sniffed BIGINT; read both factors as DOUBLE (Python's float(), R's numeric).
  ro.schema.fields[cols[0]].type = DataType::Double();
  ro.schema.fields[cols[2]].type = DataType::Double();
  ro.projection = cols;
  ro.threads = 1;  // one sum order (the file's), as the fixture was summed
  std::map<std::pair<std::string, int32_t>, double> by_country;
  std::map<int32_t, double> total;
  std::map<std::string, double> country_total;
  SL_RETURN_IF_ERROR(
      csv::ReadCsv(*file, ro,
                   [&](size_t, Batch& b) {
                     for (auto& c : b.columns) c.Flatten();
                     for (size_t r = 0; r < b.live_rows(); ++r) {
                       const size_t row = b.selection ? b.selection->Get(r) : r;
                       const double v =
                           b.columns[0].GetValue<double>(row) * b.columns[2].GetValue<double>(row);
                       const int64_t ts = b.columns[1].GetValue<int64_t>(row);
                       int64_t d = ts / kMicrosPerDay;
                       if (ts < 0 && ts % kMicrosPerDay != 0) --d;
                       const std::string country(b.columns[3].GetValue<std::string_view>(row));
                       total[static_cast<int32_t>(d)] += v;
                       by_country[{country, static_cast<int32_t>(d)}] += v;
                       country_total[country] += v;
                     }
                     return Status::OK();
                   },
                   nullptr)
          .status());
  if (total.empty()) return Status::InvalidArgument(csv_path + ": no rows");
  UciSeries out;
  const int32_t first = total.begin()->first, last = total.rbegin()->first;
  out.start_day = first;
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [c, v] : country_total) ranked.push_back({-v, c});
  std::sort(ranked.begin(), ranked.end());
  for (size_t i = 0; i < 5 && i < ranked.size(); ++i) out.top_countries.push_back(ranked[i].second);
  out.names.push_back("uci_total");
  out.values.emplace_back();
  for (int32_t d = first; d <= last; ++d) {
    auto it = total.find(d);
    out.values.back().push_back(it == total.end() ? 0.0 : it->second);
  }
  for (const std::string& c : out.top_countries) {
    out.names.push_back(UciSeriesName(c));
    out.values.emplace_back();
    for (int32_t d = first; d <= last; ++d) {
      auto it = by_country.find({c, d});
      out.values.back().push_back(it == by_country.end() ? 0.0 : it->second);
    }
  }
  return out;
}

}  // namespace saleslake::forecast::testing
