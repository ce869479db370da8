// Batch and ColumnVector: the one columnar unit that CSV, Parquet, SQL, streams and the server
// all pass around (STYLE.md rule 7).
//
// A ColumnVector holds up to capacity() values of one DataType (physical layout in types.h),
// a validity bitmap (absent = every row valid), and an encoding:
//   kFlat       data()[i] is row i.
//   kConstant   data()[0] (and validity bit 0) stands for every row.
//   kDictionary data<uint32_t>()[i] indexes dictionary(); row validity is this vector's bitmap,
//               the dictionary itself holds no nulls.
// Hot loops switch on type and encoding once per batch, then run a template per case.
// Strings are std::string_view into the vector's StringHeap or into a buffer it keeps alive.
//
// Thread safety: none; one owner at a time. A dictionary is shared read-only (shared_ptr<const>).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/types.h"

namespace saleslake {

constexpr size_t kBatchRows = 2048;

// Bump allocator for string bytes; freed all at once by Clear(). Views stay valid until then.
// Chunks grow from 4 KB to 64 KB: vectors that outlive their batch (a join's build side, the
// rows a filter kept) often hold a few hundred bytes, and a fixed 64 KB chunk each made TPC-H
// q19's 257k kept rows take 380 MB.
class StringHeap {
 public:
  std::string_view Add(std::string_view s);
  // Reserves n bytes to be filled by the caller (e.g. a concatenation); returns their address.
  char* Allocate(size_t n);
  // The next n bytes of Add/Allocate fit in one chunk of exactly what they need (when the
  // current one has less room): for callers that know the total, such as a gather.
  void Reserve(size_t n);
  void Clear();
  size_t bytes_used() const { return used_total_; }

 private:
  static constexpr size_t kFirstChunk = 4 * 1024;
  static constexpr size_t kChunk = 64 * 1024;
  void NewChunk(size_t size);
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* cur_ = nullptr;
  size_t left_ = 0;
  size_t used_total_ = 0;
  size_t next_chunk_ = kFirstChunk;
};

// Row indices of the live rows of a batch, ascending unless a comment says otherwise.
class SelectionVector {
 public:
  SelectionVector() = default;
  explicit SelectionVector(size_t capacity) { idx_.resize(capacity); }
  uint32_t Get(size_t i) const { return idx_[i]; }
  void Set(size_t i, uint32_t row) { idx_[i] = row; }
  uint32_t* data() { return idx_.data(); }
  const uint32_t* data() const { return idx_.data(); }
  size_t size() const { return size_; }
  void Resize(size_t n) {
    if (idx_.size() < n) idx_.resize(n);
    size_ = n;
  }

 private:
  std::vector<uint32_t> idx_;
  size_t size_ = 0;
};

enum class VectorEncoding : uint8_t { kFlat, kConstant, kDictionary };

class ColumnVector {
 public:
  ColumnVector() = default;
  explicit ColumnVector(DataType type, size_t capacity = kBatchRows);
  // A flat vector of n rows whose values are the external buffer `data` (n values of the type's
  // width, 8-byte aligned), kept alive by `owner`; no copy. Writes go to that buffer, so it must
  // belong to this vector alone (e.g. one batch's slice of a decoded column chunk); growing past
  // n copies the values into a buffer of the vector's own.
  ColumnVector(DataType type, std::shared_ptr<const void> owner, uint64_t* data, size_t n);
  ColumnVector(ColumnVector&&) noexcept = default;
  ColumnVector& operator=(ColumnVector&&) noexcept = default;
  ColumnVector(const ColumnVector&) = delete;
  ColumnVector& operator=(const ColumnVector&) = delete;

  const DataType& type() const { return type_; }
  VectorEncoding encoding() const { return encoding_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  // Sets the row count, growing the buffers (contents kept) when n > capacity().
  void Resize(size_t n);
  // Back to an empty flat vector with no nulls; strings and kept buffers are released.
  void Reset();

  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(data_.ptr);
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(data_.ptr);
  }

  // ---- validity ----
  // Null when every row is valid (the fast path). Bit i of word i/64 set = row i valid.
  uint64_t* validity() { return validity_.empty() ? nullptr : validity_.data(); }
  const uint64_t* validity() const { return validity_.empty() ? nullptr : validity_.data(); }
  // Allocates an all-valid bitmap if there is none and returns it.
  uint64_t* EnsureValidity();
  bool IsValid(size_t row) const {
    if (validity_.empty()) return true;
    size_t i = encoding_ == VectorEncoding::kConstant ? 0 : row;
    return (validity_[i >> 6] >> (i & 63)) & 1;
  }
  void SetNull(size_t row) {
    EnsureValidity();
    validity_[row >> 6] &= ~(uint64_t{1} << (row & 63));
  }
  void SetValid(size_t row) {
    if (!validity_.empty()) validity_[row >> 6] |= uint64_t{1} << (row & 63);
  }
  // Nulls among the first size() rows (constant: size() or 0).
  size_t CountNulls() const;

  // ---- strings ----
  // Copies s into this vector's heap; the view lives as long as the vector (until Reset).
  std::string_view AddString(std::string_view s) { return heap_.Add(s); }
  void SetString(size_t row, std::string_view s) { data<std::string_view>()[row] = heap_.Add(s); }
  StringHeap& heap() { return heap_; }
  // Keeps an external buffer alive that string views of this vector point into.
  void KeepAlive(std::shared_ptr<const void> buffer) { kept_.push_back(std::move(buffer)); }

  // ---- encodings ----
  // Makes this a constant vector of n rows whose value is slot 0 (set it through data<T>()[0]
  // and SetNull(0) / AddString before or after).
  void MakeConstant(size_t n);
  // Makes this a dictionary vector of n rows over `dict` (flat, no nulls); fill data<uint32_t>().
  void MakeDictionary(std::shared_ptr<const ColumnVector> dict, size_t n);
  const ColumnVector* dictionary() const { return dictionary_.get(); }
  // The shared dictionary itself, for caches keyed by it (holding it keeps the key unique).
  const std::shared_ptr<const ColumnVector>& shared_dictionary() const { return dictionary_; }
  // Rewrites a constant or dictionary vector as flat, in place.
  void Flatten();

  // Value of row `row` whatever the encoding (slow path: tests, printing, stats). Always
  // inlined: it is a load and a switch, and as an out-of-line call in per-row loops (the ETL's
  // typing and hashing) it cost more than the work around it.
  template <typename T>
  [[gnu::always_inline]] T GetValue(size_t row) const {
    switch (encoding_) {
      case VectorEncoding::kFlat: return data<T>()[row];
      case VectorEncoding::kConstant: return data<T>()[0];
      case VectorEncoding::kDictionary:
        return dictionary_->data<T>()[data<uint32_t>()[row]];
    }
    return T{};
  }

  // Appends row `row` of `src` (same type, any encoding) as the next row of this flat vector.
  // Strings are copied into this vector's heap.
  void AppendFrom(const ColumnVector& src, size_t row);

 private:
  void Allocate(size_t capacity);

  DataType type_;
  VectorEncoding encoding_ = VectorEncoding::kFlat;
  size_t size_ = 0;
  size_t capacity_ = 0;
  // The values: an owned buffer, or a borrowed one kept alive by `owner`. Moving leaves the
  // source empty (ptr null), never pointing into the buffer it gave away.
  struct Storage {
    uint64_t* ptr = nullptr;  // 8-byte aligned; 16-byte types are memcpy'd
    std::unique_ptr<uint64_t[]> owned;
    std::shared_ptr<const void> owner;
    Storage() = default;
    Storage(Storage&& o) noexcept : ptr(o.ptr), owned(std::move(o.owned)), owner(std::move(o.owner)) { o.ptr = nullptr; }
    Storage& operator=(Storage&& o) noexcept {
      ptr = o.ptr;
      owned = std::move(o.owned);
      owner = std::move(o.owner);
      o.ptr = nullptr;
      return *this;
    }
    void Own(std::unique_ptr<uint64_t[]> buf) {
      owned = std::move(buf);
      owner.reset();
      ptr = owned.get();
    }
  };
  Storage data_;
  std::vector<uint64_t> validity_;
  StringHeap heap_;
  std::vector<std::shared_ptr<const void>> kept_;
  std::shared_ptr<const ColumnVector> dictionary_;
};

// Equal-length columns plus an optional selection of live rows.
struct Batch {
  std::vector<ColumnVector> columns;
  size_t num_rows = 0;
  // When set, only these rows (indices < num_rows) are live, in this order.
  std::optional<SelectionVector> selection;

  Batch() = default;
  // One flat column per field, with the given capacity.
  explicit Batch(const Schema& schema, size_t capacity = kBatchRows);
  Batch(Batch&&) noexcept = default;
  Batch& operator=(Batch&&) noexcept = default;

  size_t num_columns() const { return columns.size(); }
  // Rows a consumer sees: the selection's size when there is one.
  size_t live_rows() const { return selection ? selection->size() : num_rows; }
  // Sets num_rows and every column's size.
  void SetRows(size_t n);
  void Reset();
};

// Number of valid bits among the first n of a bitmap (nullptr = all valid).
size_t CountValid(const uint64_t* validity, size_t n);

}  // namespace saleslake
