// The AWS documentation's example credentials, as a key lookup for the SigV4 verifier core.
#pragma once

#include <optional>
#include <string_view>

#include "auth/internal/verify.h"

namespace saleslake::auth::testing {

constexpr const char* kKeyId = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

inline internal::KeyLookup ExampleKeys(bool active = true) {
  return [active](std::string_view id) -> std::optional<internal::KeyRecord> {
    if (id != kKeyId) return std::nullopt;
    internal::KeyRecord r;
    r.secret = kSecret;
    r.active = active;
    r.principal = Principal{"123456789012", "example", "AIDAEXAMPLE",
                            "arn:aws:iam::123456789012:user/example", ""};
    return r;
  };
}

}  // namespace saleslake::auth::testing
