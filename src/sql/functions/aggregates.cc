// Aggregate functions: vectorized per-group states (Update with a group id per row), Merge for
// thread-local partials, Finalize into one column.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include "sql/functions/functions.h"
#include "sql/functions/internal/distinct_set.h"
#include "sql/functions/internal/hyperloglog.h"
#include "sql/functions/internal/kernels.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT
using Args = std::span<const ColumnVector* const>;

namespace {

bool Bit(const uint64_t* v, size_t i) { return v == nullptr || ((v[i >> 6] >> (i & 63)) & 1); }

// Valid-row iteration: constant vectors have one validity bit for all rows.
struct ValidView {
  const ColumnVector* v;
  bool all;
  bool none;
  const uint64_t* bits;
  explicit ValidView(const ColumnVector& c) : v(&c) {
    bits = c.validity();
    if (c.encoding() == VectorEncoding::kConstant) {
      all = c.IsValid(0);
      none = !all;
      bits = nullptr;
    } else {
      all = bits == nullptr;
      none = false;
    }
  }
  bool operator()(size_t i) const { return !none && (all || Bit(bits, i)); }
};

// ---- one-group batches ----
// A batch whose rows all fall in one group (GROUP BY partition columns only, or no GROUP BY)
// is summed into locals: adding row after row into s_[g] is a chain of stores and loads through
// one memory slot, which costs several times more than the adds.

// True when every row of the batch is in one group.
inline bool OneGroup(const uint32_t* gids, size_t n) {
  if (n == 0 || gids[0] != gids[n - 1]) return false;
  const uint32_t g = gids[0];
  uint32_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    d0 |= gids[i] ^ g;
    d1 |= gids[i + 1] ^ g;
    d2 |= gids[i + 2] ^ g;
    d3 |= gids[i + 3] ^ g;
  }
  for (; i < n; ++i) d0 |= gids[i] ^ g;
  return (d0 | d1 | d2 | d3) == 0;
}

// Validity of rows [64 w, 64 w + 64) ∩ [0, n), one bit per row (all set without a bitmap).
inline uint64_t ValidWord(const uint64_t* bits, size_t w, size_t n) {
  uint64_t m = bits ? bits[w] : ~uint64_t{0};
  size_t rem = n - w * 64;
  if (rem < 64) m &= (uint64_t{1} << rem) - 1;
  return m;
}

// v when bit is 1, +0.0 when 0, without a branch (null slots may hold anything, NaN included).
inline double Masked(double v, uint64_t bit) {
  return std::bit_cast<double>(std::bit_cast<uint64_t>(v) & (uint64_t{0} - bit));
}

// Two doubles / two masks as one SSE register (GCC and Clang vector extensions): -O2 does not
// vectorize the masked loop by itself.
using Double2 = double __attribute__((vector_size(16)));
using Mask2 = uint64_t __attribute__((vector_size(16)));

template <typename In>
inline Double2 Load2(const In* p) {
  if constexpr (std::is_same_v<In, double>) {
    Double2 v;
    std::memcpy(&v, p, sizeof v);
    return v;
  } else {
    return Double2{static_cast<double>(p[0]), static_cast<double>(p[1])};
  }
}

// Sum (as double) and count of the valid rows [0, n) of a flat vector. Eight partial sums keep
// the adds independent, so the result may differ from a row-by-row sum in the last bits. Nulls
// (a few in most 64-row words at 5% nulls) are masked to +0.0 two rows at a time.
template <typename In>
void SumRows(const In* x, const uint64_t* bits, size_t n, double* sum, int64_t* count) {
  static constexpr Mask2 kPairMask[4] = {
      {0, 0}, {~uint64_t{0}, 0}, {0, ~uint64_t{0}}, {~uint64_t{0}, ~uint64_t{0}}};
  Double2 a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0;
  double tail = 0;
  int64_t c = 0;
  for (size_t base = 0; base < n; base += 64) {
    const In* p = x + base;
    const uint64_t w = ValidWord(bits, base >> 6, n);
    if (w == 0) continue;
    c += std::popcount(w);
    if (n - base >= 64) {
      for (size_t j = 0; j < 64; j += 8) {
        const uint64_t b = w >> j;
        a0 += reinterpret_cast<Double2>(reinterpret_cast<Mask2>(Load2(p + j)) & kPairMask[b & 3]);
        a1 += reinterpret_cast<Double2>(reinterpret_cast<Mask2>(Load2(p + j + 2)) & kPairMask[(b >> 2) & 3]);
        a2 += reinterpret_cast<Double2>(reinterpret_cast<Mask2>(Load2(p + j + 4)) & kPairMask[(b >> 4) & 3]);
        a3 += reinterpret_cast<Double2>(reinterpret_cast<Mask2>(Load2(p + j + 6)) & kPairMask[(b >> 6) & 3]);
      }
      continue;
    }
    for (size_t j = 0; j < n - base; ++j) tail += Masked(static_cast<double>(p[j]), (w >> j) & 1);
  }
  const Double2 t = (a0 + a1) + (a2 + a3);
  *sum = (t[0] + t[1]) + tail;
  *count = c;
}

// Exact sum and count of the valid rows [0, n) of a flat integer vector.
template <typename In>
void IntSumRows(const In* x, const uint64_t* bits, size_t n, __int128* sum, int64_t* count) {
  // int32: 2^31 * 2048 rows fits an int64 easily; int64 needs the wide type.
  using Acc = std::conditional_t<sizeof(In) <= 4, int64_t, __int128>;
  Acc acc[4] = {};
  int64_t c = 0;
  for (size_t base = 0; base < n; base += 64) {
    const In* p = x + base;
    const uint64_t w = ValidWord(bits, base >> 6, n);
    if (w == 0) continue;
    c += std::popcount(w);
    const size_t m = std::min<size_t>(64, n - base);
    for (size_t j = 0; j < m; ++j) {
      const In mask = static_cast<In>(In{0} - static_cast<In>((w >> j) & 1));
      acc[j & 3] += static_cast<Acc>(p[j] & mask);
    }
  }
  *sum = static_cast<__int128>(acc[0]) + acc[1] + acc[2] + acc[3];
  *count = c;
}

// Few groups (status, weekday): consecutive rows often hit the same group, and each of their
// updates waits for the previous store to the same slot. Rows are spread over kLanes copies of
// the accumulators (row i to copy i % kLanes), folded into the state after the batch.
constexpr size_t kLanes = 4;
constexpr size_t kMaxLaneGroups = 16;  // past that, consecutive rows rarely share a group

// ---- count ----
class CountState final : public AggregateState {
 public:
  explicit CountState(bool star) : star_(star) {}
  void Resize(size_t g) override { c_.resize(g, 0); }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    if (!star_ && !a.empty()) {  // count(x): rows where x is not NULL
      const ColumnVector& x = *a[0];
      if (x.encoding() == VectorEncoding::kConstant) {
        if (!x.IsValid(0)) return Status::OK();
      } else if (const uint64_t* bits = x.validity()) {
        if (OneGroup(gids, n)) {
          c_[gids[0]] += static_cast<int64_t>(CountValid(bits, n));
          return Status::OK();
        }
        for (size_t i = 0; i < n; ++i) c_[gids[i]] += (bits[i >> 6] >> (i & 63)) & 1;
        return Status::OK();
      }
    }
    if (OneGroup(gids, n)) {  // no store-to-load chain through one counter
      c_[gids[0]] += static_cast<int64_t>(n);
      return Status::OK();
    }
    if (c_.size() <= kMaxLaneGroups) {
      int64_t lanes[kMaxLaneGroups * kLanes] = {};
      for (size_t i = 0; i < n; ++i) ++lanes[gids[i] * kLanes + (i % kLanes)];
      for (size_t g = 0; g < c_.size(); ++g)
        c_[g] += (lanes[g * kLanes] + lanes[g * kLanes + 1]) + (lanes[g * kLanes + 2] + lanes[g * kLanes + 3]);
      return Status::OK();
    }
    for (size_t i = 0; i < n; ++i) ++c_[gids[i]];
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<CountState&>(o);
    for (size_t g = 0; g < other.c_.size(); ++g) c_[map[g]] += other.c_[g];
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    std::copy(c_.begin(), c_.end(), out.data<int64_t>());
    return Status::OK();
  }

 private:
  bool star_;
  std::vector<int64_t> c_;
};

// $count_distinct_ids(id): count(DISTINCT id) of non-negative dense ids (a materialized view's
// value ids: 0, 1, 2, ... per value of its dictionary), as one bitmap of ids per group. The
// rewrite of a count(DISTINCT x) at a grouping coarser than a view's counts the view's side
// table of (group keys, id) pairs this way: a bit set per row and an OR per merged partial, where
// the general DISTINCT state interns every id in a hash table and keeps each (group, id) pair in
// another (3-4x the time over 1.5M pairs). Memory: a group's bitmap spans its largest id, so the
// caller uses it only when groups x ids / 8 bytes is small. NULL ids are not counted.
class DenseIdCountState final : public AggregateState {
 public:
  void Resize(size_t g) override { bits_.resize(g); }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    const ColumnVector& x = *a[0];
    const ValidView valid(x);
    if (valid.none) return Status::OK();
    const int64_t* v = x.data<int64_t>();
    const bool constant = x.encoding() == VectorEncoding::kConstant;
    for (size_t i = 0; i < n; ++i) {
      if (!valid(i)) continue;
      const int64_t id = v[constant ? 0 : i];
      if (id < 0 || id > kMaxId) return Status::Internal(fmt::format("$count_distinct_ids: id {} out of range", id));
      std::vector<uint64_t>& b = bits_[gids[i]];
      const size_t w = static_cast<size_t>(id) >> 6;
      if (w >= b.size()) Grow(b, w + 1);
      b[w] |= uint64_t{1} << (id & 63);
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<DenseIdCountState&>(o);
    for (size_t g = 0; g < other.bits_.size(); ++g) {
      const std::vector<uint64_t>& from = other.bits_[g];
      std::vector<uint64_t>& to = bits_[map[g]];
      if (from.size() > to.size()) Grow(to, from.size());
      for (size_t w = 0; w < from.size(); ++w) to[w] |= from[w];
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    int64_t* o = out.data<int64_t>();
    for (size_t g = 0; g < bits_.size(); ++g) {
      int64_t c = 0;
      for (uint64_t w : bits_[g]) c += std::popcount(w);
      o[g] = c;
    }
    return Status::OK();
  }
  int64_t MemoryBytes() const override { return bytes_; }

 private:
  // Ids past this are not a dictionary's (a bitmap of 2^32 ids would be 512 MB per group).
  static constexpr int64_t kMaxId = (int64_t{1} << 32) - 1;
  // Grows to at least `words`, doubling, so that ids arriving in increasing order do not copy
  // the bitmap once per 64 of them.
  void Grow(std::vector<uint64_t>& b, size_t words) {
    const size_t to = std::max({words, b.size() * 2, size_t{16}});
    bytes_ += static_cast<int64_t>((to - b.size()) * sizeof(uint64_t));
    b.resize(to, 0);
  }
  std::vector<std::vector<uint64_t>> bits_;  // per group: bit id of word id / 64
  int64_t bytes_ = 0;
};

class CountIfState final : public AggregateState {
 public:
  void Resize(size_t g) override { c_.resize(g, 0); }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    const ColumnVector& v = *a[0];
    if (v.encoding() == VectorEncoding::kFlat && OneGroup(gids, n)) {
      const uint8_t* x = v.data<uint8_t>();
      const uint64_t* bits = v.validity();
      int64_t c = 0;
      if (bits == nullptr) {
        for (size_t i = 0; i < n; ++i) c += x[i] != 0;
      } else {
        for (size_t i = 0; i < n; ++i) c += (x[i] != 0) & ((bits[i >> 6] >> (i & 63)) & 1);
      }
      c_[gids[0]] += c;
      return Status::OK();
    }
    ValidView ok(v);
    auto x = Read<uint8_t>(v);
    for (size_t i = 0; i < n; ++i) c_[gids[i]] += ok(i) && x[i];
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<CountIfState&>(o);
    for (size_t g = 0; g < other.c_.size(); ++g) c_[map[g]] += other.c_[g];
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    std::copy(c_.begin(), c_.end(), out.data<int64_t>());
    return Status::OK();
  }

 private:
  std::vector<int64_t> c_;
};

// ---- sum / avg over integers (exact, overflow-checked) ----
template <typename In>
class IntSumState final : public AggregateState {
 public:
  explicit IntSumState(bool avg) : avg_(avg) {}
  void Resize(size_t g) override {
    s_.resize(g, 0);
    n_.resize(g, 0);
  }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    const ColumnVector& v = *a[0];
    if (v.encoding() == VectorEncoding::kFlat && OneGroup(gids, n)) {
      __int128 sum;
      int64_t count;
      IntSumRows(v.data<In>(), v.validity(), n, &sum, &count);
      s_[gids[0]] += sum;
      n_[gids[0]] += count;
      return Status::OK();
    }
    ValidView ok(v);
    auto x = Read<In>(v);
    if (ok.all) {
      for (size_t i = 0; i < n; ++i) {
        s_[gids[i]] += x[i];
        ++n_[gids[i]];
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (!ok(i)) continue;
        s_[gids[i]] += x[i];
        ++n_[gids[i]];
      }
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<IntSumState&>(o);
    for (size_t g = 0; g < other.s_.size(); ++g) {
      s_[map[g]] += other.s_[g];
      n_[map[g]] += other.n_[g];
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < s_.size(); ++g) {
      if (n_[g] == 0) {
        out.SetNull(g);
        continue;
      }
      if (avg_) {
        out.data<double>()[g] = static_cast<double>(s_[g]) / static_cast<double>(n_[g]);
      } else {
        if (s_[g] > INT64_MAX || s_[g] < INT64_MIN)
          return Status::InvalidArgument("bigint overflow in sum()");
        out.data<int64_t>()[g] = static_cast<int64_t>(s_[g]);
      }
    }
    return Status::OK();
  }

 private:
  bool avg_;
  std::vector<__int128> s_;  // wide: partial sums of 2^64 rows cannot overflow
  std::vector<int64_t> n_;
};

// ---- sum / avg over doubles ----
template <typename In>
class DoubleSumState final : public AggregateState {
 public:
  explicit DoubleSumState(bool avg) : avg_(avg) {}
  void Resize(size_t g) override { s_.resize(g); }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    const ColumnVector& v = *a[0];
    if (v.encoding() == VectorEncoding::kFlat && OneGroup(gids, n)) {
      double sum;
      int64_t count;
      SumRows(v.data<In>(), v.validity(), n, &sum, &count);
      s_[gids[0]].sum += sum;
      s_[gids[0]].count += count;
      return Status::OK();
    }
    ValidView ok(v);
    if (ok.none) return Status::OK();
    auto x = Read<In>(v);
    if (s_.size() <= kMaxLaneGroups) {
      UpdateFewGroups(gids, x, ok.all ? nullptr : ok.bits, n);
      return Status::OK();
    }
    // The values come from memory the scan wrote a while ago: fetch 128 rows ahead.
    Slot* s = s_.data();
    if (ok.all) {
      for (size_t i = 0; i < n; ++i) {
        if ((i & 7) == 0) __builtin_prefetch(x.p + ((i + 128) & x.mask));
        s[gids[i]].sum += static_cast<double>(x[i]);
        ++s[gids[i]].count;
      }
      return Status::OK();
    }
    const uint64_t* bits = ok.bits;  // nulls are masked rather than branched on
    for (size_t i = 0; i < n; ++i) {
      if ((i & 7) == 0) __builtin_prefetch(x.p + ((i + 128) & x.mask));
      const uint64_t bit = (bits[i >> 6] >> (i & 63)) & 1;
      s[gids[i]].sum += Masked(static_cast<double>(x[i]), bit);
      s[gids[i]].count += static_cast<int64_t>(bit);
    }
    return Status::OK();
  }
  // The row-by-row update with kLanes copies of each group's slot (nulls masked; bits null =
  // all valid).
  void UpdateFewGroups(const uint32_t* gids, Reader<In> x, const uint64_t* bits, size_t n) {
    Slot lanes[kMaxLaneGroups * kLanes];
    if (bits == nullptr) {
      for (size_t i = 0; i < n; ++i) {
        Slot& l = lanes[gids[i] * kLanes + (i % kLanes)];
        l.sum += static_cast<double>(x[i]);
        ++l.count;
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        const uint64_t bit = (bits[i >> 6] >> (i & 63)) & 1;
        Slot& l = lanes[gids[i] * kLanes + (i % kLanes)];
        l.sum += Masked(static_cast<double>(x[i]), bit);
        l.count += static_cast<int64_t>(bit);
      }
    }
    for (size_t g = 0; g < s_.size(); ++g) {
      const Slot* l = lanes + g * kLanes;
      s_[g].sum += (l[0].sum + l[1].sum) + (l[2].sum + l[3].sum);
      s_[g].count += (l[0].count + l[1].count) + (l[2].count + l[3].count);
    }
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<DoubleSumState&>(o);
    for (size_t g = 0; g < other.s_.size(); ++g) {
      s_[map[g]].sum += other.s_[g].sum;
      s_[map[g]].count += other.s_[g].count;
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < s_.size(); ++g) {
      const Slot& x = s_[g];
      if (x.count == 0) {
        out.SetNull(g);
        continue;
      }
      double v = avg_ ? x.sum / static_cast<double>(x.count) : x.sum;
      if (out.type().id == TypeId::kFloat) {
        out.data<float>()[g] = static_cast<float>(v);
      } else {
        out.data<double>()[g] = v;
      }
    }
    return Status::OK();
  }

 private:
  struct Slot {  // together: a row's update touches one cache line
    double sum = 0;
    int64_t count = 0;
  };
  bool avg_;
  std::vector<Slot> s_;
};

// ---- sum / avg over decimals ----
class DecimalSumState final : public AggregateState {
 public:
  DecimalSumState(bool avg, int in_scale) : avg_(avg), in_scale_(in_scale) {}
  void Resize(size_t g) override {
    s_.resize(g, 0);
    n_.resize(g, 0);
  }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    const ColumnVector& c = *a[0];
    if (c.encoding() == VectorEncoding::kFlat && !c.type().is_wide_decimal()) {
      // Values of at most 18 digits: an __int128 sum of fewer than 2^64 of them cannot overflow
      // (Finalize checks the 38 digits), so the loop tests nothing but validity.
      const int64_t* x = c.data<int64_t>();
      const uint64_t* bits = c.validity();
      if (OneGroup(gids, n)) {
        __int128 sum;
        int64_t count;
        IntSumRows(x, bits, n, &sum, &count);
        s_[gids[0]] += sum;
        n_[gids[0]] += count;
        return Status::OK();
      }
      for (size_t i = 0; i < n; ++i) {
        if (!Bit(bits, i)) continue;
        s_[gids[i]] += x[i];
        ++n_[gids[i]];
      }
      return Status::OK();
    }
    ValidView ok(c);
    auto x = ReadDecimal(c);
    for (size_t i = 0; i < n; ++i) {
      if (!ok(i)) continue;
      if (__builtin_add_overflow(s_[gids[i]], x[i], &s_[gids[i]]))
        return Status::InvalidArgument("decimal overflow in sum()");
      ++n_[gids[i]];
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<DecimalSumState&>(o);
    for (size_t g = 0; g < other.s_.size(); ++g) {
      if (__builtin_add_overflow(s_[map[g]], other.s_[g], &s_[map[g]]))
        return Status::InvalidArgument("decimal overflow in sum()");
      n_[map[g]] += other.n_[g];
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    int so = out.type().scale;
    for (size_t g = 0; g < s_.size(); ++g) {
      if (n_[g] == 0) {
        out.SetNull(g);
        continue;
      }
      __int128 v = s_[g];
      if (avg_) {
        __int128 num;
        if (!CheckedRescale(v, in_scale_, so, 38, &num))
          return Status::InvalidArgument("decimal overflow in avg()");
        __int128 q = num / n_[g], r = num % n_[g];
        if ((r < 0 ? -r : r) * 2 >= n_[g]) q += num < 0 ? -1 : 1;
        v = q;
      } else if (v >= Pow10(38) || v <= -Pow10(38)) {
        return Status::InvalidArgument("decimal overflow in sum()");
      }
      SetDecimal(out, g, v);
    }
    return Status::OK();
  }

 private:
  bool avg_;
  int in_scale_;
  std::vector<__int128> s_;
  std::vector<int64_t> n_;
};

// ---- min / max over fixed-width values ----
template <typename T, bool is_max>
class MinMaxState final : public AggregateState {
 public:
  void Resize(size_t g) override {
    v_.resize(g);
    has_.resize(g, 0);
  }
  static bool Better(const T& a, const T& b) {
    if constexpr (std::is_floating_point_v<T>) {  // NaN is the largest value, as in Trino
      if (std::isnan(a) || std::isnan(b)) return is_max ? std::isnan(a) && !std::isnan(b) : std::isnan(b) && !std::isnan(a);
    }
    return is_max ? b < a : a < b;
  }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    ValidView ok(*a[0]);
    const ColumnVector& c = *a[0];
    if constexpr (!std::is_same_v<T, __int128>) {
      if (c.encoding() == VectorEncoding::kFlat && OneGroup(gids, n)) {
        UpdateOneGroup(gids[0], c.data<T>(), c.validity(), n);
        return Status::OK();
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (!ok(i)) continue;
      T x;
      if constexpr (std::is_same_v<T, __int128>) {
        x = DecimalAt(c, i);
      } else {
        x = Read<T>(c)[i];
      }
      uint32_t g = gids[i];
      if (!has_[g] || Better(x, v_[g])) {
        v_[g] = x;
        has_[g] = 1;
      }
    }
    return Status::OK();
  }
  // The best valid value of rows [0, n) of a flat vector, folded into group g.
  void UpdateOneGroup(uint32_t g, const T* x, const uint64_t* bits, size_t n) {
    bool has = has_[g] != 0;
    T best = has ? v_[g] : T{};
    for (size_t base = 0; base < n; base += 64) {
      uint64_t w = ValidWord(bits, base >> 6, n);
      if (!has && w != 0) {  // the first valid value starts the search
        best = x[base + static_cast<size_t>(std::countr_zero(w))];
        has = true;
      }
      if (w == ~uint64_t{0}) {
        for (size_t j = base; j < base + 64; ++j) best = Better(x[j], best) ? x[j] : best;
        continue;
      }
      for (; w != 0; w &= w - 1) {
        const T& v = x[base + static_cast<size_t>(std::countr_zero(w))];
        best = Better(v, best) ? v : best;
      }
    }
    if (has) {
      v_[g] = best;
      has_[g] = 1;
    }
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<MinMaxState&>(o);
    for (size_t g = 0; g < other.v_.size(); ++g) {
      if (!other.has_[g]) continue;
      uint32_t t = map[g];
      if (!has_[t] || Better(other.v_[g], v_[t])) {
        v_[t] = other.v_[g];
        has_[t] = 1;
      }
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < v_.size(); ++g) {
      if (!has_[g]) {
        out.SetNull(g);
      } else if constexpr (std::is_same_v<T, __int128>) {
        SetDecimal(out, g, v_[g]);
      } else {
        out.data<T>()[g] = v_[g];
      }
    }
    return Status::OK();
  }

 private:
  std::vector<T> v_;
  std::vector<uint8_t> has_;
};

class StringMinMaxState final : public AggregateState {
 public:
  explicit StringMinMaxState(bool is_max) : max_(is_max) {}
  void Resize(size_t g) override {
    v_.resize(g);
    has_.resize(g, 0);
  }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    ValidView ok(*a[0]);
    auto x = Read<std::string_view>(*a[0]);
    for (size_t i = 0; i < n; ++i) {
      if (!ok(i)) continue;
      uint32_t g = gids[i];
      std::string_view s = x[i];
      if (!has_[g] || (max_ ? s > v_[g] : s < v_[g])) {
        v_[g].assign(s);
        has_[g] = 1;
      }
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<StringMinMaxState&>(o);
    for (size_t g = 0; g < other.v_.size(); ++g) {
      if (!other.has_[g]) continue;
      uint32_t t = map[g];
      if (!has_[t] || (max_ ? other.v_[g] > v_[t] : other.v_[g] < v_[t])) {
        v_[t] = other.v_[g];
        has_[t] = 1;
      }
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < v_.size(); ++g) {
      if (!has_[g]) {
        out.SetNull(g);
      } else {
        out.SetString(g, v_[g]);
      }
    }
    return Status::OK();
  }

 private:
  bool max_;
  std::vector<std::string> v_;
  std::vector<uint8_t> has_;
};

// ---- bool_and / bool_or ----
template <bool is_and>
class BoolState final : public AggregateState {
 public:
  void Resize(size_t g) override {
    v_.resize(g, is_and ? 1 : 0);
    has_.resize(g, 0);
  }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    ValidView ok(*a[0]);
    auto x = Read<uint8_t>(*a[0]);
    for (size_t i = 0; i < n; ++i) {
      if (!ok(i)) continue;
      uint32_t g = gids[i];
      v_[g] = is_and ? (v_[g] && x[i]) : (v_[g] || x[i]);
      has_[g] = 1;
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<BoolState&>(o);
    for (size_t g = 0; g < other.v_.size(); ++g) {
      if (!other.has_[g]) continue;
      uint32_t t = map[g];
      v_[t] = is_and ? (v_[t] && other.v_[g]) : (v_[t] || other.v_[g]);
      has_[t] = 1;
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < v_.size(); ++g) {
      if (!has_[g]) {
        out.SetNull(g);
      } else {
        out.data<uint8_t>()[g] = v_[g];
      }
    }
    return Status::OK();
  }

 private:
  std::vector<uint8_t> v_, has_;
};

// ---- variance family (Welford, merged with Chan's formula) ----
enum class VarKind { kVarSamp, kVarPop, kStddevSamp, kStddevPop };
class VarianceState final : public AggregateState {
 public:
  explicit VarianceState(VarKind k) : kind_(k) {}
  void Resize(size_t g) override {
    n_.resize(g, 0);
    mean_.resize(g, 0);
    m2_.resize(g, 0);
  }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    ValidView ok(*a[0]);
    auto x = Read<double>(*a[0]);
    for (size_t i = 0; i < n; ++i) {
      if (!ok(i)) continue;
      uint32_t g = gids[i];
      double v = x[i];
      n_[g] += 1;
      double d = v - mean_[g];
      mean_[g] += d / n_[g];
      m2_[g] += d * (v - mean_[g]);
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<VarianceState&>(o);
    for (size_t g = 0; g < other.n_.size(); ++g) {
      if (other.n_[g] == 0) continue;
      uint32_t t = map[g];
      double na = n_[t], nb = other.n_[g], n = na + nb;
      double d = other.mean_[g] - mean_[t];
      mean_[t] += d * nb / n;
      m2_[t] += other.m2_[g] + d * d * na * nb / n;
      n_[t] = n;
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < n_.size(); ++g) {
      bool samp = kind_ == VarKind::kVarSamp || kind_ == VarKind::kStddevSamp;
      if (n_[g] == 0 || (samp && n_[g] < 2)) {
        out.SetNull(g);
        continue;
      }
      double var = m2_[g] / (samp ? n_[g] - 1 : n_[g]);
      if (var < 0) var = 0;
      out.data<double>()[g] =
          (kind_ == VarKind::kStddevSamp || kind_ == VarKind::kStddevPop) ? std::sqrt(var) : var;
    }
    return Status::OK();
  }

 private:
  VarKind kind_;
  std::vector<double> n_, mean_, m2_;
};

// ---- generic Value-based states: arbitrary, max_by / min_by, approx_percentile ----
class ArbitraryState final : public AggregateState {
 public:
  void Resize(size_t g) override { v_.resize(g); }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    for (size_t i = 0; i < n; ++i) {
      uint32_t g = gids[i];
      if (v_[g].is_null() && a[0]->IsValid(i)) v_[g] = GetValueAt(*a[0], i);
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<ArbitraryState&>(o);
    for (size_t g = 0; g < other.v_.size(); ++g)
      if (v_[map[g]].is_null() && !other.v_[g].is_null()) v_[map[g]] = other.v_[g];
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < v_.size(); ++g) SetValueAt(out, g, v_[g]);
    return Status::OK();
  }

 private:
  std::vector<Value> v_;
};

template <bool is_max>
class ByState final : public AggregateState {
 public:
  void Resize(size_t g) override {
    x_.resize(g);
    y_.resize(g);
  }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    for (size_t i = 0; i < n; ++i) {
      if (!a[1]->IsValid(i)) continue;
      uint32_t g = gids[i];
      Value y = GetValueAt(*a[1], i);
      if (y_[g].is_null() || (is_max ? y.Compare(y_[g]) > 0 : y.Compare(y_[g]) < 0)) {
        y_[g] = std::move(y);
        x_[g] = GetValueAt(*a[0], i);
      }
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<ByState&>(o);
    for (size_t g = 0; g < other.y_.size(); ++g) {
      if (other.y_[g].is_null()) continue;
      uint32_t t = map[g];
      if (y_[t].is_null() ||
          (is_max ? other.y_[g].Compare(y_[t]) > 0 : other.y_[g].Compare(y_[t]) < 0)) {
        y_[t] = other.y_[g];
        x_[t] = other.x_[g];
      }
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < x_.size(); ++g) SetValueAt(out, g, x_[g]);
    return Status::OK();
  }

 private:
  std::vector<Value> x_, y_;
};

// Exact percentile: the value at rank round(p * (n - 1)) of the sorted non-null values (Trino's
// approx_percentile returns a value of the input that is this close on small inputs).
class PercentileState final : public AggregateState {
 public:
  void Resize(size_t g) override {
    v_.resize(g);
    p_.resize(g, -1);
  }
  Status Update(const uint32_t* gids, Args a, size_t n) override {
    for (size_t i = 0; i < n; ++i) {
      if (!a[1]->IsValid(i)) continue;
      double p = a[1]->GetValue<double>(i);
      if (!(p >= 0 && p <= 1))
        return Status::InvalidArgument("approx_percentile: percentile must be between 0 and 1");
      uint32_t g = gids[i];
      p_[g] = p;
      if (!a[0]->IsValid(i)) continue;
      v_[g].push_back(a[0]->GetValue<double>(i));
    }
    return Status::OK();
  }
  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<PercentileState&>(o);
    for (size_t g = 0; g < other.v_.size(); ++g) {
      uint32_t t = map[g];
      if (other.p_[g] >= 0) p_[t] = other.p_[g];
      v_[t].insert(v_[t].end(), other.v_[g].begin(), other.v_[g].end());
    }
    return Status::OK();
  }
  Status Finalize(ColumnVector& out) override {
    for (size_t g = 0; g < v_.size(); ++g) {
      auto& v = v_[g];
      if (v.empty()) {
        out.SetNull(g);
        continue;
      }
      size_t k = static_cast<size_t>(std::llround(p_[g] * static_cast<double>(v.size() - 1)));
      std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
      out.data<double>()[g] = v[k];
    }
    return Status::OK();
  }

 private:
  std::vector<std::vector<double>> v_;
  std::vector<double> p_;
};

Status BadAgg(std::string_view name, const std::vector<DataType>& t, std::string_view expected) {
  std::string got;
  for (size_t i = 0; i < t.size(); ++i) got += (i ? ", " : "") + t[i].ToString();
  return Status::InvalidArgument(
      fmt::format("aggregate {}({}) does not exist; expected {}", name, got, expected));
}

bool Orderable(const DataType& t) {
  return t.id != TypeId::kNull;
}

}  // namespace

bool IsAggregateFunctionName(std::string_view n) {
  static const char* k[] = {"count", "sum", "avg", "min", "max", "stddev", "stddev_samp",
                            "stddev_pop", "variance", "var_samp", "var_pop", "approx_distinct",
                            "approx_percentile", "max_by", "min_by", "arbitrary", "any_value",
                            "bool_and", "bool_or", "every", "count_if"};
  for (const char* w : k)
    if (n == w) return true;
  return false;
}

Result<AggregateFunction> ResolveAggregate(std::string_view name,
                                           const std::vector<DataType>& t, bool distinct) {
  AggregateFunction f;
  f.name = std::string(name);
  f.distinct = distinct;
  auto one = [&](std::string_view expected) -> Status {
    if (t.size() != 1) return BadAgg(name, t, expected);
    return Status::OK();
  };
  DataType a = t.empty() ? DataType::Null() : t[0];
  if (name == "count") {
    if (t.size() > 1) return BadAgg(name, t, "count(*) or count(x)");
    f.arg_types = t;
    f.return_type = DataType::Int64();
  } else if (name == "count_if") {
    SL_RETURN_IF_ERROR(one("(BOOLEAN)"));
    if (a.id != TypeId::kBoolean && a.id != TypeId::kNull) return BadAgg(name, t, "(BOOLEAN)");
    f.arg_types = {DataType::Boolean()};
    f.return_type = DataType::Int64();
  } else if (name == "sum" || name == "avg") {
    SL_RETURN_IF_ERROR(one("a numeric argument"));
    if (a.id == TypeId::kNull) a = DataType::Double();
    if (!a.is_numeric() && a.id != TypeId::kInterval) return BadAgg(name, t, "a numeric argument");
    if (a.id == TypeId::kInterval) return Status::NotImplemented(std::string(name) + "(INTERVAL) is not supported");
    f.arg_types = {a};
    if (a.is_integer()) {
      f.return_type = name == "sum" ? DataType::Int64() : DataType::Double();
    } else if (a.id == TypeId::kDecimal) {
      f.return_type = name == "sum" ? DataType::Decimal(38, a.scale) : a;
    } else {
      f.return_type = a.id == TypeId::kFloat ? DataType::Float() : DataType::Double();
    }
  } else if (name == "min" || name == "max" || name == "arbitrary" || name == "any_value") {
    SL_RETURN_IF_ERROR(one("one argument"));
    if (!Orderable(a)) a = DataType::Int32();
    f.arg_types = {a};
    f.return_type = a;
  } else if (name == "stddev" || name == "stddev_samp" || name == "stddev_pop" ||
             name == "variance" || name == "var_samp" || name == "var_pop") {
    SL_RETURN_IF_ERROR(one("a numeric argument"));
    if (!a.is_numeric() && a.id != TypeId::kNull) return BadAgg(name, t, "a numeric argument");
    f.arg_types = {DataType::Double()};
    f.return_type = DataType::Double();
  } else if (name == "approx_distinct") {
    if (t.empty() || t.size() > 2) return BadAgg(name, t, "(x) or (x, max_standard_error)");
    f.arg_types = {a.id == TypeId::kNull ? DataType::Int32() : a};
    if (t.size() == 2) {
      if (!t[1].is_numeric()) return BadAgg(name, t, "(x, DOUBLE max_standard_error)");
      f.arg_types.push_back(DataType::Double());
    }
    f.return_type = DataType::Int64();  // a HyperLogLog estimate (internal/hyperloglog.h)
  } else if (name == "$hll_sketch") {  // materialized views (internal/hyperloglog.h)
    SL_ASSIGN_OR_RETURN(f, ResolveAggregate("approx_distinct", t, false));
    f.name = std::string(name);
    f.return_type = DataType::Varchar();
  } else if (name == "$hll_merge" || name == "$hll_estimate") {
    if (t.size() != 1 || t[0].id != TypeId::kVarchar) return BadAgg(name, t, "(VARCHAR sketch)");
    f.arg_types = t;
    f.return_type = name == "$hll_merge" ? DataType::Varchar() : DataType::Int64();
  } else if (name == "$count_distinct_ids") {  // materialized views' side tables
    if (t.size() != 1 || t[0].id != TypeId::kInt64) return BadAgg(name, t, "(BIGINT id)");
    f.arg_types = t;
    f.return_type = DataType::Int64();
  } else if (name == "approx_percentile") {
    if (t.size() != 2 || !(a.is_numeric() || a.id == TypeId::kNull) ||
        !(t[1].is_numeric() || t[1].id == TypeId::kNull))
      return BadAgg(name, t, "(number, DOUBLE percentile)");
    f.arg_types = {DataType::Double(), DataType::Double()};
    f.return_type = a.is_integer() ? DataType::Int64() : DataType::Double();
  } else if (name == "max_by" || name == "min_by") {
    if (t.size() != 2) return BadAgg(name, t, "(x, y)");
    f.arg_types = {a.id == TypeId::kNull ? DataType::Int32() : a,
                   t[1].id == TypeId::kNull ? DataType::Int32() : t[1]};
    f.return_type = f.arg_types[0];
  } else if (name == "bool_and" || name == "bool_or" || name == "every") {
    SL_RETURN_IF_ERROR(one("(BOOLEAN)"));
    if (a.id != TypeId::kBoolean && a.id != TypeId::kNull) return BadAgg(name, t, "(BOOLEAN)");
    f.arg_types = {DataType::Boolean()};
    f.return_type = DataType::Boolean();
  } else {
    return Status::NotFound("aggregate function '" + std::string(name) + "' not found");
  }
  f.make = &MakeAggregateState;
  return f;
}

namespace {

std::unique_ptr<AggregateState> MakePlain(const AggregateFunction& f) {
  const std::string& n = f.name;
  DataType a = f.arg_types.empty() ? DataType::Null() : f.arg_types[0];
  if (n == "approx_distinct") return MakeHllState();
  if (n == "$hll_sketch") return MakeHllState(HllMode::kSketch);
  if (n == "$hll_merge") return MakeHllState(HllMode::kMergeSketch);
  if (n == "$hll_estimate") return MakeHllState(HllMode::kMergeEstimate);
  if (n == "$count_distinct_ids") return std::make_unique<DenseIdCountState>();
  if (n == "count") return std::make_unique<CountState>(f.arg_types.empty());
  if (n == "count_if") return std::make_unique<CountIfState>();
  if (n == "sum" || n == "avg") {
    bool avg = n == "avg";
    switch (a.id) {
      case TypeId::kInt32: return std::make_unique<IntSumState<int32_t>>(avg);
      case TypeId::kInt64: return std::make_unique<IntSumState<int64_t>>(avg);
      case TypeId::kFloat: return std::make_unique<DoubleSumState<float>>(avg);
      case TypeId::kDecimal: return std::make_unique<DecimalSumState>(avg, a.scale);
      default: return std::make_unique<DoubleSumState<double>>(avg);
    }
  }
  if (n == "min" || n == "max") {
    bool mx = n == "max";
    auto pick = [&]<typename T>() -> std::unique_ptr<AggregateState> {
      if (mx) return std::make_unique<MinMaxState<T, true>>();
      return std::make_unique<MinMaxState<T, false>>();
    };
    switch (a.id) {
      case TypeId::kBoolean: return pick.template operator()<uint8_t>();
      case TypeId::kInt32:
      case TypeId::kDate: return pick.template operator()<int32_t>();
      case TypeId::kInt64:
      case TypeId::kTimestamp: return pick.template operator()<int64_t>();
      case TypeId::kFloat: return pick.template operator()<float>();
      case TypeId::kDouble: return pick.template operator()<double>();
      case TypeId::kDecimal: return pick.template operator()<__int128>();
      case TypeId::kVarchar: return std::make_unique<StringMinMaxState>(mx);
      default: return std::make_unique<ByState<true>>();
    }
  }
  if (n == "arbitrary" || n == "any_value") return std::make_unique<ArbitraryState>();
  if (n == "max_by") return std::make_unique<ByState<true>>();
  if (n == "min_by") return std::make_unique<ByState<false>>();
  if (n == "bool_and" || n == "every") return std::make_unique<BoolState<true>>();
  if (n == "bool_or") return std::make_unique<BoolState<false>>();
  if (n == "approx_percentile") return std::make_unique<PercentileState>();
  if (n == "stddev" || n == "stddev_samp") return std::make_unique<VarianceState>(VarKind::kStddevSamp);
  if (n == "stddev_pop") return std::make_unique<VarianceState>(VarKind::kStddevPop);
  if (n == "variance" || n == "var_samp") return std::make_unique<VarianceState>(VarKind::kVarSamp);
  return std::make_unique<VarianceState>(VarKind::kVarPop);
}

}  // namespace

std::unique_ptr<AggregateState> MakeAggregateState(const AggregateFunction& f) {
  auto plain = MakePlain(f);
  if (!f.distinct || f.arg_types.empty()) return plain;
  if (f.name == "min" || f.name == "max" || f.name == "arbitrary" || f.name == "bool_and" ||
      f.name == "bool_or" || f.name == "every")
    return plain;  // DISTINCT does not change these
  return MakeDistinctState(std::move(plain), f);
}

}  // namespace saleslake::sql
