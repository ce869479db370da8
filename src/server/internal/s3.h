// The S3 API over the lake: the lake is one bucket.
//
// Objects are the lake's files. What S3 keeps beside an object (Content-Type, x-amz-meta-*, the
// MD5 or multipart ETag) lives in a sidecar under _system/s3/meta/, valid while the object's size
// and mtime match it; objects written by the CLI have none, so their MD5 is computed on demand
// and cached. Multipart parts are staged under _system/s3/uploads/<id>/ and assembled into the
// object with one atomic commit; parts of the same size (what clients send) are written in place
// into one stripe file there, which Complete renames into the object without a copy. _system/ is invisible through S3 (it holds secrets and IAM);
// catalog/ and processed_data/ are read-only (data enters tables through crawls and jobs).
// Thread safety: Handle runs on many worker threads at once.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "io/local_store.h"
#include "server/internal/api_error.h"
#include "server/internal/dispatch.h"
#include "server/internal/gate.h"
#include "server/internal/http_types.h"
#include "server/internal/xml.h"

namespace saleslake::server::internal {

// A request decoded into one S3 operation.
struct S3Request {
  std::string operation;  // "GetObject", "ListObjectsV2", ...
  std::string bucket;     // "" for ListBuckets
  std::string key;        // decoded and validated; "" for bucket operations
  // Decoded query parameters (first value wins); looked up by literal names without a copy.
  std::map<std::string, std::string, std::less<>> query;
};

// What the dispatcher needs to authorize an operation before running it.
struct S3OperationInfo {
  const char* name;
  const char* iam_action;
  bool object_resource;  // resource is bucket/key (else the bucket)
  bool audited_write = false;  // a change of what the bucket holds: audited when it succeeds
};

// Request -> typed operation (pure; the fuzz target). `bucket` is the lake's bucket name (for
// virtual-host requests). Errors: InvalidURI / KeyTooLongError / InvalidArgument (400) for bad
// keys, NotImplemented (501) for unsupported subresources, MethodNotAllowed (405).
std::variant<S3Request, ApiError> DecodeS3Request(const HttpRequest& request,
                                                  std::string_view bucket);
// Table entry of an operation name; nullptr when unknown.
const S3OperationInfo* FindS3Operation(std::string_view name);

// S3 key checks beyond io::ValidateKey: a decoded key is refused when it would name anything
// but a file inside the lake (.., ., empty segments, absolute, NUL, backslash, overlong, a
// second level of percent-encoding of those).
std::optional<ApiError> ValidateS3Key(std::string_view key);

// CompleteMultipartUpload body -> (part number, etag) in document order.
Result<std::vector<std::pair<int, std::string>>> ParseCompleteMultipart(std::string_view xml);
// DeleteObjects body -> keys and Quiet flag.
struct DeleteRequest {
  std::vector<std::string> keys;
  bool quiet = false;
};
Result<DeleteRequest> ParseDeleteObjects(std::string_view xml);

class S3Service {
 public:
  // `lake` is the store the bucket shows (a LocalStore, or the split store over an S3 lake:
  // served_lake.h); `state` the local directory where multipart parts are staged (the lake
  // itself when local). Neither is owned.
  S3Service(io::ObjectStore* lake, io::LocalStore* state, std::string bucket);
  const std::string& bucket() const { return bucket_; }

  // Clears leftovers of writes killed long ago. Called once at start.
  Status Recover();

  // Runs a decoded operation the dispatcher has authorized. `gate` authorizes the extra
  // resources some operations touch (a copy's source, each key of DeleteObjects).
  Outcome Handle(const S3Request& s3, HttpRequest& request, const Principal& principal,
                 Gate& gate);

 private:
  struct Meta {
    std::string etag;          // without quotes
    std::string content_type;  // "" = binary/octet-stream
    std::vector<std::pair<std::string, std::string>> user;  // x-amz-meta-* (lower-case names)
    uint64_t size = 0;
    int64_t mtime_ns = 0;
  };

  Outcome ListBuckets(const HttpRequest& request);
  Outcome ListObjects(const S3Request& s3, bool v2);
  Outcome GetObject(const S3Request& s3, const HttpRequest& request, bool head);
  Outcome PutObject(const S3Request& s3, HttpRequest& request);
  Outcome CopyObject(const S3Request& s3, HttpRequest& request, const Principal& principal,
                     Gate& gate);
  Outcome DeleteObject(const S3Request& s3);
  Outcome DeleteObjects(const S3Request& s3, HttpRequest& request, const Principal& principal,
                        Gate& gate);
  Outcome CreateMultipart(const S3Request& s3, const HttpRequest& request);
  Outcome UploadPart(const S3Request& s3, HttpRequest& request, const Principal& principal,
                     Gate& gate, bool copy);
  Outcome CompleteMultipart(const S3Request& s3, HttpRequest& request);
  Outcome AbortMultipart(const S3Request& s3);
  Outcome ListParts(const S3Request& s3);
  Outcome ListUploads(const S3Request& s3);
  Outcome BucketPolicy(const S3Request& s3, HttpRequest& request, Gate& gate);

  // The object's metadata: the sidecar when it matches, else computed (MD5) and cached.
  Result<Meta> MetaOf(const io::ObjectInfo& info);
  Status WriteMeta(const std::string& key, const Meta& meta);
  // Writes `data` to `key` atomically and records its metadata; returns the new Meta.
  Result<Meta> StoreObject(const std::string& key, std::string_view data, Meta meta);
  // A PutObject / completed upload under raw_data/: what `saleslake upload` records.
  Status RecordRawObject(const std::string& key, const std::string& sha256_hex);
  // Resolves x-amz-copy-source to a visible key, authorizing s3:GetObject on it.
  std::variant<std::string, ApiError> CopySource(const HttpRequest& request,
                                                 const Principal& principal, Gate& gate);
  std::optional<ApiError> CheckWritable(const std::string& key) const;
  std::string UploadDir(const std::string& upload_id) const;
  // Parts hold it shared while they write; Complete and Abort hold it alone.
  std::shared_mutex& UploadMutex(const std::string& upload_id);
  // Claims the stripe region of part `n` (`size` bytes) of upload `id`; returns its offset, or
  // nothing when the part must go to a file of its own (see UploadPart).
  std::optional<uint64_t> ClaimStripe(const std::string& id, int n, uint64_t size);
  void ReleaseStripe(const std::string& id, int n);

  io::ObjectStore* lake_;
  io::LocalStore* state_;       // staging of multipart uploads (keys under _system/s3/uploads/)
  io::LocalStore* local_lake_;  // lake_ when it is a local directory (folders, in-place uploads)
  std::string bucket_;
  std::mutex cache_mu_;
  // GUARDED_BY(cache_mu_): key -> computed metadata. Hashed: an ordered map compared the long
  // common prefixes of a folder's keys ~14 times per GET.
  std::unordered_map<std::string, Meta> etag_cache_;
  std::array<std::shared_mutex, 64> upload_mu_;  // striped by upload id: Complete vs Abort vs Part
  std::mutex stripe_mu_;
  std::set<std::pair<std::string, int>> stripe_claims_;  // GUARDED_BY(stripe_mu_): parts being written
};

}  // namespace saleslake::server::internal
