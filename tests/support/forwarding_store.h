// Test helper: an ObjectStore that hands every call to another one. A test that watches or
// changes one behaviour of the lake's store (counts reads, poses as a store without appends or
// as a remote one) derives from it and overrides only that.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/object_store.h"

namespace saleslake::testing {

class ForwardingStore : public io::ObjectStore {
 public:
  explicit ForwardingStore(io::ObjectStore* base) : base_(base) {}
  Status Put(std::string_view k, std::string_view d) override { return base_->Put(k, d); }
  Status PutIfAbsent(std::string_view k, std::string_view d) override { return base_->PutIfAbsent(k, d); }
  Result<std::unique_ptr<io::OutputStream>> OpenWrite(std::string_view k) override { return base_->OpenWrite(k); }
  Result<std::unique_ptr<io::OutputStream>> OpenWriteUnsynced(std::string_view k) override {
    return base_->OpenWriteUnsynced(k);
  }
  Status Sync(std::string_view k) override { return base_->Sync(k); }
  Result<std::string> Get(std::string_view k) const override { return base_->Get(k); }
  Result<std::string> GetRange(std::string_view k, uint64_t o, uint64_t n) const override {
    return base_->GetRange(k, o, n);
  }
  Result<std::unique_ptr<io::RandomAccessFile>> OpenRead(std::string_view k) const override {
    return base_->OpenRead(k);
  }
  Result<std::vector<io::ObjectInfo>> List(std::string_view p) const override { return base_->List(p); }
  Status Append(std::string_view k, std::string_view d) override { return base_->Append(k, d); }
  Status Delete(std::string_view k) override { return base_->Delete(k); }
  Result<bool> Exists(std::string_view k) const override { return base_->Exists(k); }
  Result<io::ObjectInfo> Stat(std::string_view k) const override { return base_->Stat(k); }
  std::string uri() const override { return base_->uri(); }

 protected:
  io::ObjectStore* base_;
};

// A store without appends, as an S3 lake is: Append answers as the interface's default does
// (kNotImplemented).
class NoAppendStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status Append(std::string_view k, std::string_view d) override { return io::ObjectStore::Append(k, d); }
};

}  // namespace saleslake::testing
