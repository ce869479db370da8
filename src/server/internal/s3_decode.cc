// Request -> typed S3 operation, key validation and the two XML request bodies. Pure functions:
// this file is what fuzz/s3_request_fuzz.cc exercises.
#include <algorithm>
#include <cctype>

#include "io/object_store.h"
#include "server/internal/s3.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {

namespace {

// name, IAM action (nullptr: the handler authorizes per resource), object resource, audited
// write. Parts of a multipart upload are not audited one by one: the object appears (and is
// audited) at CompleteMultipartUpload. DeleteObjects audits each key itself.
constexpr S3OperationInfo kOperations[] = {
    {"ListBuckets", "s3:ListAllMyBuckets", false},
    {"HeadBucket", "s3:ListBucket", false},
    {"GetBucketLocation", "s3:GetBucketLocation", false},
    {"CreateBucket", "s3:CreateBucket", false, true},
    {"DeleteBucket", "s3:DeleteBucket", false, true},
    {"ListObjects", "s3:ListBucket", false},
    {"ListObjectsV2", "s3:ListBucket", false},
    {"ListMultipartUploads", "s3:ListBucketMultipartUploads", false},
    {"GetBucketVersioning", "s3:GetBucketVersioning", false},
    {"PutBucketPolicy", "s3:PutBucketPolicy", false, true},
    {"GetBucketPolicy", "s3:GetBucketPolicy", false},
    {"DeleteBucketPolicy", "s3:DeleteBucketPolicy", false, true},
    {"DeleteObjects", nullptr, false},
    {"HeadObject", "s3:GetObject", true},
    {"GetObject", "s3:GetObject", true},
    {"PutObject", "s3:PutObject", true, true},
    {"CopyObject", "s3:PutObject", true, true},
    {"DeleteObject", "s3:DeleteObject", true, true},
    {"CreateMultipartUpload", "s3:PutObject", true},
    {"UploadPart", "s3:PutObject", true},
    {"UploadPartCopy", "s3:PutObject", true},
    {"CompleteMultipartUpload", "s3:PutObject", true, true},
    {"AbortMultipartUpload", "s3:AbortMultipartUpload", true, true},
    {"ListParts", "s3:ListMultipartUploadParts", true},
};

ApiError BadKey(std::string why) { return MakeError(400, "InvalidArgument", "Invalid key: " + why); }

// Subresources we recognise but do not implement (501 NotImplemented, not a silent GET).
constexpr const char* kUnsupported[] = {
    "acl", "cors", "lifecycle", "tagging", "website", "logging", "notification", "replication",
    "encryption", "object-lock", "retention", "legal-hold", "torrent", "versions", "restore",
    "select", "analytics", "inventory", "metrics", "accelerate", "requestPayment",
    "ownershipControls", "publicAccessBlock", "intelligent-tiering", "attributes", "policyStatus"};

}  // namespace

const S3OperationInfo* FindS3Operation(std::string_view name) {
  for (const S3OperationInfo& op : kOperations) {
    if (name == op.name) return &op;
  }
  return nullptr;
}

std::optional<ApiError> ValidateS3Key(std::string_view key) {
  if (key.empty()) return BadKey("empty");
  if (key.size() > 1024) return MakeError(400, "KeyTooLongError", "Your key is too long");
  if (key.find('\0') != std::string_view::npos) return BadKey("NUL byte");
  if (key.front() == '/') return BadKey("absolute path");
  if (key.find('\\') != std::string_view::npos) return BadKey("backslash");
  // A folder marker ("dir/") is a key with one trailing '/'; the rest must be a plain path.
  std::string_view body = key.back() == '/' ? key.substr(0, key.size() - 1) : key;
  if (body.empty()) return BadKey("empty");
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('/', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view seg = body.substr(start, end - start);
    if (seg.empty()) return BadKey("empty path segment ('//')");
    if (seg == "." || seg == "..") return BadKey("'.' or '..' segment");
    if (seg.size() > 250) return MakeError(400, "KeyTooLongError", "a key segment is over 250 bytes");
    for (unsigned char c : seg) {
      if (c < 0x20 || c == 0x7f) return BadKey("control character");
    }
    // A second level of percent-encoding of a traversal ("%2e%2e" arriving as "%252e%252e")
    // is refused too: some other component might decode it again.
    if (seg.find('%') != std::string_view::npos) {
      auto again = PercentDecode(seg);
      if (again && (*again == "." || *again == ".." || again->find('/') != std::string::npos ||
                    again->find('\\') != std::string::npos ||
                    again->find('\0') != std::string::npos)) {
        return BadKey("encoded traversal");
      }
    }
    start = end + 1;
  }
  Status s = io::ValidateKey(body);
  if (!s.ok()) return BadKey(s.message());
  return std::nullopt;
}

std::variant<S3Request, ApiError> DecodeS3Request(const HttpRequest& request,
                                                  std::string_view bucket) {
  S3Request out;
  std::string_view path = request.raw_path;
  // Absolute-form targets ("http://host/bucket/key") carry the authority in the path.
  if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
    size_t slash = path.find('/', path.find("//") + 2);
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  if (path.empty() || path.front() != '/') return MakeError(400, "InvalidURI", "Couldn't parse the specified URI.");
  auto query = ParseQuery(request.raw_query, /*plus_is_space=*/false);
  if (!query) return MakeError(400, "InvalidURI", "Couldn't parse the specified URI.");
  for (auto& [k, v] : *query) out.query.emplace(std::move(k), std::move(v));  // first value wins
  auto has = [&](const char* q) { return out.query.count(q) > 0; };

  // Virtual-host style: Host "bucket.endpoint[:port]".
  std::string host = request.HeaderOr("host");
  host = host.substr(0, host.rfind(':') == std::string::npos || host.back() == ']' ? host.size() : host.rfind(':'));
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view raw_key;
  if (!bucket.empty() && host.size() > bucket.size() + 1 && host.compare(0, bucket.size(), bucket) == 0 &&
      host[bucket.size()] == '.') {
    out.bucket = std::string(bucket);
    raw_key = path.substr(1);
  } else {
    std::string_view rest = path.substr(1);
    size_t slash = rest.find('/');
    auto b = PercentDecode(rest.substr(0, slash));
    if (!b) return MakeError(400, "InvalidURI", "Couldn't parse the specified URI.");
    out.bucket = *b;
    raw_key = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (!raw_key.empty()) {
    auto key = PercentDecode(raw_key);
    if (!key) return MakeError(400, "InvalidURI", "Couldn't parse the specified URI.");
    if (auto err = ValidateS3Key(*key)) return *err;
    out.key = std::move(*key);
  }
  if (!out.bucket.empty()) {
    bool ok = out.bucket.size() >= 3 && out.bucket.size() <= 63;
    for (char c : out.bucket) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_');
    }
    if (!ok) return MakeError(400, "InvalidBucketName", "The specified bucket is not valid.");
  }
  for (const char* sub : kUnsupported) {
    if (has(sub)) {
      return MakeError(501, "NotImplemented", std::string("the ?") + sub + " subresource is not implemented");
    }
  }

  const std::string& m = request.method;
  std::string op;
  if (out.bucket.empty()) {
    if (m == "GET") op = "ListBuckets";
  } else if (out.key.empty()) {
    if (m == "GET") {
      op = has("location") ? "GetBucketLocation"
           : has("policy") ? "GetBucketPolicy"
           : has("uploads") ? "ListMultipartUploads"
           : has("versioning") ? "GetBucketVersioning"
           : out.query.count("list-type") && out.query["list-type"] == "2" ? "ListObjectsV2"
                                                                          : "ListObjects";
    } else if (m == "HEAD") {
      op = "HeadBucket";
    } else if (m == "PUT") {
      op = has("policy") ? "PutBucketPolicy" : has("versioning") ? "" : "CreateBucket";
    } else if (m == "DELETE") {
      op = has("policy") ? "DeleteBucketPolicy" : "DeleteBucket";
    } else if (m == "POST") {
      if (has("delete")) op = "DeleteObjects";
    }
  } else {
    bool upload = has("uploadId");
    if (m == "GET") {
      op = upload ? "ListParts" : "GetObject";
    } else if (m == "HEAD") {
      op = "HeadObject";
    } else if (m == "PUT") {
      bool copy = request.Header("x-amz-copy-source") != nullptr;
      if (upload || has("partNumber")) op = copy ? "UploadPartCopy" : "UploadPart";
      else op = copy ? "CopyObject" : "PutObject";
    } else if (m == "DELETE") {
      op = upload ? "AbortMultipartUpload" : "DeleteObject";
    } else if (m == "POST") {
      if (has("uploads")) op = "CreateMultipartUpload";
      else if (upload) op = "CompleteMultipartUpload";
    }
  }
  if (op.empty()) {
    return MakeError(405, "MethodNotAllowed",
                     "The specified method is not allowed against this resource.");
  }
  out.operation = std::move(op);
  return out;
}

Result<std::vector<std::pair<int, std::string>>> ParseCompleteMultipart(std::string_view xml) {
  SL_ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name != "CompleteMultipartUpload") {
    return Status::InvalidArgument("the root element is <" + root.name + ">, not <CompleteMultipartUpload>");
  }
  std::vector<std::pair<int, std::string>> parts;
  for (const XmlNode& p : root.children) {
    if (p.name != "Part") continue;
    const XmlNode* num = p.Child("PartNumber");
    const XmlNode* etag = p.Child("ETag");
    if (!num || !etag) return Status::InvalidArgument("a <Part> without <PartNumber> or <ETag>");
    int n = 0;
    if (num->text.empty() || num->text.size() > 5) return Status::InvalidArgument("bad <PartNumber>");
    for (char c : num->text) {
      if (c < '0' || c > '9') return Status::InvalidArgument("bad <PartNumber>");
      n = n * 10 + (c - '0');
    }
    if (n < 1 || n > 10000) return Status::InvalidArgument("<PartNumber> out of 1..10000");
    std::string e = etag->text;
    // Clients send the ETag quoted, sometimes as &quot;: strip either way.
    while (!e.empty() && (e.front() == '"' || e.front() == ' ')) e.erase(e.begin());
    while (!e.empty() && (e.back() == '"' || e.back() == ' ')) e.pop_back();
    parts.emplace_back(n, std::move(e));
  }
  if (parts.empty()) return Status::InvalidArgument("no <Part> elements");
  return parts;
}

Result<DeleteRequest> ParseDeleteObjects(std::string_view xml) {
  SL_ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name != "Delete") return Status::InvalidArgument("the root element is <" + root.name + ">, not <Delete>");
  DeleteRequest out;
  for (const XmlNode& c : root.children) {
    if (c.name == "Quiet") {
      out.quiet = c.text == "true";
    } else if (c.name == "Object") {
      const XmlNode* key = c.Child("Key");
      if (!key) return Status::InvalidArgument("an <Object> without <Key>");
      out.keys.push_back(key->text);
    }
  }
  if (out.keys.empty()) return Status::InvalidArgument("no <Object> elements");
  if (out.keys.size() > 1000) return Status::InvalidArgument("more than 1000 keys");
  return out;
}

}  // namespace saleslake::server::internal
