// `saleslake stream create|list|describe|put|tail|delete`: the lake's Kinesis streams without the
// AWS CLI, over the same StreamStore the server's Kinesis API uses. The store is open in one
// process at a time, so these commands refuse to run while `saleslake serve` holds the lake
// (use the Kinesis API then).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "stream/stream.h"

namespace saleslake::cli {
namespace {

struct StreamOpts {
  std::string name;
  int shards = 4;
  bool on_demand = false;
  std::string file = "-";
  std::string format = "json";
  std::string key_field = "customer_id";
  std::string from = "trim-horizon";
  int64_t limit = 100;
};

Result<std::unique_ptr<stream::StreamStore>> OpenStreams(const Context& ctx) {
  // Streams are files beside the lake (like `serve`, they need a local lake).
  auto lake = ctx.OpenLocalLake();
  if (!lake.ok()) return lake.status();
  stream::StoreOptions o;
  o.root = (*lake)->root() + "/streams";
  return stream::StreamStore::Open(o);
}

int Create(const Context& ctx, const StreamOpts& o) {
  auto s = OpenStreams(ctx);
  if (!s.ok()) return Fail(s.status());
  if (Status st = (*s)->CreateStream(o.name, o.shards, o.on_demand); !st.ok()) return Fail(st);
  std::printf("created stream %s\n", o.name.c_str());
  return 0;
}

int List(const Context& ctx) {
  auto s = OpenStreams(ctx);
  if (!s.ok()) return Fail(s.status());
  for (const auto& n : (*s)->ListStreams()) std::printf("%s\n", n.c_str());
  return 0;
}

int Describe(const Context& ctx, const StreamOpts& o) {
  auto s = OpenStreams(ctx);
  if (!s.ok()) return Fail(s.status());
  auto info = (*s)->Describe(o.name);
  if (!info.ok()) return Fail(info.status());
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& sh : info->shards) {
    shards.push_back({{"ShardId", sh.shard_id}, {"StartingHashKey", sh.starting_hash_key},
                      {"EndingHashKey", sh.ending_hash_key}});
  }
  nlohmann::json j{{"StreamName", info->name}, {"StreamStatus", info->status},
                   {"StreamMode", info->on_demand ? "ON_DEMAND" : "PROVISIONED"},
                   {"RetentionPeriodHours", info->retention_hours}, {"Shards", shards}, {"Tags", info->tags}};
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

// Each non-empty line is one record. JSON lines take their partition key from --key-field (the
// whole line when the field is missing or the line is not JSON: it is still stored, as Kinesis
// stores raw bytes, and quarantined at delivery); CSV lines use their first field.
int Put(const Context& ctx, const StreamOpts& o) {
  auto s = OpenStreams(ctx);
  if (!s.ok()) return Fail(s.status());
  std::ifstream file;
  if (o.file != "-") {
    file.open(o.file);
    if (!file) return Fail("cannot read " + o.file);
  }
  std::istream& in = o.file == "-" ? std::cin : file;
  std::vector<stream::PutEntry> batch;
  uint64_t put = 0, failed = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    auto r = (*s)->PutBatch(o.name, batch);
    if (!r.ok()) return r.status();
    for (const auto& x : *r) (x.status.ok() ? put : failed) += 1;
    batch.clear();
    return Status::OK();
  };
  std::string line;
  bool header = o.format == "csv";
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (header) {  // the CSV header names the columns; it is not a record
      header = false;
      continue;
    }
    std::string key;
    if (o.format == "json") {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains(o.key_field)) {
        const auto& v = j[o.key_field];
        key = v.is_string() ? v.get<std::string>() : v.dump();
      }
    } else {
      key = line.substr(0, line.find(','));
    }
    if (key.empty() || key.size() > 256) key = line.substr(0, 256);
    batch.push_back({key, "", line});
    if (batch.size() == stream::kMaxPutRecordsCount) {
      if (Status st = flush(); !st.ok()) return Fail(st);
    }
  }
  if (Status st = flush(); !st.ok()) return Fail(st);
  std::printf("put %llu record(s) into %s", static_cast<unsigned long long>(put), o.name.c_str());
  if (failed) std::printf(", %llu failed", static_cast<unsigned long long>(failed));
  std::printf("\n");
  return failed ? 1 : 0;
}

// Prints up to --limit records per shard from the trim horizon (or, with --from latest, nothing
// but the positions): shard, sequence number, partition key, data.
int Tail(const Context& ctx, const StreamOpts& o) {
  auto s = OpenStreams(ctx);
  if (!s.ok()) return Fail(s.status());
  auto info = (*s)->Describe(o.name);
  if (!info.ok()) return Fail(info.status());
  auto type = o.from == "latest" ? stream::IteratorType::kLatest : stream::IteratorType::kTrimHorizon;
  for (const auto& sh : info->shards) {
    auto it = (*s)->GetShardIterator(o.name, sh.shard_id, type, "", 0);
    if (!it.ok()) return Fail(it.status());
    int64_t left = o.limit;
    std::string iter = *it;
    while (left > 0) {
      auto page = (*s)->GetRecords(iter, static_cast<int>(std::min<int64_t>(left, stream::kMaxGetRecordsLimit)));
      if (!page.ok()) return Fail(page.status());
      if (page->records.empty()) break;
      for (const auto& r : page->records) {
        std::printf("%s\t%s\t%s\t%s\n", sh.shard_id.c_str(), r.sequence_number.c_str(), r.partition_key.c_str(),
                    r.data.c_str());
      }
      left -= static_cast<int64_t>(page->records.size());
      iter = page->next_iterator;
    }
  }
  return 0;
}

int Delete(const Context& ctx, const StreamOpts& o) {
  auto s = OpenStreams(ctx);
  if (!s.ok()) return Fail(s.status());
  if (Status st = (*s)->DeleteStream(o.name); !st.ok()) return Fail(st);
  std::printf("deleted stream %s\n", o.name.c_str());
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto opts = std::make_shared<StreamOpts>();
  auto* st = root.add_subcommand("stream", "Kinesis streams of the lake (create, list, describe, put, tail, delete)");
  st->require_subcommand(1);
  auto* create = st->add_subcommand("create", "Create a stream");
  create->add_option("name", opts->name, "Stream name")->required();
  create->add_option("--shards", opts->shards, "Shard count")->check(CLI::Range(1, 100000));
  create->add_flag("--on-demand", opts->on_demand, "On-demand capacity mode (4 shards)");
  create->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return Create(ctx, *opts); }; });
  auto* list = st->add_subcommand("list", "List streams");
  list->callback([&ctx] { ctx.action = [&ctx] { return List(ctx); }; });
  auto* desc = st->add_subcommand("describe", "Describe a stream (JSON)");
  desc->add_option("name", opts->name, "Stream name")->required();
  desc->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return Describe(ctx, *opts); }; });
  auto* put = st->add_subcommand("put", "Put JSON lines or CSV lines (one record each) from a file or stdin");
  put->add_option("name", opts->name, "Stream name")->required();
  put->add_option("--file", opts->file, "Input file ('-' = stdin)");
  put->add_option("--format", opts->format, "Input format")->check(CLI::IsMember({"json", "csv"}));
  put->add_option("--key-field", opts->key_field, "JSON field used as the partition key");
  put->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return Put(ctx, *opts); }; });
  auto* tail = st->add_subcommand("tail", "Print records of every shard (shard, sequence number, key, data)");
  tail->add_option("name", opts->name, "Stream name")->required();
  tail->add_option("--from", opts->from, "Where to start")->check(CLI::IsMember({"trim-horizon", "latest"}));
  tail->add_option("--limit", opts->limit, "Records per shard at most")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  tail->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return Tail(ctx, *opts); }; });
  auto* del = st->add_subcommand("delete", "Delete a stream and its records");
  del->add_option("name", opts->name, "Stream name")->required();
  del->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return Delete(ctx, *opts); }; });
}

const CommandRegistrar kRegistrar(85, &Register);

}  // namespace
}  // namespace saleslake::cli
