#include "common/batch.h"

#include <algorithm>
#include <bit>

namespace saleslake {

std::string_view StringHeap::Add(std::string_view s) {
  if (s.empty()) return std::string_view();
  char* p = Allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return std::string_view(p, s.size());
}

char* StringHeap::Allocate(size_t n) {
  used_total_ += n;
  if (n > left_) {
    if (n > kChunk / 4) {  // a big string gets its own chunk; the current one stays in use
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(n));
      return chunks_.back().get();
    }
    NewChunk(std::max(next_chunk_, n));
    next_chunk_ = std::min(next_chunk_ * 2, kChunk);
  }
  char* p = cur_;
  cur_ += n;
  left_ -= n;
  return p;
}

void StringHeap::Reserve(size_t n) {
  if (n > left_) NewChunk(n);
}

void StringHeap::NewChunk(size_t size) {
  // Not zeroed: bytes are only read where they were written, and a vector holding one short
  // string (a constant, a partition value) must not pay for clearing it.
  chunks_.push_back(std::make_unique_for_overwrite<char[]>(size));
  cur_ = chunks_.back().get();
  left_ = size;
}

void StringHeap::Clear() {
  chunks_.clear();
  cur_ = nullptr;
  left_ = 0;
  used_total_ = 0;
  next_chunk_ = kFirstChunk;
}

ColumnVector::ColumnVector(DataType type, size_t capacity) : type_(type) { Allocate(capacity); }

ColumnVector::ColumnVector(DataType type, std::shared_ptr<const void> owner, uint64_t* data, size_t n)
    : type_(type), size_(n), capacity_(n) {
  data_.ptr = data;
  data_.owner = std::move(owner);
}

void ColumnVector::Allocate(size_t capacity) {
  size_t width = std::max(type_.byte_width(), sizeof(uint32_t));  // room for dictionary indices
  size_t words = (capacity * width + 7) / 8;
  auto fresh = std::make_unique<uint64_t[]>(std::max<size_t>(words, 1));
  // Keep what is in use: indices (dictionary), slot 0 (constant) or values, and never more
  // than the old buffer holds (a borrowed one has exactly its rows).
  const size_t used = encoding_ == VectorEncoding::kDictionary ? sizeof(uint32_t) : type_.byte_width();
  const size_t keep = std::min({encoding_ == VectorEncoding::kConstant ? size_t{1} : size_, capacity, capacity_});
  if (data_.ptr && size_ > 0) std::memcpy(fresh.get(), data_.ptr, keep * used);
  data_.Own(std::move(fresh));
  if (!validity_.empty()) validity_.resize((capacity + 63) / 64, ~uint64_t{0});
  capacity_ = capacity;
}

void ColumnVector::Resize(size_t n) {
  if (n > capacity_) Allocate(std::max(n, capacity_ * 2));
  size_ = n;
}

void ColumnVector::Reset() {
  encoding_ = VectorEncoding::kFlat;
  size_ = 0;
  validity_.clear();
  heap_.Clear();
  kept_.clear();
  dictionary_.reset();
}

uint64_t* ColumnVector::EnsureValidity() {
  if (validity_.empty()) validity_.assign((std::max<size_t>(capacity_, 1) + 63) / 64, ~uint64_t{0});
  return validity_.data();
}

size_t CountValid(const uint64_t* validity, size_t n) {
  if (validity == nullptr) return n;
  size_t count = 0;
  size_t full = n / 64;
  for (size_t w = 0; w < full; ++w) count += static_cast<size_t>(std::popcount(validity[w]));
  if (n % 64) {
    uint64_t mask = (uint64_t{1} << (n % 64)) - 1;
    count += static_cast<size_t>(std::popcount(validity[full] & mask));
  }
  return count;
}

size_t ColumnVector::CountNulls() const {
  if (validity_.empty()) return 0;
  if (encoding_ == VectorEncoding::kConstant) return IsValid(0) ? 0 : size_;
  return size_ - CountValid(validity_.data(), size_);
}

void ColumnVector::MakeConstant(size_t n) {
  encoding_ = VectorEncoding::kConstant;
  dictionary_.reset();
  size_ = n;
}

void ColumnVector::MakeDictionary(std::shared_ptr<const ColumnVector> dict, size_t n) {
  SL_CHECK(dict && dict->type() == type_ && dict->encoding() == VectorEncoding::kFlat);
  dictionary_ = std::move(dict);
  encoding_ = VectorEncoding::kDictionary;
  if (n > capacity_) Allocate(n);
  size_ = n;
}

void ColumnVector::Flatten() {
  if (encoding_ == VectorEncoding::kFlat) return;
  const size_t n = size_;
  const size_t width = type_.byte_width();
  auto flat = std::make_unique<uint64_t[]>(std::max<size_t>((std::max(n, capacity_) * width + 7) / 8, 1));
  auto* out = reinterpret_cast<uint8_t*>(flat.get());
  if (encoding_ == VectorEncoding::kConstant) {
    const auto* v = reinterpret_cast<const uint8_t*>(data_.ptr);
    for (size_t i = 0; i < n; ++i) std::memcpy(out + i * width, v, width);
    if (!validity_.empty()) {
      bool valid = IsValid(0);
      validity_.assign((std::max(n, capacity_) + 63) / 64, valid ? ~uint64_t{0} : 0);
    }
  } else {
    const auto* idx = data<uint32_t>();
    const auto* dict = reinterpret_cast<const uint8_t*>(dictionary_->data_.ptr);
    for (size_t i = 0; i < n; ++i) std::memcpy(out + i * width, dict + idx[i] * width, width);
    // Views into the dictionary's bytes must outlive it: keep the dictionary itself alive.
    if (type_.id == TypeId::kVarchar) kept_.push_back(dictionary_);
    dictionary_.reset();
  }
  data_.Own(std::move(flat));
  capacity_ = std::max(n, capacity_);
  encoding_ = VectorEncoding::kFlat;
}

void ColumnVector::AppendFrom(const ColumnVector& src, size_t row) {
  SL_DCHECK(encoding_ == VectorEncoding::kFlat);
  size_t at = size_;
  Resize(at + 1);
  if (!src.IsValid(row)) {
    SetNull(at);
    return;
  }
  SetValid(at);
  const size_t width = type_.byte_width();
  const uint8_t* from;
  switch (src.encoding_) {
    case VectorEncoding::kFlat:
      from = reinterpret_cast<const uint8_t*>(src.data_.ptr) + row * width;
      break;
    case VectorEncoding::kConstant:
      from = reinterpret_cast<const uint8_t*>(src.data_.ptr);
      break;
    default:
      from = reinterpret_cast<const uint8_t*>(src.dictionary_->data_.ptr) +
             src.data<uint32_t>()[row] * width;
      break;
  }
  if (type_.id == TypeId::kVarchar) {
    std::string_view s;
    std::memcpy(&s, from, sizeof s);
    data<std::string_view>()[at] = heap_.Add(s);
  } else {
    std::memcpy(reinterpret_cast<uint8_t*>(data_.ptr) + at * width, from, width);
  }
}

Batch::Batch(const Schema& schema, size_t capacity) {
  columns.reserve(schema.size());
  for (const Field& f : schema.fields) columns.emplace_back(f.type, capacity);
}

void Batch::SetRows(size_t n) {
  num_rows = n;
  for (ColumnVector& c : columns) c.Resize(n);
}

void Batch::Reset() {
  num_rows = 0;
  selection.reset();
  for (ColumnVector& c : columns) c.Reset();
}

}  // namespace saleslake
