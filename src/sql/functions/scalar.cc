// Scalar function resolution: the registry of every scalar function by name (each family adds
// its own: scalar_arithmetic.cc, scalar_comparison.cc, scalar_math.cc, scalar_conditional.cc,
// scalar_string.cc, scalar_datetime.cc), the aliases, and the helpers the families share.
#include <functional>
#include <map>
#include <string>

#include <fmt/format.h>

#include "sql/functions/functions.h"
#include "sql/functions/internal/scalar_family.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT: scalar_family.h helpers

Status internal::Bad(std::string_view fn, const std::vector<DataType>& args,
                     std::string_view expected) {
  std::string got;
  for (size_t i = 0; i < args.size(); ++i) got += (i ? ", " : "") + args[i].ToString();
  return Status::InvalidArgument(fmt::format("function {}({}) does not exist; expected {}", fn, got,
                                             expected));
}

ScalarFunction internal::Fn(std::string_view name, std::vector<DataType> args, DataType ret,
                            ScalarKernel k, bool deterministic) {
  return ScalarFunction{std::string(name), std::move(args), ret, k, deterministic};
}

R internal::StringFn(std::string_view name, const Types& t, size_t min_args, size_t max_args,
                     std::vector<DataType> sig, DataType ret, ScalarKernel k) {
  if (t.size() < min_args || t.size() > max_args) return Bad(name, t, "(" + [&] {
    std::string s;
    for (size_t i = 0; i < sig.size(); ++i) s += (i ? ", " : "") + sig[i].ToString();
    return s;
  }() + ")");
  sig.resize(t.size());
  for (size_t i = 0; i < t.size(); ++i)
    if (!CanCoerce(t[i], sig[i])) return Bad(name, t, "(" + [&] {
      std::string s;
      for (size_t j = 0; j < sig.size(); ++j) s += (j ? ", " : "") + sig[j].ToString();
      return s;
    }() + ")");
  return Fn(name, sig, ret, k);
}

namespace {

const ScalarRegistry& Registry() {
  static const ScalarRegistry reg = [] {
    ScalarRegistry r;
    AddArithmeticFunctions(r);
    AddComparisonFunctions(r);
    AddMathFunctions(r);
    AddConditionalFunctions(r);
    AddStringFunctions(r);
    AddDateTimeFunctions(r);
    return r;
  }();
  return reg;
}

const std::map<std::string, std::string, std::less<>>& Aliases() {
  static const std::map<std::string, std::string, std::less<>> a = {
      {"substring", "substr"}, {"ceiling", "ceil"},   {"pow", "power"},
      {"rand", "random"},      {"char_length", "length"}, {"current_timestamp", "now"},
      {"localtimestamp", "now"}, {"strpos", "strpos"}, {"position", "strpos"},
  };
  return a;
}

}  // namespace

Result<ScalarFunction> ResolveScalar(std::string_view name, const std::vector<DataType>& args) {
  std::string_view key = name;
  if (auto a = Aliases().find(name); a != Aliases().end()) key = a->second;
  auto it = Registry().find(key);
  if (it == Registry().end()) return Status::NotFound("function '" + std::string(name) + "' not found");
  auto r = it->second(args);
  if (r.ok() && name[0] != '$') r->name = std::string(name);
  return r;
}

bool IsScalarFunctionName(std::string_view name) {
  return Registry().count(name) > 0 || Aliases().count(name) > 0;
}

bool IsWindowFunctionName(std::string_view name) {
  static const char* k[] = {"row_number", "rank", "dense_rank", "ntile", "lag", "lead",
                            "first_value", "last_value", "nth_value", "percent_rank", "cume_dist"};
  for (const char* w : k)
    if (name == w) return true;
  return false;
}

std::vector<std::string> AllFunctionNames() {
  std::vector<std::string> out;
  for (const auto& [k, v] : Registry())
    if (k[0] != '$') out.push_back(k);
  for (const auto& [k, v] : Aliases()) out.push_back(k);
  for (const char* w : {"row_number", "rank", "dense_rank", "ntile", "lag", "lead", "first_value",
                        "last_value", "nth_value", "percent_rank", "cume_dist", "coalesce", "if",
                        "try", "count", "sum", "avg", "min", "max", "stddev", "variance",
                        "approx_distinct", "approx_percentile", "max_by", "min_by", "arbitrary",
                        "bool_and", "bool_or", "count_if", "every", "stddev_pop", "stddev_samp",
                        "var_pop", "var_samp"})
    out.push_back(w);
  return out;
}

}  // namespace saleslake::sql