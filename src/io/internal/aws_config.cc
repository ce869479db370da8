#include "io/internal/aws_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace saleslake::io::internal {
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::string> NonEmpty(const EnvLookup& env, const std::string& name) {
  auto v = env(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

std::string Lookup(const std::map<std::string, std::string>* section, const std::string& key) {
  if (section == nullptr) return "";
  auto it = section->find(key);
  return it == section->end() ? "" : it->second;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::map<std::string, std::map<std::string, std::string>> ParseAwsIni(std::string_view text) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::string section, nested;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const bool indented = raw[0] == ' ' || raw[0] == '\t';
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(std::string_view(line).substr(1, line.size() - 2));
      nested.clear();
      out[section];
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    std::string key = Trim(std::string_view(line).substr(0, eq));
    std::string value = Trim(std::string_view(line).substr(eq + 1));
    if (indented && !nested.empty()) {
      out[section][nested + "." + key] = value;
      continue;
    }
    nested = value.empty() ? key : "";
    if (!value.empty()) out[section][key] = value;
  }
  return out;
}

Result<AwsSettings> ResolveAwsSettings(const EnvLookup& env) {
  AwsSettings s;
  std::string home = env("HOME").value_or("");
  std::string cred_file = NonEmpty(env, "AWS_SHARED_CREDENTIALS_FILE").value_or(home + "/.aws/credentials");
  std::string config_file = NonEmpty(env, "AWS_CONFIG_FILE").value_or(home + "/.aws/config");
  auto explicit_profile = NonEmpty(env, "AWS_PROFILE");
  if (!explicit_profile) explicit_profile = NonEmpty(env, "AWS_DEFAULT_PROFILE");
  std::string profile = explicit_profile.value_or("default");

  auto cred_text = ReadText(cred_file);
  auto config_text = ReadText(config_file);
  auto creds = ParseAwsIni(cred_text.value_or(""));
  auto config = ParseAwsIni(config_text.value_or(""));
  const std::map<std::string, std::string>* cred_sec = nullptr;
  const std::map<std::string, std::string>* conf_sec = nullptr;
  if (auto it = creds.find(profile); it != creds.end()) cred_sec = &it->second;
  if (auto it = config.find(profile == "default" ? "default" : "profile " + profile); it != config.end())
    conf_sec = &it->second;

  auto id = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  auto secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    s.key = {*id, *secret, NonEmpty(env, "AWS_SESSION_TOKEN").value_or("")};
    s.credentials_source = "environment";
  } else {
    if (explicit_profile && cred_sec == nullptr && conf_sec == nullptr)
      return Status::NotFound("AWS profile '" + profile + "' is in neither " + cred_file + " nor " + config_file);
    // The credentials file wins over the config file, key by key, as in the AWS CLI.
    for (const auto* sec : {cred_sec, conf_sec}) {
      if (s.key.access_key_id.empty() && !Lookup(sec, "aws_access_key_id").empty()) {
        s.key.access_key_id = Lookup(sec, "aws_access_key_id");
        s.key.secret_access_key = Lookup(sec, "aws_secret_access_key");
        s.key.session_token = Lookup(sec, "aws_session_token");
        s.credentials_source = "profile " + profile + " (" + (sec == cred_sec ? cred_file : config_file) + ")";
      }
    }
    if (s.key.access_key_id.empty() || s.key.secret_access_key.empty())
      return Status::PermissionDenied(
          "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a "
          "profile in " + cred_file + " or " + config_file + " (looked for profile '" + profile + "')");
  }

  s.region = NonEmpty(env, "AWS_REGION").value_or(NonEmpty(env, "AWS_DEFAULT_REGION").value_or(""));
  if (s.region.empty()) s.region = Lookup(conf_sec, "region");
  if (s.region.empty()) s.region = "us-east-1";

  s.endpoint = NonEmpty(env, "AWS_ENDPOINT_URL_S3").value_or(NonEmpty(env, "AWS_ENDPOINT_URL").value_or(""));
  if (s.endpoint.empty()) s.endpoint = Lookup(conf_sec, "s3.endpoint_url");
  if (s.endpoint.empty()) s.endpoint = Lookup(conf_sec, "endpoint_url");
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (!s.endpoint.empty() && s.endpoint.rfind("http://", 0) != 0 && s.endpoint.rfind("https://", 0) != 0)
    return Status::InvalidArgument("S3 endpoint '" + s.endpoint + "' must start with http:// or https://");
  // Custom endpoints (MinIO, Ceph, saleslake serve) rarely have per-bucket DNS names.
  std::string style = Lookup(conf_sec, "s3.addressing_style");
  s.path_style = style == "path" || (style != "virtual" && !s.endpoint.empty());
  return s;
}

}  // namespace saleslake::io::internal
