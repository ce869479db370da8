// The AWS settings chain of the S3 store: environment first, then profiles in the shared files,
// region and endpoint resolution, path-style for custom endpoints.
#include <gtest/gtest.h>

#include <map>

#include "io/internal/aws_config.h"
#include "support/test_support.h"

namespace saleslake::io::internal {
namespace {

using saleslake::testing::TempDir;
using saleslake::testing::WriteFile;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(AwsIni, SectionsCommentsAndNestedS3Block) {
  auto ini = ParseAwsIni(
      "# comment\n[default]\naws_access_key_id = AK\r\n  aws_secret_access_key=SK  \n; other\n"
      "[profile dev]\nregion = eu-west-1\ns3 =\n  endpoint_url = http://localhost:9000\n"
      "  addressing_style = path\noutput = json\n");
  EXPECT_EQ(ini["default"]["aws_access_key_id"], "AK");
  EXPECT_EQ(ini["default"]["aws_secret_access_key"], "SK");
  EXPECT_EQ(ini["profile dev"]["region"], "eu-west-1");
  EXPECT_EQ(ini["profile dev"]["s3.endpoint_url"], "http://localhost:9000");
  EXPECT_EQ(ini["profile dev"]["s3.addressing_style"], "path");
  EXPECT_EQ(ini["profile dev"]["output"], "json");
  EXPECT_EQ(ini["profile dev"].count("s3"), 0u);
}

TEST(AwsSettings, EnvironmentWinsOverProfiles) {
  TempDir home;
  WriteFile(home.Join("creds"), "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
  auto s = ResolveAwsSettings(Env({{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                                   {"AWS_SESSION_TOKEN", "TOKEN"}, {"AWS_SHARED_CREDENTIALS_FILE", home.Join("creds")},
                                   {"AWS_REGION", "eu-central-1"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->key.access_key_id, "ENVKEY");
  EXPECT_EQ(s->key.secret_access_key, "ENVSECRET");
  EXPECT_EQ(s->key.session_token, "TOKEN");
  EXPECT_EQ(s->credentials_source, "environment");
  EXPECT_EQ(s->region, "eu-central-1");
  EXPECT_EQ(s->endpoint, "");
  EXPECT_FALSE(s->path_style);  // AWS itself: virtual-hosted buckets
}

TEST(AwsSettings, NamedProfileFromBothFiles) {
  TempDir home;
  WriteFile(home.Join(".aws/credentials"),
            "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n"
            "[lake]\naws_access_key_id = LK\naws_secret_access_key = LS\naws_session_token = LT\n");
  WriteFile(home.Join(".aws/config"),
            "[default]\nregion = us-west-2\n[profile lake]\nregion = ap-south-1\ns3 =\n"
            "  endpoint_url = http://127.0.0.1:9000/\n");
  auto s = ResolveAwsSettings(Env({{"HOME", home.path()}, {"AWS_PROFILE", "lake"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->key.access_key_id, "LK");
  EXPECT_EQ(s->key.session_token, "LT");
  EXPECT_EQ(s->region, "ap-south-1");
  EXPECT_EQ(s->endpoint, "http://127.0.0.1:9000");  // trailing '/' dropped
  EXPECT_TRUE(s->path_style);
  EXPECT_NE(s->credentials_source.find("profile lake"), std::string::npos);

  // The default profile, and the environment's region and endpoint over the file's.
  auto d = ResolveAwsSettings(Env({{"HOME", home.path()}, {"AWS_DEFAULT_REGION", "sa-east-1"},
                                   {"AWS_ENDPOINT_URL", "http://a:1"}, {"AWS_ENDPOINT_URL_S3", "https://b:2"}}));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->key.access_key_id, "D");
  EXPECT_EQ(d->region, "sa-east-1");
  EXPECT_EQ(d->endpoint, "https://b:2");
}

TEST(AwsSettings, KeysInTheConfigFileAndVirtualStyleOverride) {
  TempDir home;
  WriteFile(home.Join("config"),
            "[profile cfg]\naws_access_key_id = CK\naws_secret_access_key = CS\n"
            "endpoint_url = https://minio.example:9000\ns3 =\n  addressing_style = virtual\n");
  auto s = ResolveAwsSettings(Env({{"HOME", home.path()}, {"AWS_CONFIG_FILE", home.Join("config")},
                                   {"AWS_PROFILE", "cfg"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->key.access_key_id, "CK");
  EXPECT_EQ(s->region, "us-east-1");  // the default
  EXPECT_EQ(s->endpoint, "https://minio.example:9000");
  EXPECT_FALSE(s->path_style);
}

TEST(AwsSettings, ClearErrors) {
  TempDir home;
  auto none = ResolveAwsSettings(Env({{"HOME", home.path()}}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(none.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);

  auto missing = ResolveAwsSettings(Env({{"HOME", home.path()}, {"AWS_PROFILE", "nope"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);

  // Only half a key in the environment is not a key.
  auto half = ResolveAwsSettings(Env({{"HOME", home.path()}, {"AWS_ACCESS_KEY_ID", "X"}}));
  EXPECT_FALSE(half.ok());

  auto bad = ResolveAwsSettings(Env({{"AWS_ACCESS_KEY_ID", "X"}, {"AWS_SECRET_ACCESS_KEY", "Y"},
                                     {"AWS_ENDPOINT_URL", "ftp://x"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace saleslake::io::internal
