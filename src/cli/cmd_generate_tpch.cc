// `saleslake generate-tpch`: the 8 TPC-H tables as Parquet at any scale factor (src/datagen/tpch.h).
#include <chrono>
#include <cstdio>

#include "cli/command.h"
#include "datagen/tpch.h"

namespace saleslake::cli {
namespace {

constexpr const char* kHelp = R"(Write the 8 TPC-H tables as ZSTD Parquet into --out (a local directory).
Values follow the TPC-H specification's distributions and comment grammar (not dbgen's exact
output); names and types match DuckDB's TPC-H Parquet: keys INTEGER (orderkeys BIGINT), money and
quantities DECIMAL(15,2), dates DATE. Scale 1: 6M lineitems, about 0.3 GB; 10: 60M, about 3 GB.
--files N > 1 writes the five large tables as DIR/<table>/<table>-K.parquet.
The same --scale, --seed, --files and --row-group-rows give identical files, whatever --threads.)";

struct Opts {
  double scale = 1.0;
  uint64_t seed = 0;
  std::string out;
  int files = 1;
  int64_t row_group_rows = 122'880;
  int threads = 0;
};

int Run(const Opts& o) {
  auto start = std::chrono::steady_clock::now();
  datagen::TpchOptions t{.scale = o.scale, .seed = o.seed, .files = o.files,
                         .row_group_rows = o.row_group_rows, .threads = o.threads};
  auto stats = datagen::GenerateTpch(t, o.out);
  if (!stats.ok()) return Fail(stats.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t bytes = 0;
  for (const auto& s : *stats) {
    std::printf("%-9s %12lld rows %9.1f MB %4d file%s\n", s.table.c_str(), static_cast<long long>(s.rows),
                s.bytes / 1e6, s.files, s.files == 1 ? "" : "s");
    bytes += s.bytes;
  }
  std::printf("generated TPC-H scale %g (%.1f MB) into %s in %.2f s\n", o.scale, bytes / 1e6, o.out.c_str(), secs);
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto opts = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand("generate-tpch", "Generate the TPC-H tables as Parquet (deterministic)");
  cmd->footer(kHelp);
  cmd->add_option("--scale", opts->scale, "Scale factor (default 1)")->check(CLI::Range(0.0001, 1000.0));
  cmd->add_option("--out", opts->out, "Output directory")->required();
  cmd->add_option("--seed", opts->seed, "Random seed (default 0)");
  cmd->add_option("--files", opts->files, "Files per large table (default 1)")->check(CLI::Range(1, 10000));
  cmd->add_option("--row-group-rows", opts->row_group_rows, "Rows per Parquet row group (default 122880)")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 30));
  cmd->add_option("--threads", opts->threads, "Worker threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([&ctx, opts] { ctx.action = [opts] { return Run(*opts); }; });
}

const CommandRegistrar kRegistrar(21, &Register);

}  // namespace
}  // namespace saleslake::cli
