#include "sql/functions/internal/hyperloglog.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "common/encoding.h"
#include "common/hash.h"
#include "sql/functions/internal/kernels.h"

namespace saleslake::sql::internal {

namespace {


class HllState final : public AggregateState {
 public:
  explicit HllState(HllMode mode) : mode_(mode) {}

  void Resize(size_t groups) override {
    if (groups > groups_.size()) groups_.resize(groups);
  }

  Status Update(const uint32_t* gids, std::span<const ColumnVector* const> args, size_t n) override {
    if (n == 0) return Status::OK();
    if (mode_ == HllMode::kMergeSketch || mode_ == HllMode::kMergeEstimate) return UpdateFromSketches(gids, *args[0], n);
    if (!precision_set_ && args.size() > 1) {
      const ColumnVector& e = *args[1];
      if (!e.IsValid(0)) return Status::InvalidArgument("approx_distinct: max standard error must not be NULL");
      SL_ASSIGN_OR_RETURN(precision_, HllPrecisionFor(GetValueAt(e, 0).double_value()));
    }
    precision_set_ = true;
    hashes_.resize(n);
    HashKeyColumn(*args[0], n, hashes_.data(), true);
    const ColumnVector& x = *args[0];
    for (size_t i = 0; i < n; ++i) {
      if (!x.IsValid(i)) continue;
      // Key hashes suit hash tables; HLL reads the top bits and the leading zeros of the rest,
      // which must look uniformly random, so they are mixed once more.
      Add(groups_[gids[i]], MixBits64(hashes_[i]));
    }
    return Status::OK();
  }

  Status Merge(AggregateState& o, const uint32_t* map) override {
    auto& other = static_cast<HllState&>(o);
    if (!precision_set_) {
      precision_ = other.precision_;
      precision_set_ = other.precision_set_;
    }
    for (size_t g = 0; g < other.groups_.size(); ++g) {
      Group& src = other.groups_[g];
      Group& dst = groups_[map[g]];
      for (uint64_t h : src.hashes) Add(dst, h);
      if (!src.registers.empty()) {
        if (dst.registers.empty()) ToDense(dst);
        for (size_t r = 0; r < dst.registers.size(); ++r)
          dst.registers[r] = std::max(dst.registers[r], src.registers[r]);
      }
    }
    return Status::OK();
  }

  Status Finalize(ColumnVector& out) override {
    if (mode_ == HllMode::kSketch || mode_ == HllMode::kMergeSketch) {
      for (size_t g = 0; g < groups_.size(); ++g) out.SetString(g, Serialize(groups_[g]));
      return Status::OK();
    }
    int64_t* o = out.data<int64_t>();
    for (size_t g = 0; g < groups_.size(); ++g) {
      const Group& s = groups_[g];
      o[g] = s.registers.empty() ? static_cast<int64_t>(s.hashes.size())
                                 : std::llround(HllEstimate(s.registers.data(), precision_));
    }
    return Status::OK();
  }

 private:
  struct Group {
    std::vector<uint64_t> hashes;    // sorted distinct hashes while sparse
    std::vector<uint8_t> registers;  // 2^precision registers once dense
  };

  // Sketch text: hex of [kind: 0 sparse, 1 dense][precision][8-byte little-endian hashes |
  // 2^precision registers]. Hex keeps the Parquet column valid UTF-8 for Athena and Trino.
  std::string Serialize(const Group& g) const {
    std::string raw;
    raw.push_back(g.registers.empty() ? '\0' : '\1');
    raw.push_back(static_cast<char>(precision_));
    if (g.registers.empty()) {
      for (uint64_t h : g.hashes)
        for (int b = 0; b < 8; ++b) raw.push_back(static_cast<char>((h >> (8 * b)) & 0xff));
    } else {
      raw.append(reinterpret_cast<const char*>(g.registers.data()), g.registers.size());
    }
    return HexEncode(raw);
  }

  Status UpdateFromSketches(const uint32_t* gids, const ColumnVector& x, size_t n) {
    auto text = Read<std::string_view>(x);
    std::string raw;
    for (size_t i = 0; i < n; ++i) {
      if (!x.IsValid(i)) continue;
      if (!HexDecode(text[i], &raw) || raw.size() < 2 || static_cast<uint8_t>(raw[0]) > 1)
        return Status::InvalidArgument("not a HyperLogLog sketch");
      int p = static_cast<uint8_t>(raw[1]);
      if (p < 4 || p > 16 || (precision_set_ && p != precision_))
        return Status::InvalidArgument("HyperLogLog sketches of different precisions cannot be merged");
      precision_ = p;
      precision_set_ = true;
      Group& dst = groups_[gids[i]];
      const auto* bytes = reinterpret_cast<const uint8_t*>(raw.data() + 2);
      size_t len = raw.size() - 2;
      if (raw[0] == 0) {
        if (len % 8 != 0) return Status::InvalidArgument("not a HyperLogLog sketch");
        for (size_t k = 0; k < len; k += 8) {
          uint64_t h = 0;
          for (int b = 7; b >= 0; --b) h = (h << 8) | bytes[k + static_cast<size_t>(b)];
          Add(dst, h);
        }
      } else {
        if (len != (size_t{1} << p)) return Status::InvalidArgument("not a HyperLogLog sketch");
        if (dst.registers.empty()) ToDense(dst);
        for (size_t r = 0; r < len; ++r) dst.registers[r] = std::max(dst.registers[r], bytes[r]);
      }
    }
    return Status::OK();
  }

  size_t SparseLimit() const { return (size_t{1} << precision_) / sizeof(uint64_t); }

  void Add(Group& g, uint64_t h) {
    if (!g.registers.empty()) {
      AddDense(g, h);
      return;
    }
    auto it = std::lower_bound(g.hashes.begin(), g.hashes.end(), h);
    if (it != g.hashes.end() && *it == h) return;
    g.hashes.insert(it, h);
    if (g.hashes.size() > SparseLimit()) ToDense(g);
  }

  void AddDense(Group& g, uint64_t h) const {
    const int q = 64 - precision_;
    size_t index = static_cast<size_t>(h >> q);
    uint64_t rest = h << precision_;
    int rank = rest == 0 ? q + 1 : std::min(__builtin_clzll(rest) + 1, q + 1);
    uint8_t& r = g.registers[index];
    if (rank > r) r = static_cast<uint8_t>(rank);
  }

  void ToDense(Group& g) const {
    g.registers.assign(size_t{1} << precision_, 0);
    for (uint64_t h : g.hashes) AddDense(g, h);
    g.hashes.clear();
    g.hashes.shrink_to_fit();
  }

  HllMode mode_;
  int precision_ = kDefaultHllPrecision;
  bool precision_set_ = false;
  std::vector<Group> groups_;
  std::vector<uint64_t> hashes_;  // per input row (scratch)
};

// Ertl's sigma and tau series (Algorithm 6 of arXiv:1702.01284).
double Sigma(double x) {
  if (x == 1.0) return INFINITY;
  double y = 1, z = x, prev;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (z != prev);
  return z;
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1, z = 1 - x, prev;
  do {
    x = std::sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (z != prev);
  return z / 3;
}

}  // namespace

Result<int> HllPrecisionFor(double e) {
  if (!(e >= 0.0040625 && e <= 0.26))
    return Status::InvalidArgument(fmt::format(
        "approx_distinct: max standard error must be in [0.0040625, 0.26], not {}", e));
  // The smallest register count whose standard error 1.04 / sqrt(m) is within e.
  int p = 4;
  while (p < 16 && 1.04 / std::sqrt(static_cast<double>(1 << p)) > e) ++p;
  return p;
}

double HllEstimate(const uint8_t* registers, int precision) {
  const int q = 64 - precision;
  const double m = static_cast<double>(size_t{1} << precision);
  std::vector<double> counts(static_cast<size_t>(q + 2), 0.0);
  for (size_t r = 0; r < (size_t{1} << precision); ++r) counts[registers[r]] += 1;
  double z = m * Tau(1 - counts[static_cast<size_t>(q + 1)] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + counts[static_cast<size_t>(k)]);
  z += m * Sigma(counts[0] / m);
  return m * m / (2 * std::log(2.0)) / z;
}

std::unique_ptr<AggregateState> MakeHllState(HllMode mode) { return std::make_unique<HllState>(mode); }

}  // namespace saleslake::sql::internal
