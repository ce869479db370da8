// The small encodings of the stream module: CRC32C for log frames, Kinesis hash keys (MD5 of the
// partition key read as a 128-bit big-endian number) and their even split over shards, sequence
// numbers, and the HMAC-signed shard iterators.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace saleslake::stream::internal {

__extension__ typedef unsigned __int128 HashKey;

// CRC32C (Castagnoli), as in iSCSI and ext4: `crc` continues an earlier value (0 to start).
uint32_t Crc32c(std::string_view bytes, uint32_t crc = 0);

// MD5(partition key) as a big-endian 128-bit number: the key Kinesis routes a record by.
HashKey HashKeyOf(std::string_view partition_key);
// A decimal 128-bit number (ExplicitHashKey, hash ranges); nullopt when not one.
std::optional<HashKey> ParseHashKey(std::string_view decimal);
std::string FormatHashKey(HashKey key);
// Kinesis's even split of [0, 2^128) into `shards` ranges: shard i starts at i * floor(2^128/n)
// and the last one ends at 2^128 - 1.
HashKey ShardStart(int shard, int shards);
HashKey ShardEnd(int shard, int shards);
int ShardOf(HashKey key, int shards);

// Sequence numbers: "1" followed by the shard-local ordinal in 20 digits, so that numeric and
// text order agree and every shard's numbers increase.
std::string FormatSequence(uint64_t ordinal);
void AppendSequence(std::string* out, uint64_t ordinal);  // FormatSequence without a new string
std::optional<uint64_t> ParseSequence(std::string_view text);

// A shard iterator's contents; `stream_epoch_ms` tells a recreated stream of the same name from
// the old one.
struct IteratorState {
  std::string stream;
  int64_t stream_epoch_ms = 0;
  int shard = 0;
  uint64_t ordinal = 0;
  int64_t issued_ms = 0;
};
// Hex of the state and its HMAC-SHA-256 under `key`: opaque to clients and tamper-proof.
std::string EncodeIterator(const IteratorState& state, std::string_view key);
// nullopt when the text was not made with `key` (tampered, truncated or foreign).
std::optional<IteratorState> DecodeIterator(std::string_view text, std::string_view key);

}  // namespace saleslake::stream::internal
