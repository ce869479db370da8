// Exact DISTINCT aggregates (count(DISTINCT x), sum(DISTINCT x), ... with or without GROUP BY):
// the argument values interned once into typed hash tables, and the (group, value) pairs kept
// as 64-bit integers. Internal to sql/functions (and its tests).
//
// Why this shape: a grouped count(DISTINCT customer_id) meets each customer in many groups. The
// value is hashed and stored once (its bytes in an arena, a slot that points at them), and each
// group that has it costs one 8-byte pair key, not a copy of the string. A global count(DISTINCT)
// (every row in group 0) keeps no pairs at all: the value table is the answer. The tables never
// hold a std::string per row, and a dictionary-encoded argument is interned once per dictionary
// entry, not once per row.
//
// Thread safety: none; one owner. Thread-local partials are merged with Merge.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch.h"
#include "common/hash.h"
#include "sql/functions/functions.h"

namespace saleslake::sql::internal {

// Distinct byte strings -> dense ids 0, 1, 2, ... in insertion order. Each key is stored once in
// an arena as [4-byte length][bytes]; a slot holds the key's address, the high 32 bits of its
// hash and its id, so a probe touches the slot and the key's bytes and nothing else. A key's
// home slot is taken from the top bits of its hash, which the slot keeps: growing moves slots
// without reading a key or hashing it again.
class ByteKeyTable {
 public:
  ByteKeyTable();
  // The id of `key` (whose hash is h); a new key gets id size() and *inserted is set.
  uint32_t FindOrInsert(std::string_view key, uint64_t h, bool* inserted) {
    const size_t mask = slots_.size() - 1;
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t s = Home(h);; s = (s + 1) & mask) {
      Slot& slot = slots_[s];
      if (slot.key == nullptr) return Insert(slot, key, tag, inserted);
      if (slot.tag == tag && SameBytes(slot.key, key)) {
        *inserted = false;
        return slot.id;
      }
    }
  }
  // Brings the slot of hash h into the cache (step 1 of a probe ahead of time).
  void PrefetchSlot(uint64_t h) const { __builtin_prefetch(&slots_[Home(h)]); }
  // Brings the bytes of the key that a probe of hash h compares first (step 2): keys are packed
  // end to end, so one of 40 bytes (a customer token) often spans two cache lines.
  void PrefetchKey(uint64_t h) const {
    const Slot& slot = slots_[Home(h)];
    if (slot.key != nullptr && slot.tag == static_cast<uint32_t>(h >> 32)) {
      __builtin_prefetch(slot.key - 4);
      __builtin_prefetch(slot.key + 32);
    }
  }
  size_t size() const { return size_; }
  // Bytes held: the slots and the arena.
  int64_t MemoryBytes() const {
    return static_cast<int64_t>(slots_.capacity() * sizeof(Slot) + arena_.bytes_used() + 4 * size_);
  }
  // Calls f(key, id) for every key, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_)
      if (s.key != nullptr) f(KeyAt(s.key), s.id);
  }
  static uint64_t Hash(std::string_view key);

 private:
  struct Slot {
    const char* key = nullptr;  // the key's first byte (its length is the 4 bytes before); null = empty
    uint32_t tag = 0;           // high 32 bits of the key's hash
    uint32_t id = 0;
  };
  static std::string_view KeyAt(const char* p) {
    uint32_t len;
    std::memcpy(&len, p - 4, 4);
    return {p, len};
  }
  // Stored key p == key. Inline fixed-size compares: most keys are short (ids, tokens), and a
  // call to memcmp per probe cost more than the compare.
  static bool SameBytes(const char* p, std::string_view key) {
    uint32_t len;
    std::memcpy(&len, p - 4, 4);
    if (len != key.size()) return false;
    const char* q = key.data();
    if (len >= 8) {
      size_t i = 0;
      for (; i + 8 <= len; i += 8)
        if (Load8(p + i) != Load8(q + i)) return false;
      return i == len || Load8(p + len - 8) == Load8(q + len - 8);  // the tail, overlapping
    }
    for (size_t i = 0; i < len; ++i)
      if (p[i] != q[i]) return false;
    return true;
  }
  static uint64_t Load8(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  size_t Home(uint64_t h) const { return shift_ >= 64 ? 0 : static_cast<size_t>(h >> shift_); }
  uint32_t Insert(Slot& slot, std::string_view key, uint32_t tag, bool* inserted);
  void Grow();

  std::vector<Slot> slots_;
  unsigned shift_ = 64;  // 64 - log2(slots_.size())
  StringHeap arena_;
  size_t size_ = 0;
};

// Distinct 64-bit keys -> dense ids in insertion order (fixed-width values of up to 8 bytes).
class U64KeyTable {
 public:
  U64KeyTable();
  uint32_t FindOrInsert(uint64_t key, uint64_t h, bool* inserted) {
    const size_t mask = slots_.size() - 1;
    for (size_t s = h & mask;; s = (s + 1) & mask) {
      Slot& slot = slots_[s];
      if (slot.id_plus1 == 0) return Insert(slot, key, inserted);
      if (slot.key == key) {
        *inserted = false;
        return slot.id_plus1 - 1;
      }
    }
  }
  void PrefetchSlot(uint64_t h) const { __builtin_prefetch(&slots_[h & (slots_.size() - 1)]); }
  size_t size() const { return size_; }
  int64_t MemoryBytes() const { return static_cast<int64_t>(slots_.capacity() * sizeof(Slot)); }
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_)
      if (s.id_plus1 != 0) f(s.key, s.id_plus1 - 1);
  }

 private:
  struct Slot {
    uint64_t key = 0;
    uint32_t id_plus1 = 0;  // 0 = empty
  };
  uint32_t Insert(Slot& slot, uint64_t key, bool* inserted);
  void Grow();

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// A set of 64-bit keys (a group id in the high half, a value id in the low half); the slot is
// the key itself, so a pair costs 8 bytes at most twice over.
class PairSet {
 public:
  PairSet();
  // True when `key` was not in the set (it is now).
  bool Insert(uint64_t key) {
    const size_t mask = slots_.size() - 1;
    for (size_t s = Hash(key) & mask;; s = (s + 1) & mask) {
      if (slots_[s] == kEmpty) {
        slots_[s] = key;
        if (++size_ * 2 > slots_.size()) Grow();
        return true;
      }
      if (slots_[s] == key) return false;
    }
  }
  void Prefetch(uint64_t key) const { __builtin_prefetch(&slots_[Hash(key) & (slots_.size() - 1)]); }
  size_t size() const { return size_; }
  int64_t MemoryBytes() const { return static_cast<int64_t>(slots_.capacity() * sizeof(uint64_t)); }
  template <typename F>
  void ForEach(F&& f) const {
    for (uint64_t k : slots_)
      if (k != kEmpty) f(k);
  }
  static uint64_t Hash(uint64_t key) { return MixBits64(key); }

 private:
  // No pair has it: its value id would be 2^32 - 1, past the last id a 32-bit table can give.
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  void Grow();

  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

// The distinct rows of one or more argument columns, each given a dense id. One VARCHAR argument
// is keyed by its bytes, one argument of a fixed width up to 8 bytes by a 64-bit image of its
// value (-0.0 = 0.0, every NaN alike), anything else (DECIMAL, INTERVAL, several arguments) by
// its AppendKey encoding. With keep_values the rows themselves are kept too (values()[k] row id),
// for aggregates other than count that need them at the end.
class ValueSet {
 public:
  ValueSet(std::vector<DataType> types, bool keep_values);
  // ids[k] = the id of row rows[k] of `cols` (any encoding), inserting new rows.
  // REQUIRES: no column is NULL at those rows.
  void Intern(std::span<const ColumnVector* const> cols, const uint32_t* rows, size_t n, uint32_t* ids);
  // Interns every row of `other` (same types); map[other id] = this set's id.
  void MergeFrom(const ValueSet& other, std::vector<uint32_t>& map);
  size_t size() const;
  // Bytes held (tables, arena, kept values), cheap enough to ask after every batch.
  int64_t MemoryBytes() const;
  const std::vector<ColumnVector>& values() const { return values_; }

 private:
  enum class Kind { kBytes, kU64, kEncoded };
  // Interns rows of one column through its dictionary: each entry at most once per dictionary.
  void InternDictionary(const ColumnVector& c, const uint32_t* rows, size_t n, uint32_t* ids);
  void InternFlat(std::span<const ColumnVector* const> cols, const uint32_t* rows, size_t n, uint32_t* ids);
  void KeepRow(std::span<const ColumnVector* const> cols, size_t row);
  // Appends row `row` of `from` to values_[k].
  void Keep(const ColumnVector& from, size_t row, size_t k);

  std::vector<DataType> types_;
  Kind kind_;
  bool keep_values_;
  ByteKeyTable bytes_;  // kBytes, kEncoded
  U64KeyTable u64_;     // kU64
  std::vector<ColumnVector> values_;  // with keep_values: row id = value id
  int64_t kept_string_bytes_ = 0;     // string bytes in values_' heaps
  // Scratch, per call.
  std::vector<uint64_t> hashes_;
  std::vector<uint64_t> keys_;
  std::vector<std::string_view> views_;
  std::string encoded_;
  std::vector<uint32_t> codes_;
  // The dictionary last met and the id of each of its entries (kUnknown = not interned yet).
  static constexpr uint32_t kUnknown = UINT32_MAX;
  std::shared_ptr<const ColumnVector> dict_;
  std::vector<uint32_t> dict_ids_;
};

// The aggregate state of f(DISTINCT x, ...): `inner` is f's plain state, fed the distinct
// (group, value) pairs at Finalize; count(DISTINCT) keeps no values and counts the pairs.
std::unique_ptr<AggregateState> MakeDistinctState(std::unique_ptr<AggregateState> inner,
                                                  const AggregateFunction& f);

}  // namespace saleslake::sql::internal
