// The lake as the server sees it when the lake is not a local directory (`serve --lake s3://...`):
// one ObjectStore whose keys live in two places.
//
// What the serving machine writes for itself stays in the local state directory (--state-dir):
// the append-only, fsynced logs (audit, the event journal and its consumers' checkpoints and done
// markers, the SNS outbox, dead letters), the staging of multipart uploads, the spooled query
// results and the stream shard logs — things that need appends, positional writes or a path, and
// that no other machine reads. Everything else (pipeline.yaml, raw_data/, catalog/,
// processed_data/, IAM, bookmarks, job locks, run history, dashboards, saved queries, Athena
// results) goes to the lake's store, so the CLI and other engines on other machines see it.
//
// A key is routed by its prefix (kLocalStatePrefixes), always to the same place, so every
// operation on one key sees one store. A listing that spans both merges them, sorted.
// Over a local lake there is nothing to split: the server uses the LocalStore itself.
// Thread safety: as ObjectStore (both underlying stores are thread-safe).
#pragma once

#include <array>
#include <memory>
#include <string_view>

#include "io/local_store.h"
#include "io/object_store.h"

namespace saleslake::server::internal {

// Key prefixes kept in the local state directory (an exact key is its own prefix).
inline constexpr std::array<std::string_view, 10> kLocalStatePrefixes = {
    "_system/audit/",             // auth::AuditLog: one line per decision
    "_system/events.jsonl",       // catalog's journal of events the server records
    "_system/events/checkpoints/",  // events::Engine consumers
    "_system/events/done",        // done markers (done.jsonl, legacy done/)
    "_system/events/runs/",       // rule target run logs
    "_system/sns/",               // the SNS state and its outbox log
    "_system/dlq/",               // dead letters
    "_system/query_spool/",       // spooled query results (unlinked files)
    "_system/s3/uploads/",        // multipart staging (written in place)
    "streams/",                   // Kinesis shard logs
};

// True when `key` lives in the state directory.
bool IsLocalStateKey(std::string_view key);

// The split store over `lake` (the lake's own store, e.g. an S3Store) and `state` (the local state
// directory). Neither is owned; both must outlive the result.
std::unique_ptr<io::ObjectStore> MakeServedLake(io::ObjectStore& lake, io::LocalStore& state);

}  // namespace saleslake::server::internal
