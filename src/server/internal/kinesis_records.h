// The record-carrying Kinesis operations' wire format without a JSON tree: PutRecords' request
// scanner and answer writer, and GetRecords' answer writer. A tree costs a map and strings per
// record; these allocate nothing per record.
//
// The scanner accepts exactly the usual shape — {"StreamName"|"StreamARN": "...", "Records":
// [{"Data": "<base64>", "PartitionKey": "...", "ExplicitHashKey": "..."}, ...]} with plain
// ASCII strings (no escapes), 1..500 records within Kinesis's size limits — and declines
// anything else (unknown members, escapes, nulls, bad base64, limits passed, malformed JSON).
// Declined bodies take the generic path (nlohmann::json + kinesis_api.cc's checks), which
// answers them as before: the error messages have one source.
// Thread safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stream/stream.h"

namespace saleslake::server::internal {

struct PutRecordsInput {
  std::string stream;                        // StreamName, or the name in StreamARN
  std::vector<stream::PutEntryRef> records;  // views into the body and `data`
  std::string data;                          // every record's decoded bytes, back to back
};

// True when `body` is a PutRecords request the fast path takes (then *out holds it).
bool ScanPutRecords(std::string_view body, PutRecordsInput* out);

// The PutRecords answer for `placed` (one entry per record, in request order), byte for byte
// what nlohmann::json renders for the same object (members in sorted order). A failed record is
// ProvisionedThroughputExceededException (over a shard's rate) or InternalFailure.
std::string PutRecordsReply(std::span<const stream::PutPlacement> placed);

// The GetRecords answer, byte for byte what nlohmann::json renders for it (arrival times as
// epoch seconds with milliseconds, data in base64, invalid UTF-8 in a partition key replaced).
std::string GetRecordsReply(const stream::GetRecordsResult& result);

}  // namespace saleslake::server::internal
