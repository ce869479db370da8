// The audit log: one JSON line per decision worth keeping (every denial, every write).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "auth/auth.h"
#include "auth/internal/crypto.h"
#include "common/logging.h"
#include "io/local_store.h"

namespace saleslake::auth {

AuditLog::AuditLog(io::ObjectStore& store) : store_(store) {}

std::string AuditLog::ToJsonLine(const AuditRecord& r) {
  std::string out = "{\"time\":" + JsonQuote(FormatIso8601(r.time));
  out += ",\"principal\":" + JsonQuote(r.principal.empty() ? "anonymous" : r.principal);
  if (!r.access_key_id.empty()) out += ",\"access_key_id\":" + JsonQuote(r.access_key_id);
  out += ",\"source_ip\":" + JsonQuote(r.source_ip);
  out += ",\"action\":" + JsonQuote(r.action);
  out += ",\"resource\":" + JsonQuote(r.resource);
  out += ",\"decision\":" + JsonQuote(r.decision.KindName());
  out += ",\"policy\":" + JsonQuote(r.decision.policy);
  out += ",\"statement\":" + JsonQuote(r.decision.statement);
  if (!r.request_id.empty()) out += ",\"request_id\":" + JsonQuote(r.request_id);
  if (r.http_status != 0) out += ",\"status\":" + std::to_string(r.http_status);
  out += "}";
  return out;
}

Status AuditLog::Record(const AuditRecord& record) {
  std::string line = ToJsonLine(record) + "\n";
  std::string day = FormatIso8601(record.time).substr(0, 10);
  if (auto* local = dynamic_cast<io::LocalStore*>(&store_)) {
    // One write(2) of the whole line on an O_APPEND descriptor: concurrent writers (threads or
    // processes) never interleave within a line, and nothing earlier is ever rewritten.
    SL_RETURN_IF_ERROR(local->MakeDir("_system/audit"));
    std::string path = local->PathOf("_system/audit/" + day + ".jsonl");
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return Status::FromErrno(errno, path);
    ssize_t n = write(fd, line.data(), line.size());
    int err = errno;
    close(fd);
    if (n != static_cast<ssize_t>(line.size())) {
      return n < 0 ? Status::FromErrno(err, path) : Status::IOError(path + ": short audit write");
    }
    return Status::OK();
  }
  // Other stores: a durable append to the same day file where the store has appends (the
  // server's split store over an S3 lake keeps the audit in its local state directory)...
  Status appended = store_.Append("_system/audit/" + day + ".jsonl", line);
  if (appended.code() != StatusCode::kNotImplemented) return appended;
  // ...else one small object per line, named so a listing is in time order.
  SL_ASSIGN_OR_RETURN(std::string rnd, internal::RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789"));
  std::string key = "_system/audit/" + day + "/" + FormatAmzDate(record.time) + "-" + rnd + ".json";
  return store_.PutIfAbsent(key, line);
}

}  // namespace saleslake::auth
