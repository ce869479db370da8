// The SigV4 verification core, independent of where keys are stored: Iam::Verify passes a
// lookup from access key id to the key's secret and owner.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/auth.h"

namespace saleslake::auth::internal {

struct KeyRecord {
  std::string secret;
  Principal principal;
  bool active = true;
};

// nullopt when the key id is unknown.
using KeyLookup = std::function<std::optional<KeyRecord>(std::string_view access_key_id)>;

Result<Authenticated> VerifyRequest(const HttpRequestView& request, std::string_view service,
                                    TimePoint now, const KeyLookup& lookup);

// RFC 1123 date ("Fri, 24 May 2013 00:00:00 GMT"), for requests that sign the Date header.
std::optional<TimePoint> ParseHttpDate(std::string_view text);

}  // namespace saleslake::auth::internal
