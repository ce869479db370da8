// libFuzzer target: the IAM policy parser (identity and resource forms) and, for documents that
// parse, evaluation against a fixed request. Must never crash, hang or leak; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saleslake::auth;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const Principal who{"123456789012", "alice", "AIDAALICE", "arn:aws:iam::123456789012:user/alice", "AKIA"};
  RequestContext ctx = {{"aws:SourceIp", {"10.1.2.3"}},
                        {"aws:CurrentTime", {"2026-06-01T12:00:00Z"}},
                        {"aws:SecureTransport", {"false"}},
                        {"aws:username", {"alice"}},
                        {"s3:prefix", {"raw_data/", "x"}},
                        {"s3:max-keys", {"10"}}};
  auto identity = Policy::Parse(text, false);
  auto resource = Policy::Parse(text, true);
  std::vector<NamedPolicy> ps;
  if (identity.ok()) ps.push_back(NamedPolicy{"p", *identity});
  AuthzRequest req{who, "s3:GetObject", "arn:aws:s3:::my-analytics-bucket/raw_data/a.csv", ctx,
                   resource.ok() ? &*resource : nullptr};
  (void)Evaluate(req, ps);
  req.principal = Principal{};
  (void)Evaluate(req, ps);
  return 0;
}
