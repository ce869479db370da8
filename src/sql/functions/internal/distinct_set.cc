#include "sql/functions/internal/distinct_set.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include <xxhash.h>

namespace saleslake::sql::internal {

// ---- ByteKeyTable ----

ByteKeyTable::ByteKeyTable() {
  slots_.resize(1024);
  shift_ = 64 - 10;
}

uint64_t ByteKeyTable::Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

uint32_t ByteKeyTable::Insert(Slot& slot, std::string_view key, uint32_t tag, bool* inserted) {
  const uint32_t len = static_cast<uint32_t>(key.size());
  char* p = arena_.Allocate(4 + key.size());
  std::memcpy(p, &len, 4);
  if (!key.empty()) std::memcpy(p + 4, key.data(), key.size());
  const uint32_t id = static_cast<uint32_t>(size_++);
  slot = Slot{p + 4, tag, id};
  *inserted = true;
  if (size_ * 2 > slots_.size()) Grow();
  return id;
}

// A slot's home in the doubled table is the next top bit of its hash, which its tag holds (the
// high 32 bits) as long as the table has at most 2^32 slots; past that the key is hashed again.
void ByteKeyTable::Grow() {
  std::vector<Slot> next(slots_.size() * 2);
  const size_t mask = next.size() - 1;
  const unsigned shift = shift_ - 1;
  for (const Slot& s : slots_) {
    if (s.key == nullptr) continue;
    const uint64_t h = shift >= 32 ? uint64_t{s.tag} << 32 : Hash(KeyAt(s.key));
    size_t at = static_cast<size_t>(h >> shift);
    while (next[at].key != nullptr) at = (at + 1) & mask;
    next[at] = s;
  }
  slots_.swap(next);
  shift_ = shift;
}

// ---- U64KeyTable ----

U64KeyTable::U64KeyTable() { slots_.resize(1024); }

uint32_t U64KeyTable::Insert(Slot& slot, uint64_t key, bool* inserted) {
  const uint32_t id = static_cast<uint32_t>(size_++);
  slot = Slot{key, id + 1};
  *inserted = true;
  if (size_ * 2 > slots_.size()) Grow();
  return id;
}

void U64KeyTable::Grow() {
  std::vector<Slot> next(slots_.size() * 2);
  const size_t mask = next.size() - 1;
  for (const Slot& s : slots_) {
    if (s.id_plus1 == 0) continue;
    size_t at = MixBits64(s.key) & mask;
    while (next[at].id_plus1 != 0) at = (at + 1) & mask;
    next[at] = s;
  }
  slots_.swap(next);
}

// ---- PairSet ----

PairSet::PairSet() { slots_.assign(1024, kEmpty); }

void PairSet::Grow() {
  std::vector<uint64_t> next(slots_.size() * 2, kEmpty);
  const size_t mask = next.size() - 1;
  for (uint64_t k : slots_) {
    if (k == kEmpty) continue;
    size_t at = Hash(k) & mask;
    while (next[at] != kEmpty) at = (at + 1) & mask;
    next[at] = k;
  }
  slots_.swap(next);
}

// ---- ValueSet ----

namespace {

// The 64-bit image of a fixed-width value: equal images iff equal values as DISTINCT sees them
// (-0.0 = 0.0, every NaN alike; REAL widened to DOUBLE exactly).
uint64_t DoubleImage(double d) {
  if (d == 0) d = 0;
  if (std::isnan(d)) return 0x7ff8000000000000ULL;
  return std::bit_cast<uint64_t>(d);
}

// Fills keys[k] with the image of row rows[k] of c (any encoding); one switch per call.
void U64Images(const ColumnVector& c, const uint32_t* rows, size_t n, uint64_t* keys) {
  auto fill = [&](auto read) {
    for (size_t k = 0; k < n; ++k) keys[k] = read(rows[k]);
  };
  switch (c.type().id) {
    case TypeId::kBoolean: return fill([&](size_t r) { return static_cast<uint64_t>(c.GetValue<uint8_t>(r) != 0); });
    case TypeId::kInt32:
    case TypeId::kDate:
      return fill([&](size_t r) { return static_cast<uint64_t>(static_cast<int64_t>(c.GetValue<int32_t>(r))); });
    case TypeId::kFloat: return fill([&](size_t r) { return DoubleImage(c.GetValue<float>(r)); });
    case TypeId::kDouble: return fill([&](size_t r) { return DoubleImage(c.GetValue<double>(r)); });
    default: return fill([&](size_t r) { return static_cast<uint64_t>(c.GetValue<int64_t>(r)); });
  }
}

bool FitsU64(const DataType& t) {
  switch (t.id) {
    case TypeId::kBoolean:
    case TypeId::kInt32:
    case TypeId::kDate:
    case TypeId::kInt64:
    case TypeId::kTimestamp:
    case TypeId::kFloat:
    case TypeId::kDouble: return true;
    default: return false;
  }
}

}  // namespace

ValueSet::ValueSet(std::vector<DataType> types, bool keep_values)
    : types_(std::move(types)), keep_values_(keep_values) {
  if (types_.size() == 1 && types_[0].id == TypeId::kVarchar) {
    kind_ = Kind::kBytes;
  } else if (types_.size() == 1 && FitsU64(types_[0])) {
    kind_ = Kind::kU64;
  } else {
    kind_ = Kind::kEncoded;
  }
  if (keep_values_) {
    for (const DataType& t : types_) {
      values_.emplace_back(t, 16);
      values_.back().Resize(0);
    }
  }
}

size_t ValueSet::size() const { return kind_ == Kind::kU64 ? u64_.size() : bytes_.size(); }

int64_t ValueSet::MemoryBytes() const {
  int64_t b = kind_ == Kind::kU64 ? u64_.MemoryBytes() : bytes_.MemoryBytes();
  b += static_cast<int64_t>(dict_ids_.capacity() * sizeof(uint32_t));
  for (const ColumnVector& v : values_) b += static_cast<int64_t>(v.capacity() * v.type().byte_width());
  return b + kept_string_bytes_;
}

void ValueSet::Keep(const ColumnVector& from, size_t row, size_t k) {
  values_[k].AppendFrom(from, row);
  if (types_[k].id == TypeId::kVarchar && from.IsValid(row))
    kept_string_bytes_ += static_cast<int64_t>(from.GetValue<std::string_view>(row).size());
}

void ValueSet::KeepRow(std::span<const ColumnVector* const> cols, size_t row) {
  if (!keep_values_) return;
  for (size_t k = 0; k < cols.size(); ++k) Keep(*cols[k], row, k);
}

void ValueSet::Intern(std::span<const ColumnVector* const> cols, const uint32_t* rows, size_t n,
                      uint32_t* ids) {
  if (n == 0) return;
  if (cols.size() == 1 && cols[0]->encoding() == VectorEncoding::kDictionary) {
    InternDictionary(*cols[0], rows, n, ids);
    return;
  }
  bool constant = true;
  for (const ColumnVector* c : cols) constant &= c->encoding() == VectorEncoding::kConstant;
  if (constant) {  // one value for every row
    const uint32_t first = rows[0];
    InternFlat(cols, &first, 1, ids);
    std::fill(ids + 1, ids + n, ids[0]);
    return;
  }
  InternFlat(cols, rows, n, ids);
}

void ValueSet::InternDictionary(const ColumnVector& c, const uint32_t* rows, size_t n, uint32_t* ids) {
  const ColumnVector& dict = *c.dictionary();
  const uint32_t dn = static_cast<uint32_t>(dict.size());
  if (dict_ != c.shared_dictionary()) {
    dict_ = c.shared_dictionary();
    dict_ids_.assign(dn, kUnknown);
  }
  const uint32_t* codes = c.data<uint32_t>();
  // The entries this batch meets for the first time, each once, interned as rows of the
  // dictionary itself.
  codes_.clear();
  for (size_t k = 0; k < n; ++k) {
    const uint32_t code = codes[rows[k]] < dn ? codes[rows[k]] : 0;
    if (dict_ids_[code] == kUnknown) {
      dict_ids_[code] = kUnknown - 1;  // pending: listed once
      codes_.push_back(code);
    }
  }
  if (!codes_.empty()) {
    std::vector<uint32_t> fresh(codes_.size());
    const ColumnVector* dcol = &dict;
    InternFlat(std::span<const ColumnVector* const>(&dcol, 1), codes_.data(), codes_.size(), fresh.data());
    for (size_t k = 0; k < codes_.size(); ++k) dict_ids_[codes_[k]] = fresh[k];
  }
  for (size_t k = 0; k < n; ++k) {
    const uint32_t code = codes[rows[k]] < dn ? codes[rows[k]] : 0;
    ids[k] = dict_ids_[code];
  }
}

// Many distinct values spread over a table larger than the cache: every probe would wait for
// its slot and then for the key's bytes. Hashes are computed first, then row k's probe runs
// while the slot of row k + 32 and the key bytes of row k + 16 are on their way (the distances
// that hid the latency of a table twice the size of the L3 cache, other work running beside).
void ValueSet::InternFlat(std::span<const ColumnVector* const> cols, const uint32_t* rows, size_t n,
                          uint32_t* ids) {
  hashes_.resize(n);
  bool inserted = false;
  if (kind_ == Kind::kU64) {
    keys_.resize(n);
    U64Images(*cols[0], rows, n, keys_.data());
    for (size_t k = 0; k < n; ++k) hashes_[k] = MixBits64(keys_[k]);
    for (size_t k = 0; k < n; ++k) {
      if (k + 16 < n) u64_.PrefetchSlot(hashes_[k + 16]);
      ids[k] = u64_.FindOrInsert(keys_[k], hashes_[k], &inserted);
      if (inserted) KeepRow(cols, rows[k]);
    }
    return;
  }
  views_.resize(n);
  if (kind_ == Kind::kBytes) {
    const ColumnVector& c = *cols[0];
    if (c.encoding() == VectorEncoding::kFlat) {
      const std::string_view* d = c.data<std::string_view>();
      for (size_t k = 0; k < n; ++k) views_[k] = d[rows[k]];
    } else {
      for (size_t k = 0; k < n; ++k) views_[k] = c.GetValue<std::string_view>(rows[k]);
    }
  } else {
    // Encoded keys: every row's encoding in one buffer, then views into it.
    encoded_.clear();
    std::vector<size_t> ends(n);
    for (size_t k = 0; k < n; ++k) {
      for (const ColumnVector* c : cols) AppendKey(*c, rows[k], encoded_);
      ends[k] = encoded_.size();
    }
    for (size_t k = 0, begin = 0; k < n; begin = ends[k], ++k) views_[k] = std::string_view(encoded_).substr(begin, ends[k] - begin);
  }
  for (size_t k = 0; k < n; ++k) hashes_[k] = ByteKeyTable::Hash(views_[k]);
  for (size_t k = 0; k < n; ++k) {
    if (k + 32 < n) bytes_.PrefetchSlot(hashes_[k + 32]);
    if (k + 16 < n) bytes_.PrefetchKey(hashes_[k + 16]);
    ids[k] = bytes_.FindOrInsert(views_[k], hashes_[k], &inserted);
    if (inserted) KeepRow(cols, rows[k]);
  }
}

void ValueSet::MergeFrom(const ValueSet& other, std::vector<uint32_t>& map) {
  map.assign(other.size(), 0);
  bool inserted = false;
  auto keep = [&](uint32_t other_id) {
    if (!keep_values_) return;
    for (size_t k = 0; k < values_.size(); ++k) Keep(other.values_[k], other_id, k);
  };
  if (kind_ == Kind::kU64) {
    other.u64_.ForEach([&](uint64_t key, uint32_t id) {
      map[id] = u64_.FindOrInsert(key, MixBits64(key), &inserted);
      if (inserted) keep(id);
    });
    return;
  }
  other.bytes_.ForEach([&](std::string_view key, uint32_t id) {
    map[id] = bytes_.FindOrInsert(key, ByteKeyTable::Hash(key), &inserted);
    if (inserted) keep(id);
  });
}

// ---- DistinctState ----

namespace {

using Args = std::span<const ColumnVector* const>;

// The distinct (group, value) pairs of one aggregate. While every row seen is in group 0 (no
// GROUP BY, or one group so far) the pairs are implicit: group 0 holds every value of the set.
// The first row of another group turns them into explicit pair keys (group << 32 | value id).
class DistinctState final : public AggregateState {
 public:
  DistinctState(std::unique_ptr<AggregateState> inner, std::vector<DataType> types, bool count_only)
      : inner_(std::move(inner)), count_only_(count_only), values_(std::move(types), !count_only) {}

  void Resize(size_t g) override { groups_ = std::max(groups_, g); }

  bool TakesDictionaries() const override { return true; }

  Status Update(const uint32_t* gids, Args a, size_t n) override {
    // Aggregates skip rows where an argument is NULL.
    live_.resize(n);
    size_t m = 0;
    bool any_nulls = false;
    for (const ColumnVector* c : a) any_nulls |= c->validity() != nullptr;
    if (!any_nulls) {
      for (size_t i = 0; i < n; ++i) live_[i] = static_cast<uint32_t>(i);
      m = n;
    } else {
      for (size_t i = 0; i < n; ++i) {
        bool valid = true;
        for (const ColumnVector* c : a) valid &= c->IsValid(i);
        live_[m] = static_cast<uint32_t>(i);
        m += valid;
      }
    }
    if (m == 0) return Status::OK();
    if (implicit_) {
      uint32_t other_groups = 0;
      for (size_t k = 0; k < m; ++k) other_groups |= gids[live_[k]];
      if (other_groups != 0) MakePairsExplicit();
    }
    ids_.resize(m);
    values_.Intern(a, live_.data(), m, ids_.data());
    if (implicit_) return Status::OK();
    pair_keys_.resize(m);
    for (size_t k = 0; k < m; ++k) pair_keys_[k] = (static_cast<uint64_t>(gids[live_[k]]) << 32) | ids_[k];
    for (size_t k = 0; k < m; ++k) {
      if (k + 16 < m) pairs_.Prefetch(pair_keys_[k + 16]);
      pairs_.Insert(pair_keys_[k]);
    }
    return Status::OK();
  }

  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<DistinctState&>(o);
    if (other.values_.size() == 0) return Status::OK();
    // Still one group after the merge only when the other's pairs all land in group 0 too.
    if (implicit_ && !(other.implicit_ && map[0] == 0)) MakePairsExplicit();
    std::vector<uint32_t> vmap;
    values_.MergeFrom(other.values_, vmap);
    if (implicit_) return Status::OK();
    if (other.implicit_) {
      const uint64_t g = static_cast<uint64_t>(map[0]) << 32;
      for (uint32_t v : vmap) pairs_.Insert(g | v);
      return Status::OK();
    }
    other.pairs_.ForEach([&](uint64_t key) {
      pairs_.Insert((static_cast<uint64_t>(map[key >> 32]) << 32) | vmap[static_cast<uint32_t>(key)]);
    });
    return Status::OK();
  }

  Status Finalize(ColumnVector& out) override {
    if (count_only_) {
      int64_t* c = out.data<int64_t>();
      std::fill(c, c + groups_, 0);
      if (implicit_) {
        if (groups_ > 0) c[0] = static_cast<int64_t>(values_.size());
      } else {
        pairs_.ForEach([&](uint64_t key) { ++c[key >> 32]; });
      }
      return Status::OK();
    }
    // Other aggregates get the distinct values of each group, a batch at a time.
    inner_->Resize(groups_);
    const auto& vals = values_.values();
    std::vector<uint32_t> gids;
    std::vector<uint32_t> rows;
    auto flush = [&]() -> Status {
      if (gids.empty()) return Status::OK();
      std::vector<ColumnVector> cols;
      std::vector<const ColumnVector*> args;
      cols.reserve(vals.size());
      for (const ColumnVector& v : vals) {
        cols.emplace_back(v.type(), rows.size());
        cols.back().Resize(0);
        for (uint32_t r : rows) cols.back().AppendFrom(v, r);
        args.push_back(&cols.back());
      }
      Status s = inner_->Update(gids.data(), args, gids.size());
      gids.clear();
      rows.clear();
      return s;
    };
    Status status;
    auto add = [&](uint32_t g, uint32_t v) {
      if (!status.ok()) return;
      gids.push_back(g);
      rows.push_back(v);
      if (gids.size() == kBatchRows) status = flush();
    };
    if (implicit_) {
      for (uint32_t v = 0; v < values_.size(); ++v) add(0, v);
    } else {
      pairs_.ForEach([&](uint64_t key) { add(static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key)); });
    }
    SL_RETURN_IF_ERROR(status);
    SL_RETURN_IF_ERROR(flush());
    return inner_->Finalize(out);
  }

  int64_t MemoryBytes() const override {
    return values_.MemoryBytes() + pairs_.MemoryBytes() +
           static_cast<int64_t>((live_.capacity() + ids_.capacity()) * 4 + pair_keys_.capacity() * 8);
  }

 private:
  // Group 0 holds every value so far: writes those pairs down before another group's arrive.
  void MakePairsExplicit() {
    implicit_ = false;
    for (uint32_t v = 0; v < values_.size(); ++v) pairs_.Insert(v);
  }

  std::unique_ptr<AggregateState> inner_;
  const bool count_only_;
  size_t groups_ = 0;
  ValueSet values_;
  bool implicit_ = true;  // every pair is (0, v) for a v of values_; pairs_ unused
  PairSet pairs_;
  // Scratch, per Update.
  std::vector<uint32_t> live_;
  std::vector<uint32_t> ids_;
  std::vector<uint64_t> pair_keys_;
};

}  // namespace

std::unique_ptr<AggregateState> MakeDistinctState(std::unique_ptr<AggregateState> inner,
                                                  const AggregateFunction& f) {
  return std::make_unique<DistinctState>(std::move(inner), f.arg_types, f.name == "count");
}

}  // namespace saleslake::sql::internal
