#include "server/internal/query_manager.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "common/batch.h"
#include "common/thread_annotations.h"
#include "server/internal/result_spool.h"
#include "server/internal/trino_json.h"
#include "sql/sql.h"

namespace saleslake::server::internal {

const char* QueryStateName(QueryState state) {
  switch (state) {
    case QueryState::kQueued: return "QUEUED";
    case QueryState::kRunning: return "RUNNING";
    case QueryState::kSucceeded: return "SUCCEEDED";
    case QueryState::kFailed: return "FAILED";
    case QueryState::kCancelled: return "CANCELLED";
  }
  return "FAILED";
}

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// How often `word` appears in `sql` as a whole identifier (case-insensitive; quoted
// identifiers count too, string literals do not).
size_t CountIdentifier(std::string_view sql, std::string_view word) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  size_t n = 0;
  bool in_string = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '\'') {
      in_string = !in_string;
      continue;
    }
    if (in_string || (i > 0 && ident(sql[i - 1])) || i + word.size() > sql.size()) continue;
    if (EqualsIgnoreCase(sql.substr(i, word.size()), word) &&
        (i + word.size() == sql.size() || !ident(sql[i + word.size()]))) {
      ++n;
    }
  }
  return n;
}

}  // namespace

struct QueryManager::Impl {
  struct Entry {
    QueryInfo info;
    // The rows as their JSON text, in memory and on disk (null until the query runs). Shared
    // with the queries that reuse this result (never changed once the query is final); released
    // by dropping the pointer (a read in progress holds its own reference).
    std::shared_ptr<ResultSpool> rows;
    bool cancel_requested = false;
    bool timed_out = false;  // stopped by its time limit: FAILED, not CANCELLED
    sql::QueryResult* running = nullptr;  // set while a runner pulls its rows
    TimePoint last_access{};
    std::string reuse_key;  // sql::QueryResult::reuse_key of the statement, once planned
  };

  const sql::Engine* engine;
  QueryManagerOptions options;
  Clock* clock;
  std::string spool_dir;

  mutable Mutex mu;
  mutable std::condition_variable_any changed;  // a state changed, rows arrived, or shutdown
  std::map<std::string, std::shared_ptr<Entry>> entries SL_GUARDED_BY(mu);
  std::deque<std::string> order SL_GUARDED_BY(mu);   // ids, oldest first (history order)
  std::deque<std::string> queue SL_GUARDED_BY(mu);   // QUEUED ids, oldest first
  std::map<std::string, int> running_by_workgroup SL_GUARDED_BY(mu);
  std::mt19937_64 rng SL_GUARDED_BY(mu){std::random_device{}()};
  bool stopping SL_GUARDED_BY(mu) = false;
  std::vector<std::thread> runners;
  TimePoint last_sweep SL_GUARDED_BY(mu){};

  // The succeeded listener runs on its own thread, not on the runner that ran the query: Athena's
  // listener writes the result file with its fsyncs, which took 2-80 ms a query on the shared
  // machine, and a runner held that long made the next queries wait QUEUED behind it. The
  // listener is called under listener_mu (never while mu is held: it may Fetch), so that
  // SetSucceededListener can wait for a call in progress.
  Mutex listener_mu;  // taken before mu, never while holding it
  std::function<void(const QueryInfo&)> on_succeeded SL_GUARDED_BY(listener_mu);
  bool has_listener SL_GUARDED_BY(mu) = false;
  std::deque<QueryInfo> succeeded SL_GUARDED_BY(mu);  // queries to announce, oldest first
  std::thread notifier;

  // Per-workgroup limits: options.workgroup_max_running until SetWorkgroupLimits replaces them.
  std::map<std::string, int> workgroup_limits SL_GUARDED_BY(mu);

  int LimitOf(const std::string& workgroup) const SL_REQUIRES(mu) {
    auto it = workgroup_limits.find(workgroup);
    return it == workgroup_limits.end() ? options.max_running : it->second;
  }

  std::string NewId() SL_REQUIRES(mu) {
    uint64_t a = rng(), b = rng();
    a = (a & ~0xF000ull) | 0x4000ull;                   // version 4
    b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFFF,
                       b >> 48, b & 0xFFFFFFFFFFFFull);
  }

  // At most one full sweep per this much of the clock: a sweep walks the whole history (1000
  // queries), and it was most of StartQueryExecution's CPU when it ran on every Submit and Fetch.
  static constexpr std::chrono::milliseconds kSweepEvery{1000};

  // Releases idle results and forgets the oldest finished queries past the history bound; a
  // full walk only when the history is over its bound or kSweepEvery passed (a fetched query's
  // own idle time is checked by ReadRows, so its expiry stays exact).
  void Sweep() SL_REQUIRES(mu) {
    const TimePoint now = clock->Now();
    size_t active = queue.size();
    for (const auto& [wg, n] : running_by_workgroup) active += static_cast<size_t>(std::max(n, 0));
    const bool over_bound = order.size() > options.max_history + active;
    if (!over_bound && now - last_sweep < std::min(kSweepEvery, options.result_idle_timeout)) return;
    last_sweep = now;
    size_t finished = 0;
    for (auto& [id, e] : entries) {
      if (!IsFinal(e->info.state)) continue;
      ++finished;
      if (!e->info.results_released && now - e->last_access >= options.result_idle_timeout) {
        ReleaseRows(*e);
      }
    }
    for (auto it = order.begin(); finished > options.max_history && it != order.end();) {
      auto e = entries.find(*it);
      if (e != entries.end() && IsFinal(e->second->info.state)) {
        entries.erase(e);
        it = order.erase(it);
        --finished;
      } else {
        ++it;
      }
    }
  }

  static void ReleaseRows(Entry& e) {
    e.rows.reset();  // a query reusing them keeps its reference
    e.info.results_released = true;
    e.info.result_bytes = 0;
  }

  // The next runnable query (its workgroup below its limit), moved to RUNNING; null to stop.
  std::shared_ptr<Entry> Take() SL_EXCLUDES(mu) {
    MutexLock lock(mu);
    while (true) {
      if (stopping) return nullptr;
      for (auto it = queue.begin(); it != queue.end(); ++it) {
        auto e = entries.find(*it);
        if (e == entries.end()) {
          queue.erase(it);
          break;  // restart the scan with a valid iterator
        }
        Entry& entry = *e->second;
        if (running_by_workgroup[entry.info.request.workgroup] >= LimitOf(entry.info.request.workgroup)) {
          continue;
        }
        queue.erase(it);
        entry.info.state = QueryState::kRunning;
        entry.info.started = clock->Now();
        ++running_by_workgroup[entry.info.request.workgroup];
        changed.notify_all();
        return e->second;
      }
      changed.wait(mu.native());
    }
  }

  // The newest earlier result that may answer `e` (QueryRequest::reuse_max_age), or null. Only
  // results that ran themselves are candidates: a reused result's age is its source's.
  const Entry* Reusable(const Entry& e) const SL_REQUIRES(mu) {
    const QueryRequest& want = e.info.request;
    if (!want.reuse_max_age || e.reuse_key.empty() || !e.info.has_rows) return nullptr;
    const TimePoint now = clock->Now();
    const Entry* best = nullptr;
    for (const auto& [id, p] : entries) {
      const Entry& c = *p;
      const QueryRequest& had = c.info.request;
      if (&c == &e || c.info.state != QueryState::kSucceeded || c.info.results_released ||
          !c.info.reused_from.empty() || !c.info.finished || c.reuse_key != e.reuse_key || had.sql != want.sql ||
          had.catalog != want.catalog || had.database != want.database || had.workgroup != want.workgroup ||
          had.user != want.user || had.redact_columns != want.redact_columns) {
        continue;
      }
      if (now - *c.info.finished > *want.reuse_max_age) continue;
      if (!best || *c.info.finished > *best->info.finished) best = &c;
    }
    return best;
  }

  void Finish(Entry& e, const Status& status) SL_REQUIRES(mu) {
    e.running = nullptr;
    if (e.cancel_requested) {
      e.info.state = QueryState::kCancelled;
      e.info.error_code = StatusCode::kCancelled;
      e.info.error = "Query cancelled by the user";
      ReleaseRows(e);
    } else if (!status.ok()) {
      e.info.state = status.code() == StatusCode::kCancelled && !e.timed_out ? QueryState::kCancelled
                                                                            : QueryState::kFailed;
      e.info.error_code = status.code();
      e.info.error = status.message();
      ReleaseRows(e);
    } else {
      e.info.state = QueryState::kSucceeded;
    }
    e.info.finished = clock->Now();
    e.last_access = *e.info.finished;
    --running_by_workgroup[e.info.request.workgroup];
    if (e.info.state == QueryState::kSucceeded && e.info.request.announce && has_listener) {
      e.info.listener_pending = true;
      succeeded.push_back(e.info);
    }
    changed.notify_all();
  }

  // The notifier thread: calls the succeeded listener for each query in `succeeded`, in order.
  void Notify() SL_EXCLUDES(mu, listener_mu) {
    while (true) {
      QueryInfo info;
      {
        MutexLock lock(mu);
        while (!stopping && succeeded.empty()) changed.wait(mu.native());
        if (stopping) return;
        info = std::move(succeeded.front());
        succeeded.pop_front();
      }
      {
        MutexLock lock(listener_mu);
        if (on_succeeded) on_succeeded(info);
      }
      Announced(info.id);
    }
  }

  // The listener has returned for `id` (or will not be called): Wait may answer.
  void Announced(const std::string& id) SL_EXCLUDES(mu) {
    MutexLock lock(mu);
    if (auto it = entries.find(id); it != entries.end()) it->second->info.listener_pending = false;
    changed.notify_all();
  }

  static constexpr size_t kTextSlice = 4096;  // rows turned into text at a time

  // Keeps `n` rows of `e`'s result, `text` their JSON lines (in memory while its first
  // spool_after_bytes last, then appended to its spool file). An error (too much result, a
  // spool that fails) ends the query.
  Status Store(Entry& e, std::string_view text, uint64_t n) SL_EXCLUDES(mu) {
    std::shared_ptr<ResultSpool> rows;
    {
      MutexLock lock(mu);
      if (e.cancel_requested) return Status::Cancelled("cancelled");  // mid-way through a big batch
      e.info.result_bytes += text.size();
      if (e.info.result_bytes > options.max_result_bytes) {
        return Status::ResourceExhausted(fmt::format(
            "query result exceeded the limit of {} bytes held for paging", options.max_result_bytes));
      }
      rows = e.rows;
    }
    // Written without the manager's lock: fetches of other queries (and of this one's rows
    // already written) go on meanwhile.
    SL_RETURN_IF_ERROR(rows->Append(text, n));
    MutexLock lock(mu);
    e.info.rows += n;
    e.info.spooled_rows = rows->spooled_rows();
    changed.notify_all();
    return Status::OK();
  }

  void Run(Entry& e) SL_EXCLUDES(mu) {
    std::string sql;
    uint64_t max_bytes = 0;
    std::chrono::milliseconds time_limit{0};
    {
      MutexLock lock(mu);
      sql = e.info.request.sql;
      max_bytes = e.info.request.max_bytes_scanned;
      time_limit = e.info.request.time_limit.count() > 0 ? e.info.request.time_limit : options.default_time_limit;
      if (e.cancel_requested) return Finish(e, Status::Cancelled("cancelled"));
    }
    auto result = engine->Query(sql);
    if (!result.ok()) {
      MutexLock lock(mu);
      return Finish(e, result.status());
    }
    sql::QueryResult& qr = **result;
    if (max_bytes > 0) qr.LimitBytesRead(max_bytes);
    qr.LimitTime(time_limit);
    std::vector<bool> redacted;
    {
      MutexLock lock(mu);
      const Schema& schema = qr.schema();
      redacted.assign(schema.size(), false);
      for (const std::string& name : e.info.request.redact_columns) {
        size_t named = 0;
        for (size_t c = 0; c < schema.size(); ++c) {
          if (EqualsIgnoreCase(schema[c].name, name)) {
            redacted[c] = true;
            ++named;
          }
        }
        if (CountIdentifier(sql, name) > named) {
          qr.Cancel();
          return Finish(e, Status::PermissionDenied("Access denied: column " + name +
                                                    " holds PII and needs saleslake:ReadPii"));
        }
      }
      e.info.schema = schema;
      e.info.message = qr.message();
      e.info.has_rows = qr.message().empty();
      e.reuse_key = qr.reuse_key();
      if (e.cancel_requested) return Finish(e, Status::Cancelled("cancelled"));
      if (const Entry* previous = Reusable(e)) {
        // Answered by the earlier result: the planned statement is dropped unrun.
        e.rows = previous->rows;
        e.info.rows = previous->info.rows;
        e.info.spooled_rows = previous->info.spooled_rows;
        e.info.result_bytes = previous->info.result_bytes;
        e.info.reused_from = previous->info.id;
        return Finish(e, Status::OK());
      }
      e.running = &qr;
      e.rows = ResultSpool::Make(spool_dir, options.spool_after_bytes);
    }
    Batch batch;
    std::string text;  // one slice of rows as JSON lines, the buffer reused from slice to slice
    Status status;
    while (status.ok()) {
      auto more = qr.Next(&batch);
      if (!more.ok()) {
        status = more.status();
        break;
      }
      if (!*more) break;
      // A batch may hold the whole result (a sort hands out one): its text is made and stored a
      // slice at a time, so that at most one slice of text is in memory beside the spool.
      for (size_t first = 0; first < batch.num_rows && status.ok(); first += kTextSlice) {
        const size_t last = std::min(batch.num_rows, first + kTextSlice);
        text.clear();
        AppendTrinoRows(batch, first, last, redacted, &text);
        status = Store(e, text, last - first);
      }
      if (!status.ok()) {
        MutexLock lock(mu);
        e.running = nullptr;
        qr.Cancel();
      }
    }
    if (max_bytes > 0 && status.code() == StatusCode::kResourceExhausted && qr.bytes_read() > max_bytes) {
      // Athena cancels a query past its workgroup's cutoff, with this reason.
      status = Status::Cancelled("Query cancelled! : Bytes scanned limit was exceeded");
    }
    const bool timed_out = time_limit.count() > 0 && status.code() == StatusCode::kCancelled &&
                           status.message().find("time limit") != std::string::npos;
    if (timed_out) {
      status = Status::Cancelled(fmt::format("Query exceeded the time limit of {:.2f}s",
                                             static_cast<double>(time_limit.count()) / 1000.0));
    }
    {
      MutexLock lock(mu);
      e.info.bytes_scanned = qr.bytes_read();
      e.timed_out = timed_out && !e.cancel_requested;
      Finish(e, status);
    }
  }
};

QueryManager::QueryManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<QueryManager>> QueryManager::Create(const sql::Engine* engine,
                                                           QueryManagerOptions options) {
  if (engine == nullptr) return Status::InvalidArgument("query manager: no engine");
  if (options.max_running < 1) return Status::InvalidArgument("query manager: max_running must be at least 1");
  auto impl = std::make_unique<Impl>();
  impl->engine = engine;
  impl->clock = options.clock ? options.clock : &SystemClock();
  impl->options = std::move(options);
  impl->spool_dir = impl->options.spool_dir;
  {
    MutexLock lock(impl->mu);
    impl->workgroup_limits = impl->options.workgroup_max_running;
  }
  if (impl->spool_dir.empty()) {
    std::error_code ec;
    impl->spool_dir = std::filesystem::temp_directory_path(ec).string();
    if (ec) impl->spool_dir = "/tmp";
  }
  Impl* raw = impl.get();
  for (int i = 0; i < raw->options.max_running; ++i) {
    raw->runners.emplace_back([raw] {
      while (auto entry = raw->Take()) raw->Run(*entry);
    });
  }
  raw->notifier = std::thread([raw] { raw->Notify(); });
  return std::unique_ptr<QueryManager>(new QueryManager(std::move(impl)));
}

QueryManager::~QueryManager() {
  {
    MutexLock lock(impl_->mu);
    impl_->stopping = true;
    for (auto& [id, e] : impl_->entries) {
      e->cancel_requested = e->cancel_requested || !IsFinal(e->info.state);
      if (e->running) e->running->Cancel();
    }
    impl_->changed.notify_all();
  }
  for (auto& t : impl_->runners) t.join();
  impl_->notifier.join();
}

Result<std::string> QueryManager::Submit(QueryRequest request) {
  if (request.sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
    return Status::InvalidArgument("the query string is empty");
  }
  MutexLock lock(impl_->mu);
  impl_->Sweep();
  if (impl_->queue.size() >= impl_->options.max_queued) {
    return Status::ResourceExhausted(
        fmt::format("too many queued queries ({}); try again later", impl_->queue.size()));
  }
  auto entry = std::make_shared<Impl::Entry>();
  entry->info.id = impl_->NewId();
  entry->info.request = std::move(request);
  entry->info.submitted = impl_->clock->Now();
  entry->last_access = entry->info.submitted;
  std::string id = entry->info.id;
  impl_->entries[id] = std::move(entry);
  impl_->order.push_back(id);
  impl_->queue.push_back(id);
  impl_->changed.notify_all();
  return id;
}

Result<QueryInfo> QueryManager::Get(const std::string& id) const {
  MutexLock lock(impl_->mu);
  auto it = impl_->entries.find(id);
  if (it == impl_->entries.end()) return Status::NotFound("no query with id " + id);
  return it->second->info;
}

Result<QueryInfo> QueryManager::Wait(const std::string& id, std::chrono::milliseconds max_wait) const {
  const auto until = std::chrono::steady_clock::now() + max_wait;
  MutexLock lock(impl_->mu);
  while (true) {
    auto it = impl_->entries.find(id);
    if (it == impl_->entries.end()) return Status::NotFound("no query with id " + id);
    if (IsFinal(it->second->info.state) && !it->second->info.listener_pending) return it->second->info;
    if (impl_->changed.wait_until(impl_->mu.native(), until) == std::cv_status::timeout) {
      it = impl_->entries.find(id);
      if (it == impl_->entries.end()) return Status::NotFound("no query with id " + id);
      return it->second->info;
    }
  }
}

Status QueryManager::Cancel(const std::string& id) {
  MutexLock lock(impl_->mu);
  auto it = impl_->entries.find(id);
  if (it == impl_->entries.end()) return Status::NotFound("no query with id " + id);
  Impl::Entry& e = *it->second;
  if (IsFinal(e.info.state)) return Status::OK();
  e.cancel_requested = true;
  if (e.info.state == QueryState::kQueued) {
    impl_->queue.erase(std::remove(impl_->queue.begin(), impl_->queue.end(), id), impl_->queue.end());
    e.info.state = QueryState::kCancelled;
    e.info.error_code = StatusCode::kCancelled;
    e.info.error = "Query cancelled by the user";
    e.info.finished = impl_->clock->Now();
    e.last_access = *e.info.finished;
    impl_->changed.notify_all();
  } else if (e.running) {
    e.running->Cancel();
  }
  return Status::OK();
}

Result<ResultPage> QueryManager::Fetch(const std::string& id, uint64_t offset, size_t max_rows) {
  ResultPage page;
  page.offset = offset;
  std::string text;
  SL_ASSIGN_OR_RETURN(RowsRead read, ReadRows(id, offset, max_rows, SIZE_MAX, &text, '\n', &page.schema));
  page.rows.reserve(read.rows);
  for (size_t pos = 0; pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    SL_RETURN_IF_ERROR(DecodeTrinoRow(std::string_view(text).substr(pos, nl - pos), &page.rows.emplace_back()));
    pos = nl + 1;
  }
  page.complete = read.complete;
  return page;
}

Result<QueryManager::RowsRead> QueryManager::ReadRows(const std::string& id, uint64_t offset, size_t max_rows,
                                                      size_t max_bytes, std::string* out, char row_end,
                                                      Schema* schema) {
  RowsRead read;
  std::shared_ptr<ResultSpool> rows;
  uint64_t total = 0;
  bool succeeded = false;
  {
    MutexLock lock(impl_->mu);
    impl_->Sweep();
    auto it = impl_->entries.find(id);
    if (it == impl_->entries.end()) return Status::NotFound("no query with id " + id);
    Impl::Entry& e = *it->second;
    if (e.info.state == QueryState::kFailed || e.info.state == QueryState::kCancelled) {
      return Status(e.info.error_code == StatusCode::kOk ? StatusCode::kInvalidArgument : e.info.error_code,
                    fmt::format("query {} {}: {}", id, QueryStateName(e.info.state), e.info.error));
    }
    const TimePoint now = impl_->clock->Now();
    if (IsFinal(e.info.state) && !e.info.results_released &&
        now - e.last_access >= impl_->options.result_idle_timeout) {
      Impl::ReleaseRows(e);  // idle too long, whether or not a sweep has run since
    }
    if (e.info.results_released) return Status::NotFound("the results of query " + id + " expired");
    e.last_access = now;
    if (schema) *schema = e.info.schema;
    total = e.info.rows;  // the rows stored so far (the spool may hold a slice more)
    succeeded = e.info.state == QueryState::kSucceeded;
    // The reference keeps the rows (and the spool file) even if they are released meanwhile.
    rows = e.rows;
  }
  // Read without the manager's lock.
  if (rows && offset < total) {
    SL_ASSIGN_OR_RETURN(read.rows,
                        rows->Read(offset, std::min<uint64_t>(max_rows, total - offset), max_bytes, out, row_end));
  }
  read.complete = succeeded && offset + read.rows >= total;
  return read;
}

void QueryManager::SetWorkgroupLimits(std::map<std::string, int> workgroup_max_running) {
  MutexLock lock(impl_->mu);
  impl_->workgroup_limits = std::move(workgroup_max_running);
  impl_->changed.notify_all();
}

void QueryManager::SetSucceededListener(std::function<void(const QueryInfo&)> listener) {
  const bool set = static_cast<bool>(listener);
  {
    MutexLock lock(impl_->listener_mu);  // waits for a call in progress
    impl_->on_succeeded = std::move(listener);
  }
  MutexLock lock(impl_->mu);
  impl_->has_listener = set;
  if (set) return;
  for (const QueryInfo& q : impl_->succeeded) {  // never to be announced now
    if (auto it = impl_->entries.find(q.id); it != impl_->entries.end()) it->second->info.listener_pending = false;
  }
  impl_->succeeded.clear();
  impl_->changed.notify_all();
}

void QueryManager::Release(const std::string& id) {
  MutexLock lock(impl_->mu);
  auto it = impl_->entries.find(id);
  if (it != impl_->entries.end() && IsFinal(it->second->info.state)) Impl::ReleaseRows(*it->second);
}

std::vector<QueryInfo> QueryManager::List(const std::string& workgroup, size_t limit) const {
  MutexLock lock(impl_->mu);
  std::vector<QueryInfo> out;
  for (auto it = impl_->order.rbegin(); it != impl_->order.rend() && out.size() < limit; ++it) {
    auto e = impl_->entries.find(*it);
    if (e == impl_->entries.end()) continue;
    if (!workgroup.empty() && e->second->info.request.workgroup != workgroup) continue;
    out.push_back(e->second->info);
  }
  return out;
}

}  // namespace saleslake::server::internal
