// Readers for the committed goldens in tests/forecast/golden/ (written by tools/forecast_goldens.R).
#pragma once

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace saleslake::forecast::testing {

inline std::string GoldenDir() { return std::string(SALESLAKE_SOURCE_DIR) + "/tests/forecast/golden"; }

// Simple CSV (no quoting: the goldens never need it). Skips the header.
inline std::vector<std::vector<std::string>> ReadCsvRows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    if (!line.empty() && line.back() == ',') f.push_back("");
    rows.push_back(std::move(f));
  }
  return rows;
}

inline double ParseNum(const std::string& s) {
  if (s == "NA" || s.empty()) return std::nan("");
  return std::strtod(s.c_str(), nullptr);
}

// series name -> values, in file order of series.
struct GoldenSeries {
  std::vector<std::string> names;
  std::map<std::string, std::vector<double>> values;
};

inline GoldenSeries LoadSeries() {
  GoldenSeries g;
  for (const auto& r : ReadCsvRows(GoldenDir() + "/series.csv")) {
    if (!g.values.count(r[0])) g.names.push_back(r[0]);
    g.values[r[0]].push_back(ParseNum(r[2]));
  }
  return g;
}

// (series, tag, model) -> name -> value
using FitKey = std::tuple<std::string, std::string, std::string>;
inline std::map<FitKey, std::map<std::string, double>> LoadFits() {
  std::map<FitKey, std::map<std::string, double>> out;
  for (const auto& r : ReadCsvRows(GoldenDir() + "/r_fits.csv")) {
    out[{r[0], r[1], r[2]}][r[3]] = ParseNum(r[4]);
  }
  return out;
}

struct GoldenForecast {
  std::vector<double> mean, lo80, hi80, lo95, hi95;
};
// (series, method, train_size) -> forecast
using FcKey = std::tuple<std::string, std::string, int>;
inline std::map<FcKey, GoldenForecast> LoadForecasts() {
  std::map<FcKey, GoldenForecast> out;
  for (const auto& r : ReadCsvRows(GoldenDir() + "/r_forecasts.csv")) {
    GoldenForecast& g = out[{r[0], r[1], std::atoi(r[2].c_str())}];
    g.mean.push_back(ParseNum(r[4]));
    g.lo80.push_back(ParseNum(r[5]));
    g.hi80.push_back(ParseNum(r[6]));
    g.lo95.push_back(ParseNum(r[7]));
    g.hi95.push_back(ParseNum(r[8]));
  }
  return out;
}

inline double RelErr(double a, double b) {
  return std::fabs(a - b) / std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

}  // namespace saleslake::forecast::testing
