// Durable appends with group commit, for LocalStore::Append (journals of small records: the
// event journal, done markers, the SNS outbox, dead letters, audit lines).
//
// An fdatasync costs 0.2-5 ms on the lake's disks, so one per record caps a journal at a few
// hundred to a few thousand records per second however many threads append. Here concurrent
// appends to one file in this process queue their bytes; the first waiter becomes the leader,
// writes everything queued so far with one O_APPEND writev and one fdatasync, and wakes that
// batch's appenders and one appender of the next batch (which has been filling meanwhile, and
// which it then leads). Every call still returns only after its own bytes are durable (or with
// the error of the batch that carried them; a failed batch is truncated away again when it is
// the file's tail); a batch's bytes are one writev, so they never interleave with another
// process's appends.
//
// Line records: when `data` ends with '\n' and the file does not (a torn last line left by a
// crash mid-write), a '\n' is written first, so the torn line stays one unreadable line instead
// of swallowing the next record.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace saleslake::io::internal {

// Appends `data` to the file at `path` (created, with its folders, when missing) and syncs it.
Status GroupAppend(const std::string& path, std::string_view data);

}  // namespace saleslake::io::internal
