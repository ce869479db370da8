// `saleslake events list|tail|process`, `rules list|test`, `topics list|publish`: the event bus,
// its rules and topics from the command line, over the same code the server runs (src/events).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "cli/command.h"
#include "common/json.h"
#include "events/events.h"
#include "events/topics.h"
#include "io/local_store.h"

namespace saleslake::cli {

namespace {

struct Opened {
  std::unique_ptr<io::ObjectStore> store;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<events::Topics> topics;
  std::unique_ptr<events::Engine> engine;
};

Result<Opened> OpenAll(const Context& ctx, bool engine) {
  Opened o;
  SL_ASSIGN_OR_RETURN(o.store, ctx.OpenLake(false));
  SL_ASSIGN_OR_RETURN(o.catalog, ctx.OpenCatalog(o.store.get()));
  SL_ASSIGN_OR_RETURN(o.topics, events::Topics::Open(o.store.get()));
  if (engine) {
    SL_ASSIGN_OR_RETURN(o.engine, events::Engine::Open(o.catalog.get(), o.topics.get()));
  }
  return o;
}

// The journal's events, then those still waiting in the inbox of a lake on S3 (recorded by
// commands there; a serving `serve --lake s3://` moves them into the journal in its state dir,
// which `state_dir` names). With `follow`, the journal is read every 200 ms and the inbox listed
// every second (a request).
int ListEvents(const Context& ctx, const std::string& type, size_t last, bool follow, const std::string& state_dir) {
  auto store = ctx.OpenLake(false);
  if (!store.ok()) return Fail(store.status());
  std::unique_ptr<io::LocalStore> state;
  if (!state_dir.empty()) {
    auto opened = io::LocalStore::Open(state_dir, /*create=*/false);
    if (!opened.ok()) return Fail(opened.status().WithContext("--state-dir " + state_dir));
    state = std::move(*opened);
  }
  const io::ObjectStore& journal = state ? *state : **store;
  uint64_t offset = 0;
  std::vector<events::Event> all;
  std::set<std::string> inbox_seen;  // the inbox's ids printed (or skipped) so far
  auto read_new = [&](std::vector<events::Event>& out, bool inbox) -> Status {
    for (;;) {
      SL_ASSIGN_OR_RETURN(std::vector<events::Event> batch, events::ReadEvents(journal, offset, 10000));
      if (batch.empty()) break;
      offset = batch.back().end_offset;
      for (auto& e : batch)
        if (!inbox_seen.count(e.id)) out.push_back(std::move(e));
    }
    if (!inbox) return Status::OK();
    SL_ASSIGN_OR_RETURN(std::vector<events::Event> waiting, events::ReadInboxEvents(**store));
    for (auto& e : waiting)
      if (inbox_seen.insert(e.id).second) out.push_back(std::move(e));
    return Status::OK();
  };
  if (Status s = read_new(all, true); !s.ok()) return Fail(s);
  std::erase_if(all, [&](const events::Event& e) { return !type.empty() && e.type != type; });
  size_t from = last && all.size() > last ? all.size() - last : 0;
  for (size_t i = from; i < all.size(); ++i) std::printf("%s\n", all[i].json.dump().c_str());
  std::fflush(stdout);
  for (int tick = 1; follow; ++tick) {  // until interrupted, as tail -f
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::vector<events::Event> fresh;
    if (Status s = read_new(fresh, tick % 5 == 0); !s.ok()) return Fail(s);
    for (const auto& e : fresh)
      if (type.empty() || e.type == type) std::printf("%s\n", e.json.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

std::string TargetText(const events::Target& t) {
  return std::string(events::TargetKindName(t.kind)) + " " + t.name;
}

void Register(CLI::App& root, Context& ctx) {
  auto* ev = root.add_subcommand("events", "The event journal: list, tail, process (what `serve` runs)");
  ev->require_subcommand(1);
  auto type = std::make_shared<std::string>();
  auto last = std::make_shared<size_t>(0);
  auto state_dir = std::make_shared<std::string>();
  const char* state_help = "The --state-dir of a `serve --lake s3://...`: read its journal (on an S3 lake)";
  auto* list = ev->add_subcommand("list", "Print the journaled events (JSON lines)");
  list->add_option("--type", *type, "Only events of this type (object.created, job.failed, ...)");
  list->add_option("-n,--last", *last, "Only the last N");
  list->add_option("--state-dir", *state_dir, state_help);
  list->callback([&ctx, type, last, state_dir] {
    ctx.action = [&ctx, type, last, state_dir] { return ListEvents(ctx, *type, *last, false, *state_dir); };
  });
  auto tail_n = std::make_shared<size_t>(10);
  auto follow = std::make_shared<bool>(false);
  auto* tail = ev->add_subcommand("tail", "Print the last events; -f waits for new ones");
  tail->add_option("-n,--last", *tail_n, "How many (default 10)");
  tail->add_flag("-f,--follow", *follow, "Keep printing new events until interrupted");
  tail->add_option("--state-dir", *state_dir, state_help);
  tail->callback([&ctx, tail_n, follow, state_dir] {
    ctx.action = [&ctx, tail_n, follow, state_dir] { return ListEvents(ctx, "", *tail_n, *follow, *state_dir); };
  });
  auto* process = ev->add_subcommand("process", "Run the rules over the events no one processed yet (when no server runs)");
  process->callback([&ctx] {
    ctx.action = [&ctx] {
      auto o = OpenAll(ctx, true);
      if (!o.ok()) return Fail(o.status());
      int total = 0;
      for (;;) {
        auto n = o->engine->ProcessPending();
        if (!n.ok()) return Fail(n.status());
        total += *n;
        o->topics->DeliverDue();
        if (*n == 0) break;
      }
      // Deliveries that failed once get their immediate retries now; later ones wait for `serve`.
      for (int i = 0; i < 4 && o->topics->stats().pending > 0; ++i) o->topics->DeliverDue();
      auto s = o->engine->stats();
      auto d = o->topics->stats();
      std::printf("%d events, %llu actions (%llu already done), %llu failures, %llu dead-lettered; %llu deliveries, %llu pending\n",
                  total, static_cast<unsigned long long>(s.actions), static_cast<unsigned long long>(s.skipped_done),
                  static_cast<unsigned long long>(s.failures), static_cast<unsigned long long>(s.dead_lettered),
                  static_cast<unsigned long long>(d.delivered), static_cast<unsigned long long>(d.pending));
      return 0;
    };
  });

  auto* rules = root.add_subcommand("rules", "The event rules of pipeline.yaml: list, test EVENT.json");
  rules->require_subcommand(1);
  auto* rlist = rules->add_subcommand("list", "List the rules, their patterns or schedules, and targets");
  rlist->callback([&ctx] {
    ctx.action = [&ctx] {
      auto o = OpenAll(ctx, true);
      if (!o.ok()) return Fail(o.status());
      auto now = ProcessClock().Now();
      for (const auto& r : o->engine->config().rules) {
        std::printf("%s\n", r.name.c_str());
        if (r.pattern) std::printf("  pattern   %s\n", r.pattern->json().dump().c_str());
        if (r.schedule) {
          auto next = r.schedule->NextAfter(now);
          time_t s = next ? static_cast<time_t>(ToEpochMs(*next) / 1000) : 0;
          char buf[32] = "never";
          if (next) std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&s));
          std::printf("  schedule  %s (next %s)\n", r.schedule->expression().c_str(), buf);
        }
        for (const auto& t : r.targets) std::printf("  target    %s\n", TargetText(t).c_str());
      }
      return 0;
    };
  });
  auto event_file = std::make_shared<std::string>();
  auto* rtest = rules->add_subcommand("test", "Which rules an event matches, and why the others do not");
  rtest->add_option("event", *event_file, "A JSON file holding one event ('-' = stdin)")->required();
  rtest->callback([&ctx, event_file] {
    ctx.action = [&ctx, event_file] {
      std::string text;
      if (*event_file == "-") {
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) text.append(buf, n);
      } else {
        FILE* f = std::fopen(event_file->c_str(), "rb");
        if (!f) return Fail("cannot read " + *event_file);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
        std::fclose(f);
      }
      auto event = nlohmann::json::parse(text, nullptr, false);
      if (!event.is_object()) return Fail(*event_file + ": not a JSON object");
      auto o = OpenAll(ctx, true);
      if (!o.ok()) return Fail(o.status());
      int matched = 0;
      for (const auto& m : o->engine->Test(event)) {
        std::printf("%-8s %s: %s\n", m.matched ? "match" : "no", m.rule.c_str(), m.why.c_str());
        matched += m.matched;
      }
      return matched > 0 ? 0 : 1;
    };
  });

  auto* topics = root.add_subcommand("topics", "Topics and subscriptions (SNS): list, publish");
  topics->require_subcommand(1);
  auto* tlist = topics->add_subcommand("list", "List the topics and their subscriptions");
  tlist->callback([&ctx] {
    ctx.action = [&ctx] {
      auto o = OpenAll(ctx, true);  // the engine applies the topics declared in pipeline.yaml
      if (!o.ok()) return Fail(o.status());
      for (const auto& arn : o->topics->ListTopics()) {
        std::printf("%s\n", arn.c_str());
        for (const auto& s : o->topics->ListSubscriptions(arn))
          std::printf("  %-8s %s%s%s\n", s.protocol.c_str(), s.endpoint.c_str(), s.confirmed ? "" : " (pending confirmation)",
                      s.filter_policy.empty() ? "" : (" filter " + s.filter_policy).c_str());
      }
      return 0;
    };
  });
  struct PublishOpts {
    std::string topic, message, subject;
  };
  auto popts = std::make_shared<PublishOpts>();
  auto* pub = topics->add_subcommand("publish", "Publish a message to a topic and deliver it");
  pub->add_option("--topic", popts->topic, "Topic name or ARN")->required();
  pub->add_option("--message", popts->message, "The message")->required();
  pub->add_option("--subject", popts->subject, "The subject");
  pub->callback([&ctx, popts] {
    ctx.action = [&ctx, popts] {
      auto o = OpenAll(ctx, true);
      if (!o.ok()) return Fail(o.status());
      std::string arn = popts->topic.rfind("arn:", 0) == 0 ? popts->topic : o->topics->TopicArn(popts->topic);
      auto r = o->topics->Publish(arn, popts->message, popts->subject);
      if (!r.ok()) return Fail(r.status());
      for (int i = 0; i < 4 && o->topics->stats().pending > 0; ++i) o->topics->DeliverDue();
      auto d = o->topics->stats();
      std::printf("message %s: %d deliveries (%llu delivered, %llu failed attempts), %d filtered out\n",
                  r->message_id.c_str(), r->deliveries, static_cast<unsigned long long>(d.delivered),
                  static_cast<unsigned long long>(d.failed_attempts), r->filtered);
      return d.pending > 0 ? 1 : 0;
    };
  });
}

void RegisterAlarms(CLI::App& root, Context& ctx) {
  auto* alarms = root.add_subcommand("alarms", "Alarms of pipeline.yaml (CloudWatch's role): list");
  alarms->require_subcommand(1);
  auto* list = alarms->add_subcommand("list", "List the alarms and their last state change");
  list->callback([&ctx] {
    ctx.action = [&ctx] {
      auto o = OpenAll(ctx, true);
      if (!o.ok()) return Fail(o.status());
      // The state is the server's: its last alarm.state_change in the journal.
      std::map<std::string, nlohmann::json> last;
      uint64_t offset = 0;
      for (;;) {
        auto batch = events::ReadEvents(*o->store, offset, 10000);
        if (!batch.ok()) return Fail(batch.status());
        if (batch->empty()) break;
        offset = batch->back().end_offset;
        for (const auto& e : *batch)
          if (e.type == "alarm.state_change") last[e.json.value("alarm", "")] = e.json;
      }
      for (const auto& a : o->engine->config().alarms) {
        auto it = last.find(a.name);
        std::string state = it == last.end() ? "INSUFFICIENT_DATA" : it->second.value("to", "?");
        std::printf("%-24s %-17s %s of %s.%s %s %g, %d of %d periods of %llds, missing data %s\n", a.name.c_str(),
                    state.c_str(), a.statistic.c_str(), a.event_type.c_str(), a.metric.c_str(), a.comparison.c_str(),
                    a.threshold, a.datapoints_to_alarm ? a.datapoints_to_alarm : a.evaluation_periods,
                    a.evaluation_periods, static_cast<long long>(a.period_s), a.treat_missing_data.c_str());
        if (it != last.end()) std::printf("  since %s: %s\n", it->second.value("time", "").c_str(), it->second.value("reason", "").c_str());
      }
      return 0;
    };
  });
}

const CommandRegistrar kRegistrar(85, &Register);
const CommandRegistrar kAlarmsRegistrar(86, &RegisterAlarms);

}  // namespace

}  // namespace saleslake::cli
