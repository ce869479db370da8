// `saleslake generate`: seed-like sales CSV (src/datagen; distributions in docs/DATA.md).
#include <chrono>
#include <cstdio>

#include "catalog/crawler.h"
#include "cli/command.h"
#include "datagen/generator.h"

namespace saleslake::cli {
namespace {

constexpr const char* kHelp = R"(Generate a deterministic, seed-like sales CSV.
Header: purchase_date,customer_id,product_id,amount,region,status
  - dates 2025-01-01..2025-08-25 (237 days), rows not sorted; weekly seasonality (Sat peak),
    a per-region upward trend, and promotion spikes (Feb 14, Mar 28-30, May 26, Jul 8-9)
  - 8 regions with different shares, trends and price levels (North America 28% ... Oceania 5%)
  - 200,000 customers (Zipf 0.6 within their region), 5,000 products (Zipf 1.1 popularity,
    log-normal prices with median ~$24)
  - status COMPLETED 90%, REFUNDED 5%, PENDING 4.5%, OUT 0.5% (OUT rows carry extreme amounts)
  - ~5% of amounts are empty (missing, not zero)
  --messy adds each of 10 kinds of dirt to 0.05% of rows (~0.5% in all): unparseable dates,
    YYYY/MM/DD dates, "$12.50" and "1,234.50" amounts, negative amounts, quoted fields with
    embedded commas, wrong field counts, blank lines, surrounding whitespace, e-mail addresses
    as customer_id.
Same --rows, --seed and --messy give identical bytes. Details: docs/DATA.md.)";

struct Opts {
  uint64_t rows = 0;
  uint64_t seed = 42;
  std::string out;
  bool messy = false;
  int threads = 0;
};

int Run(const Context& ctx, const Opts& o) {
  auto start = std::chrono::steady_clock::now();
  datagen::GenerateOptions g{.rows = o.rows, .seed = o.seed, .messy = o.messy, .threads = o.threads};
  std::unique_ptr<io::OutputStream> stream;
  std::unique_ptr<io::ObjectStore> lake;  // outlives `stream` when it writes into the lake
  std::string where;
  if (!o.out.empty()) {
    auto s = io::OpenLocalWrite(o.out);
    if (!s.ok()) return Fail(s.status());
    stream = std::move(*s);
    where = o.out;
  } else {
    auto store = ctx.OpenLake(/*create=*/true);
    if (!store.ok()) return Fail(store.status());
    // Into the landing zone through the same door as `upload`: content hash + object.created.
    auto s = catalog::RawObjectWriter::Open(**store, "raw_data/sales.csv");
    if (!s.ok()) return Fail(s.status());
    stream = std::move(*s);
    lake = std::move(*store);
    where = lake->uri() + "/raw_data/sales.csv";
  }
  auto stats = datagen::Generate(g, stream.get());
  if (!stats.ok()) return Fail(stats.status().WithContext("generate " + where));
  Status c = stream->Commit();
  if (!c.ok()) return Fail(c);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("generated %llu rows (%.1f MB) into %s in %.2f s\n",
              static_cast<unsigned long long>(stats->rows), stats->bytes / 1e6, where.c_str(), secs);
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto opts = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand("generate", "Generate seed-like sales CSV data (deterministic)");
  cmd->footer(kHelp);
  cmd->add_option("--rows", opts->rows, "Number of data rows")->required()->check(CLI::Range(uint64_t{0}, uint64_t{10'000'000'000}));
  cmd->add_option("--seed", opts->seed, "Random seed (default 42)");
  cmd->add_option("--out", opts->out, "Output file (default: <lake>/raw_data/sales.csv)");
  cmd->add_flag("--messy", opts->messy, "Add realistic dirt to ~0.5% of rows");
  cmd->add_option("--threads", opts->threads, "Worker threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return Run(ctx, *opts); }; });
}

const CommandRegistrar kRegistrar(20, &Register);

}  // namespace
}  // namespace saleslake::cli
