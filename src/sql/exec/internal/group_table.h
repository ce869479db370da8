// The hash aggregation's group table (HashAggregateOp): dense group ids for key rows.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "sql/exec/internal/operators.h"

namespace saleslake::sql::internal {

// Equality of a probe row and a stored group's key, NULL = NULL (as GROUP BY wants).
inline bool SameKey(const ColumnVector& a, size_t i, const ColumnVector& b, size_t j) {
  bool va = a.IsValid(i), vb = b.IsValid(j);
  if (!va || !vb) return va == vb;
  return ValuesEqual(a, i, b, j);
}

// Dense group ids for key rows: an open-addressing table of group ids, verified against one
// stored row of key values per group (NULL keys form their own group, as GROUP BY wants).
class GroupTable {
 public:
  explicit GroupTable(const std::vector<DataType>& types) {
    for (const auto& t : types) keys_.emplace_back(t, 16);
    for (auto& k : keys_) k.Resize(0);
    slots_.assign(1024, 0);
  }
  void FindOrInsert(const std::vector<const ColumnVector*>& cols, size_t n, uint32_t* gids) {
    if (cols.empty()) {
      if (count_ == 0) count_ = 1;
      std::fill(gids, gids + n, 0u);
      return;
    }
    bool all_constant = n > 1;
    for (const ColumnVector* c : cols) all_constant &= c->encoding() == VectorEncoding::kConstant;
    if (all_constant) {  // GROUP BY partition columns only: one lookup per batch
      FindOrInsert(cols, 1, gids);
      std::fill(gids + 1, gids + n, gids[0]);
      return;
    }
    if (cols.size() == 1 && cols[0]->encoding() == VectorEncoding::kDictionary &&
        cols[0]->validity() == nullptr) {
      // The only key is a dictionary column: its codes map to groups through a cache that lives
      // as long as the dictionary (one per file), so each entry is hashed and looked up once.
      const ColumnVector& c = *cols[0];
      const uint32_t dn = static_cast<uint32_t>(c.dictionary()->size());
      if (cached_dict_ != c.shared_dictionary()) {
        cached_dict_ = c.shared_dictionary();
        dict_hash_.resize(dn);
        HashKeyColumn(*c.dictionary(), dn, dict_hash_.data(), true);  // = the row hash of a code
        dict_gid_.assign(dn, UINT32_MAX);
      }
      const uint32_t* codes = c.data<uint32_t>();
      for (size_t i = 0; i < n; ++i) {
        uint32_t code = codes[i] < dn ? codes[i] : 0;
        if (dict_gid_[code] == UINT32_MAX) dict_gid_[code] = Lookup(cols, i, dict_hash_[code]);
        gids[i] = dict_gid_[code];
      }
      return;
    }
    if (cols.size() == 1 && DirectLookup(*cols[0], n, gids)) return;
    hashes_.resize(n);
    for (size_t k = 0; k < cols.size(); ++k) HashKeyColumn(*cols[k], n, hashes_.data(), k == 0);
    if (const size_t combos = ComboCodes(cols, n); combos > 0) {
      // Rows with the same code are the same group, so each code is looked up once per batch.
      code_gid_.assign(combos, UINT32_MAX);
      for (size_t i = 0; i < n; ++i) {
        const uint32_t c = combo_[i];
        if (code_gid_[c] == UINT32_MAX) code_gid_[c] = Lookup(cols, i, hashes_[i]);
        gids[i] = code_gid_[c];
      }
      return;
    }
    if (FlatKeys(cols, n, gids)) return;
    // Many groups (customer ids) miss the cache at every step of a probe: while row i is looked
    // up, fetch the slot of row i + 24, the stored string view of row i + 16's first candidate
    // and that string's bytes for row i + 8.
    const ColumnVector* strings =
        cols.size() == 1 && keys_[0].type().id == TypeId::kVarchar ? &keys_[0] : nullptr;
    for (size_t i = 0; i < n; ++i) {
      if (i + 24 < n) __builtin_prefetch(&slots_[hashes_[i + 24] & (slots_.size() - 1)]);
      if (strings) {
        if (i + 16 < n) PrefetchKey(*strings, hashes_[i + 16], false);
        if (i + 8 < n) PrefetchKey(*strings, hashes_[i + 8], true);
      }
      gids[i] = Lookup(cols, i, hashes_[i]);
    }
  }
  // The group of each row (UINT32_MAX when absent), inserting nothing (hash join probes).
  // `hashes` is the caller's scratch, so many threads may probe one table at once.
  // REQUIRES: cols have the key types of the table.
  void Find(const std::vector<const ColumnVector*>& cols, size_t n, uint32_t* gids,
            std::vector<uint64_t>& hashes) const {
    hashes.resize(n);
    for (size_t k = 0; k < cols.size(); ++k) HashKeyColumn(*cols[k], n, hashes.data(), k == 0);
    // One flat integer key without NULLs (the usual join key: custkey, orderkey): compared
    // inline, without SameKey's type switch per candidate.
    if (cols.size() == 1 && cols[0]->encoding() == VectorEncoding::kFlat && cols[0]->validity() == nullptr &&
        cols[0]->type().id == keys_[0].type().id) {
      switch (cols[0]->type().id) {
        case TypeId::kInt32:
        case TypeId::kDate: FindFlat<int32_t>(*cols[0], n, gids, hashes.data()); return;
        case TypeId::kInt64: FindFlat<int64_t>(*cols[0], n, gids, hashes.data()); return;
        default: break;
      }
    }
    const size_t mask = slots_.size() - 1;
    for (size_t i = 0; i < n; ++i) {
      if (i + 16 < n) __builtin_prefetch(&slots_[hashes[i + 16] & mask]);
      const uint64_t h = hashes[i], tag = h & kTagMask;
      uint32_t found = UINT32_MAX;
      for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
        const uint64_t e = slots_[slot];
        if (e == 0) break;
        if ((e & kTagMask) != tag) continue;
        const uint32_t g = static_cast<uint32_t>(e) - 1;
        bool same = true;
        for (size_t k = 0; same && k < cols.size(); ++k) same = SameKey(*cols[k], i, keys_[k], g);
        if (same) {
          found = g;
          break;
        }
      }
      gids[i] = found;
    }
  }
  // Bytes the table holds (slots, per-group hashes and stored keys), for the memory limit.
  int64_t MemoryBytes() const {
    int64_t b = static_cast<int64_t>(slots_.capacity() + group_hash_.capacity() + hashes_.capacity()) * 8 +
                static_cast<int64_t>(direct_gid_.capacity()) * 4;
    for (const auto& k : keys_) {
      b += static_cast<int64_t>(count_ * std::max<size_t>(k.type().byte_width(), 8));
      if (k.type().id == TypeId::kVarchar && count_ > 0)
        for (size_t g = 0; g < count_; ++g) b += static_cast<int64_t>(k.data<std::string_view>()[g].size());
    }
    return b;
  }
  // Sizes an empty table for up to n groups at once (a join build knows its row count), so
  // it is not grown and rehashed step by step while it fills.
  void Reserve(size_t n) {
    if (count_ != 0 || keys_.empty()) return;
    size_t want = slots_.size();
    while (want < 2 * n && want < (size_t{1} << 31)) want *= 2;
    if (want != slots_.size()) slots_.assign(want, 0);
    group_hash_.reserve(n);
  }
  // Ensures the no-key table has its one group (a global aggregate of no rows).
  void EnsureGlobalGroup() {
    if (keys_.empty() && count_ == 0) count_ = 1;
  }
  size_t size() const { return count_; }
  // Rows looked up through the generic probe (Lookup: a hash probe that compares every key
  // column through SameKey); for tests of the paths that spare rows that probe.
  uint64_t generic_lookups() const { return generic_lookups_; }
  std::vector<ColumnVector>& keys() { return keys_; }

 private:
  // Inserts row i (hash h) as a new group into the empty slot where its probe ended.
  uint32_t Insert(const std::vector<const ColumnVector*>& cols, size_t i, uint64_t h, size_t slot) {
    uint32_t id = static_cast<uint32_t>(count_++);
    slots_[slot] = (h & kTagMask) | (id + 1);
    group_hash_.push_back(h);
    for (size_t k = 0; k < cols.size(); ++k) keys_[k].AppendFrom(*cols[k], i);
    if (count_ * 2 > slots_.size()) Grow();
    return id;
  }

  // The group of row i (hash h), inserted when new.
  uint32_t Lookup(const std::vector<const ColumnVector*>& cols, size_t i, uint64_t h) {
    ++generic_lookups_;
    size_t mask = slots_.size() - 1;
    size_t slot = h & mask;
    const uint64_t tag = h & kTagMask;
    while (true) {
      uint64_t e = slots_[slot];
      if (e == 0) return Insert(cols, i, h, slot);
      if ((e & kTagMask) == tag) {
        uint32_t g = static_cast<uint32_t>(e) - 1;
        bool same = true;
        for (size_t k = 0; same && k < cols.size(); ++k) same = SameKey(*cols[k], i, keys_[k], g);
        if (same) return g;
      }
      slot = (slot + 1) & mask;
    }
  }

  // One or two flat integer key columns without NULLs (part keys; part and supplier keys), of
  // the table's key types: FindOrInsert compares them inline (FlatLookup) instead of through
  // SameKey's switch on the type per candidate, which was ~30% of TPC-H Q17's CPU when it
  // grouped 60M lineitems by l_partkey. False (nothing done) for other keys. REQUIRES: hashes_
  // hold the rows' hashes.
  bool FlatKeys(const std::vector<const ColumnVector*>& cols, size_t n, uint32_t* gids) {
    if (cols.size() > 2) return false;
    for (size_t k = 0; k < cols.size(); ++k)
      if (cols[k]->encoding() != VectorEncoding::kFlat || cols[k]->validity() != nullptr ||
          cols[k]->type().id != keys_[k].type().id)
        return false;
    auto width = [&](size_t k) {
      switch (cols[k]->type().id) {
        case TypeId::kInt32:
        case TypeId::kDate: return 4;
        case TypeId::kInt64: return 8;
        default: return 0;
      }
    };
    const int w0 = width(0), w1 = cols.size() == 2 ? width(1) : -1;
    if (w0 == 0 || w1 == 0) return false;
    if (w1 < 0) {
      if (w0 == 4) FlatLookup<int32_t, void>(cols, n, gids);
      if (w0 == 8) FlatLookup<int64_t, void>(cols, n, gids);
    } else if (w0 == 4) {
      if (w1 == 4) FlatLookup<int32_t, int32_t>(cols, n, gids);
      if (w1 == 8) FlatLookup<int32_t, int64_t>(cols, n, gids);
    } else {
      if (w1 == 4) FlatLookup<int64_t, int32_t>(cols, n, gids);
      if (w1 == 8) FlatLookup<int64_t, int64_t>(cols, n, gids);
    }
    return true;
  }

  // Whether stored group g's key column k is valid (not the NULL group's).
  bool StoredValid(size_t k, uint32_t g) const {
    const uint64_t* v = keys_[k].validity();
    return v == nullptr || ((v[g >> 6] >> (g & 63)) & 1) != 0;
  }

  // FindOrInsert for flat key columns of T0 (and T1; void: one key) without NULLs.
  template <typename T0, typename T1>
  void FlatLookup(const std::vector<const ColumnVector*>& cols, size_t n, uint32_t* gids) {
    constexpr bool kTwo = !std::is_void_v<T1>;
    using U1 = std::conditional_t<kTwo, T1, T0>;  // unused when one key
    const T0* p0 = cols[0]->data<T0>();
    const U1* p1 = kTwo ? cols[1]->data<U1>() : nullptr;
    for (size_t i = 0; i < n; ++i) {
      // Slots and stored keys move when the table grows: reloaded per row.
      const size_t mask = slots_.size() - 1;
      if (i + 24 < n) __builtin_prefetch(&slots_[hashes_[i + 24] & mask]);
      const T0* s0 = keys_[0].data<T0>();
      const U1* s1 = kTwo ? keys_[1].data<U1>() : nullptr;
      const uint64_t h = hashes_[i], tag = h & kTagMask;
      for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
        const uint64_t e = slots_[slot];
        if (e == 0) {
          gids[i] = Insert(cols, i, h, slot);
          break;
        }
        if ((e & kTagMask) != tag) continue;
        const uint32_t g = static_cast<uint32_t>(e) - 1;
        bool same = s0[g] == p0[i] && StoredValid(0, g);
        if constexpr (kTwo) same = same && s1[g] == p1[i] && StoredValid(1, g);
        if (same) {
          gids[i] = g;
          break;
        }
      }
    }
  }

  // Find for one flat key column of T without NULLs; stored keys may hold the NULL group.
  template <typename T>
  void FindFlat(const ColumnVector& col, size_t n, uint32_t* gids, const uint64_t* hashes) const {
    const T* probe = col.data<T>();
    const T* stored = keys_[0].data<T>();
    const uint64_t* stored_valid = keys_[0].validity();
    const size_t mask = slots_.size() - 1;
    for (size_t i = 0; i < n; ++i) {
      if (i + 16 < n) __builtin_prefetch(&slots_[hashes[i + 16] & mask]);
      const uint64_t h = hashes[i], tag = h & kTagMask;
      uint32_t found = UINT32_MAX;
      for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
        const uint64_t e = slots_[slot];
        if (e == 0) break;
        if ((e & kTagMask) != tag) continue;
        const uint32_t g = static_cast<uint32_t>(e) - 1;
        if (stored[g] == probe[i] &&
            (stored_valid == nullptr || ((stored_valid[g >> 6] >> (g & 63)) & 1) != 0)) {
          found = g;
          break;
        }
      }
      gids[i] = found;
    }
  }

  // Prefetches the stored string key that a row of hash h would first compare with: its view,
  // or (bytes) the characters it points to.
  void PrefetchKey(const ColumnVector& strings, uint64_t h, bool bytes) const {
    uint64_t e = slots_[h & (slots_.size() - 1)];
    if (e == 0 || (e & kTagMask) != (h & kTagMask)) return;
    const std::string_view* view = strings.data<std::string_view>() + (static_cast<uint32_t>(e) - 1);
    if (bytes) {
      __builtin_prefetch(view->data());
    } else {
      __builtin_prefetch(view);
    }
  }

  // A single flat integer key without NULLs over a small range (dates, day_of_week, years,
  // small ids): the group of each value is kept in an array indexed by value - base, so a row
  // costs one load instead of a hash probe. False when the key does not fit (then this batch and
  // every later one hash instead); gids may have been partly written then.
  bool DirectLookup(const ColumnVector& c, size_t n, uint32_t* gids) {
    if (direct_failed_ || c.encoding() != VectorEncoding::kFlat || c.validity() != nullptr || n == 0)
      return false;
    bool ok = false;
    switch (c.type().id) {
      case TypeId::kInt32:
      case TypeId::kDate: ok = DirectLookupT(c, c.data<int32_t>(), n, gids); break;
      case TypeId::kInt64: ok = DirectLookupT(c, c.data<int64_t>(), n, gids); break;
      default: return false;
    }
    direct_failed_ = !ok;
    return ok;
  }

  // One pass: a value outside the array's range grows it (up to kMaxSpan values in all).
  template <typename T>
  bool DirectLookupT(const ColumnVector& c, const T* v, size_t n, uint32_t* gids) {
    if (direct_gid_.empty()) {  // first batch: size the array for its range at once
      T lo = v[0], hi = v[0];
      for (size_t i = 1; i < n; ++i) {
        lo = std::min(lo, v[i]);
        hi = std::max(hi, v[i]);
      }
      if (!GrowDirect(lo) || !GrowDirect(hi)) return false;
    }
    // Pass 1, tight: the known group of each row, UINT32_MAX for a value outside the array or
    // not seen yet (the key values come from memory the scan wrote a while ago: prefetched).
    const uint32_t* dg = direct_gid_.data();
    const uint64_t size = direct_gid_.size();
    const int64_t base = direct_base_;
    uint32_t unknown = 0;
    for (size_t i = 0; i < n; ++i) {
      if ((i & 15) == 0) __builtin_prefetch(v + i + 256);
      const uint64_t off = static_cast<uint64_t>(static_cast<int64_t>(v[i]) - base);
      const uint32_t g = off < size ? dg[off] : UINT32_MAX;
      gids[i] = g;
      unknown |= g == UINT32_MAX;
    }
    if (unknown == 0) return true;
    // Pass 2: rows still unknown grow the array or enter the table.
    bool hashed = false;  // new values also enter the hash table (other batches may probe it)
    for (size_t i = 0; i < n; ++i) {
      if (gids[i] != UINT32_MAX) continue;
      uint64_t off = static_cast<uint64_t>(static_cast<int64_t>(v[i]) - direct_base_);
      if (off >= direct_gid_.size()) {
        if (!GrowDirect(v[i])) return false;
        off = static_cast<uint64_t>(static_cast<int64_t>(v[i]) - direct_base_);
      }
      uint32_t& g = direct_gid_[off];
      if (g == UINT32_MAX) {
        if (!hashed) {
          hashes_.resize(n);
          HashKeyColumn(c, n, hashes_.data(), true);
          hashed = true;
        }
        const std::vector<const ColumnVector*> cols{&c};
        g = Lookup(cols, i, hashes_[i]);
      }
      gids[i] = g;
    }
    return true;
  }

  // Extends the direct array to cover value x; false when the span would pass kMaxSpan.
  bool GrowDirect(int64_t x) {
    constexpr int64_t kMaxSpan = 1 << 16;
    if (direct_gid_.empty()) {
      direct_base_ = x;
      direct_gid_.assign(1, UINT32_MAX);
      return true;
    }
    const int64_t size = static_cast<int64_t>(direct_gid_.size());
    const int64_t hi = direct_base_ + size - 1;
    int64_t new_lo = std::min(x, direct_base_), new_hi = std::max(x, hi);
    if (new_hi - new_lo >= kMaxSpan) return false;
    if (new_lo == direct_base_ && new_hi == hi) return true;
    // Grow by at least the current size (within the span) so a key that creeps up one value
    // at a time copies the array O(log) times, not once per value.
    if (x > hi) new_hi = std::max(new_hi, std::min(hi + size, new_lo + kMaxSpan - 1));
    if (x < direct_base_) new_lo = std::min(new_lo, std::max(direct_base_ - size, new_hi - kMaxSpan + 1));
    std::vector<uint32_t> grown(static_cast<size_t>(new_hi - new_lo + 1), UINT32_MAX);
    std::copy(direct_gid_.begin(), direct_gid_.end(), grown.begin() + (direct_base_ - new_lo));
    direct_gid_.swap(grown);
    direct_base_ = new_lo;
    return true;
  }

  // One small code per row for the batch's combination of key values, when every key column is
  // a constant, dictionary-encoded without nulls (status, a pair of flags), or flat integers
  // without nulls whose values in this batch lie within a small range (the dates of a day-level
  // rollup): a row's code mixes its dictionary codes and value - batch minimum, so rows with
  // equal codes have equal keys. A file of one partition groups by region x month x day x status
  // this way: two constants, ~31 dates and ~5 statuses make ~155 codes for ~2000 rows, and each
  // code costs one probe of the table instead of each row (the probe compares four keys, two of
  // them strings). Fills combo_ and returns the number of codes (at most max(n, 256)), or 0 when
  // a column does not fit (nothing written then).
  size_t ComboCodes(const std::vector<const ColumnVector*>& cols, size_t n) {
    constexpr size_t kMinCodes = 256;  // the code_gid_ fill is O(codes): bounded by the rows
    const size_t limit = std::max(n, kMinCodes);
    span_lo_.assign(cols.size(), 0);
    span_n_.assign(cols.size(), 0);
    size_t combos = 1;
    bool any = false;
    for (size_t k = 0; k < cols.size(); ++k) {
      const ColumnVector* c = cols[k];
      if (c->encoding() == VectorEncoding::kConstant) continue;
      if (c->validity() != nullptr) return 0;
      size_t span = 0;
      if (c->encoding() == VectorEncoding::kDictionary) {
        span = std::max<size_t>(c->dictionary()->size(), 1);
      } else if (c->encoding() == VectorEncoding::kFlat) {
        switch (c->type().id) {
          case TypeId::kInt32:
          case TypeId::kDate: span = FlatSpan(c->data<int32_t>(), n, limit, &span_lo_[k]); break;
          case TypeId::kInt64: span = FlatSpan(c->data<int64_t>(), n, limit, &span_lo_[k]); break;
          default: return 0;
        }
      }
      if (span == 0 || span > limit || combos * span > limit) return 0;
      span_n_[k] = span;
      combos *= span;
      any = true;
    }
    if (!any) return 0;
    combo_.assign(n, 0);
    uint32_t* out = combo_.data();
    uint32_t stride = 1;
    for (size_t k = 0; k < cols.size(); ++k) {
      const ColumnVector* c = cols[k];
      if (c->encoding() == VectorEncoding::kConstant) continue;
      if (c->encoding() == VectorEncoding::kDictionary) {
        const uint32_t* codes = c->data<uint32_t>();
        const uint32_t dn = static_cast<uint32_t>(span_n_[k]);
        for (size_t i = 0; i < n; ++i) out[i] += (codes[i] < dn ? codes[i] : 0) * stride;
      } else if (c->type().id == TypeId::kInt64) {
        AddOffsets(c->data<int64_t>(), n, span_lo_[k], stride, out);
      } else {
        AddOffsets(c->data<int32_t>(), n, span_lo_[k], stride, out);
      }
      stride *= static_cast<uint32_t>(span_n_[k]);
    }
    return combos;
  }

  // The number of values from the minimum to the maximum of v[0, n) (the minimum in *lo), or 0
  // when that passes `limit`.
  template <typename T>
  static size_t FlatSpan(const T* v, size_t n, size_t limit, int64_t* lo) {
    if (n == 0) return 0;
    T mn = v[0], mx = v[0];
    for (size_t i = 1; i < n; ++i) {
      mn = std::min(mn, v[i]);
      mx = std::max(mx, v[i]);
    }
    // Unsigned: exact for any mn <= mx, where the signed difference of int64s could overflow.
    const uint64_t span = static_cast<uint64_t>(int64_t{mx}) - static_cast<uint64_t>(int64_t{mn});
    if (span >= limit) return 0;
    *lo = mn;
    return static_cast<size_t>(span) + 1;
  }

  // out[i] += (v[i] - lo) * stride. REQUIRES: every v[i] - lo is below the column's span.
  template <typename T>
  static void AddOffsets(const T* v, size_t n, int64_t lo, uint32_t stride, uint32_t* out) {
    const uint64_t base = static_cast<uint64_t>(lo);
    for (size_t i = 0; i < n; ++i)
      out[i] += static_cast<uint32_t>(static_cast<uint64_t>(int64_t{v[i]}) - base) * stride;
  }

  void Grow() {
    std::vector<uint64_t> next(slots_.size() * 2, 0);
    size_t mask = next.size() - 1;
    for (size_t g = 0; g < group_hash_.size(); ++g) {
      size_t slot = group_hash_[g] & mask;
      while (next[slot] != 0) slot = (slot + 1) & mask;
      next[slot] = (group_hash_[g] & kTagMask) | (g + 1);
    }
    slots_.swap(next);
  }

  std::vector<ColumnVector> keys_;
  // A slot holds the high 32 bits of its group's hash (a filter that spares a load of
  // group_hash_ on every probe) and the group id + 1 in the low 32; 0 = empty.
  static constexpr uint64_t kTagMask = ~uint64_t{0} << 32;
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> group_hash_;  // per group
  std::vector<uint64_t> hashes_;      // per input row (scratch)
  std::vector<uint32_t> code_gid_;    // per combination of dictionary codes (scratch)
  std::vector<uint32_t> combo_;       // per input row: its combination of codes (scratch)
  std::vector<int64_t> span_lo_;      // per key column: the batch's minimum (ComboCodes scratch)
  std::vector<size_t> span_n_;        // per key column: its number of codes (ComboCodes scratch)
  // Single dictionary key: group of each code of cached_dict_ (UINT32_MAX = not seen yet) and
  // each code's hash. Group ids never change, so the map stays valid while the dictionary does.
  std::shared_ptr<const ColumnVector> cached_dict_;
  std::vector<uint32_t> dict_gid_;
  std::vector<uint64_t> dict_hash_;
  // DirectLookup: the group of value direct_base_ + i (UINT32_MAX = not seen yet).
  int64_t direct_base_ = 0;
  std::vector<uint32_t> direct_gid_;
  bool direct_failed_ = false;  // a key outside the span was seen: hash from then on
  size_t count_ = 0;
  uint64_t generic_lookups_ = 0;
};

}  // namespace saleslake::sql::internal
