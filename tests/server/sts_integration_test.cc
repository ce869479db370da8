// Roles through STS with the AWS CLI v2 against a real `saleslake serve`: who am I, assume a
// role whose trust policy names me, use its temporary credentials (they carry the role's rights
// and nothing else), and the refusals — a user the trust policy does not name, a forged token.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

class StsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    auto init = RunSaleslakeIn(lake_, {"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    analyst_ = CreateUserWithKey(lake_, "analyst", "");  // no identity policy at all
    outsider_ = CreateUserWithKey(lake_, "outsider", "");
    auto user = RunSaleslakeIn(lake_, {"iam", "get-user", "--user-name", "analyst"});
    ASSERT_EQ(user.exit_code, 0) << user.err;
    std::string arn = nlohmann::json::parse(user.out)["User"]["Arn"];
    account_ = arn.substr(std::string("arn:aws:iam::").size(), 12);
    WriteFile(dir_.Join("trust.json"), R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"AWS":")" + arn + R"("},"Action":"sts:AssumeRole"}]})");
    auto role = RunSaleslakeIn(lake_, {"iam", "create-role", "--role-name", "lake-reader",
                                       "--assume-role-policy-document", "file://" + dir_.Join("trust.json")});
    ASSERT_EQ(role.exit_code, 0) << role.err;
    EXPECT_EQ(nlohmann::json::parse(role.out)["Role"]["Arn"], "arn:aws:iam::" + account_ + ":role/lake-reader");
    auto policy = RunSaleslakeIn(lake_, {"iam", "put-role-policy", "--role-name", "lake-reader", "--policy-name", "read",
                                         "--policy-document",
                                         R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]})"});
    ASSERT_EQ(policy.exit_code, 0) << policy.err;
    auto list = RunSaleslakeIn(lake_, {"iam", "list-role-policies", "--role-name", "lake-reader"});
    EXPECT_NE(list.out.find("\"read\""), std::string::npos) << list.out;
    WriteFile(lake_ + "/raw_data/hello.csv", "a,b\n1,2\n");
    WriteFile(dir_.Join("aws-config"), "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
    std::string err;
    ASSERT_TRUE(server_.Start(lake_, {"--access-log", ""}, &err)) << err;
  }

  // The AWS CLI v2 with `key` (and a session token for temporary credentials).
  CommandResult Aws(const Key& key, std::vector<std::string> args, const std::string& token = "") {
    std::vector<std::string> env = {"AWS_ACCESS_KEY_ID=" + key.id, "AWS_SECRET_ACCESS_KEY=" + key.secret,
                                    "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + dir_.Join("aws-config"),
                                    "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
                                    "AWS_PAGER=", "HOME=" + dir_.path()};
    if (!token.empty()) env.push_back("AWS_SESSION_TOKEN=" + token);
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", server_.url(), "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, "", env);
  }

  TempDir dir_;
  std::string lake_;
  std::string account_;
  ServerProcess server_;
  Key analyst_;
  Key outsider_;
};

TEST_F(StsTest, AwsCliAssumesARoleAndUsesItsTemporaryCredentials) {
  auto me = Aws(analyst_, {"sts", "get-caller-identity"});
  ASSERT_EQ(me.exit_code, 0) << me.err;
  auto who = nlohmann::json::parse(me.out);
  EXPECT_EQ(who["Arn"], "arn:aws:iam::" + account_ + ":user/analyst");
  EXPECT_EQ(who["Account"], account_);

  // Without a policy of their own, the analyst reads nothing...
  EXPECT_NE(Aws(analyst_, {"s3", "ls", "s3://my-analytics-bucket/raw_data/"}).exit_code, 0);
  // ...until they assume the role their name is trusted by.
  const std::string role_arn = "arn:aws:iam::" + account_ + ":role/lake-reader";
  auto assumed = Aws(analyst_, {"sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "nightly",
                                "--duration-seconds", "900"});
  ASSERT_EQ(assumed.exit_code, 0) << assumed.err;
  auto j = nlohmann::json::parse(assumed.out);
  Key temp{j["Credentials"]["AccessKeyId"], j["Credentials"]["SecretAccessKey"]};
  std::string token = j["Credentials"]["SessionToken"];
  EXPECT_EQ(temp.id.rfind("ASIA", 0), 0u);
  EXPECT_EQ(j["AssumedRoleUser"]["Arn"], "arn:aws:sts::" + account_ + ":assumed-role/lake-reader/nightly");

  auto role_me = Aws(temp, {"sts", "get-caller-identity"}, token);
  ASSERT_EQ(role_me.exit_code, 0) << role_me.err;
  EXPECT_EQ(nlohmann::json::parse(role_me.out)["Arn"], "arn:aws:sts::" + account_ + ":assumed-role/lake-reader/nightly");
  auto ls = Aws(temp, {"s3", "ls", "s3://my-analytics-bucket/raw_data/"}, token);
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("hello.csv"), std::string::npos) << ls.out;
  auto get = Aws(temp, {"s3", "cp", "s3://my-analytics-bucket/raw_data/hello.csv", "-"}, token);
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "a,b\n1,2\n");
  // The role grants reads only.
  WriteFile(dir_.Join("up.csv"), "a,b\n3,4\n");
  auto put = Aws(temp, {"s3", "cp", dir_.Join("up.csv"), "s3://my-analytics-bucket/raw_data/up.csv"}, token);
  EXPECT_NE(put.exit_code, 0);
  EXPECT_NE(put.err.find("AccessDenied"), std::string::npos) << put.err;

  // A forged token and an untrusted user are refused.
  std::string forged = token;
  forged[12] = forged[12] == 'a' ? 'b' : 'a';
  auto bad = Aws(temp, {"s3", "ls", "s3://my-analytics-bucket/raw_data/"}, forged);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("InvalidToken"), std::string::npos) << bad.err;
  auto refused = Aws(outsider_, {"sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "x1"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("AccessDenied"), std::string::npos) << refused.err;

  // The grant and the refusal are both in the audit log.
  auto audit = RunProgram({"sh", "-c", "cat " + lake_ + "/_system/audit/*.jsonl"});
  EXPECT_NE(audit.out.find(R"("action":"sts:AssumeRole","resource":")" + role_arn + R"(","decision":"allowed")"),
            std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find(R"(user/outsider","access_key_id":")" + outsider_.id), std::string::npos) << audit.out;
}

}  // namespace
}  // namespace saleslake::testing
