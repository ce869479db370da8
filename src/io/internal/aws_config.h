// The standard AWS settings chain for the S3 store: credentials, region and endpoint from the
// environment and the shared files (~/.aws/credentials, ~/.aws/config), the way the AWS CLI and
// SDKs read them, so one set-up serves `aws s3 ...` and `saleslake --lake s3://...` alike.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "io/internal/sigv4.h"

namespace saleslake::io::internal {

// Reads an environment variable (std::getenv in production; a map in tests).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

struct AwsSettings {
  SigV4Key key;
  std::string region;    // AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1
  std::string endpoint;  // "" = AWS itself; else "http(s)://host[:port]" without trailing '/'
  bool path_style = false;  // custom endpoints and `addressing_style = path` use /bucket/key
  std::string credentials_source;  // "environment" or "profile NAME (FILE)", for messages
};

// INI sections of an AWS shared file: section -> key -> value. A key with an empty value
// followed by indented "k = v" lines (config's `s3 =` block) gives keys "s3.k".
std::map<std::string, std::map<std::string, std::string>> ParseAwsIni(std::string_view text);

// The chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN] first, else the
// profile AWS_PROFILE (else AWS_DEFAULT_PROFILE, else "default") from
// AWS_SHARED_CREDENTIALS_FILE (else $HOME/.aws/credentials) and AWS_CONFIG_FILE (else
// $HOME/.aws/config, sections "[profile NAME]" or "[default]"). Endpoint: AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL, the profile's s3.endpoint_url or endpoint_url. kPermissionDenied when no
// credentials are found (naming where it looked); kNotFound for a named profile that is absent.
Result<AwsSettings> ResolveAwsSettings(const EnvLookup& env);

}  // namespace saleslake::io::internal
