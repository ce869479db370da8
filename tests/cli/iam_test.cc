// `saleslake iam ...` and the admin user `init` creates: AWS CLI names, options, JSON shapes,
// exit codes and one-line errors.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "support/test_support.h"

namespace saleslake {
namespace {

using nlohmann::json;
using testing::RunSaleslakeIn;
using testing::TempDir;

class IamCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    auto r = RunSaleslakeIn(lake_, {"init"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    init_out_ = r.out;
  }
  json Run(std::vector<std::string> args) {
    auto r = RunSaleslakeIn(lake_, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.out.empty()) return json();
    return json::parse(r.out);
  }
  std::vector<std::string> Keys(const json& obj) {
    std::vector<std::string> k;
    for (auto it = obj.begin(); it != obj.end(); ++it) k.push_back(it.key());
    std::sort(k.begin(), k.end());
    return k;
  }
  TempDir dir_;
  std::string lake_, init_out_;
};

TEST_F(IamCliTest, InitCreatesAdminOnceWithAPrivateCredentialsFile) {
  EXPECT_NE(init_out_.find("admin access key (shown only now"), std::string::npos) << init_out_;
  std::string path = lake_ + "/_system/admin-credentials";
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string creds = testing::ReadFile(path);
  EXPECT_NE(creds.find("[saleslake]\naws_access_key_id = AKIA"), std::string::npos) << creds;
  EXPECT_NE(creds.find("aws_secret_access_key = "), std::string::npos);
  std::string key_id = creds.substr(creds.find("AKIA"), 20);
  EXPECT_NE(init_out_.find(key_id), std::string::npos);

  // The admin has AdministratorAccess: simulation allows anything.
  json users = Run({"iam", "list-users"});
  ASSERT_EQ(users["Users"].size(), 1u);
  std::string arn = users["Users"][0]["Arn"];
  EXPECT_TRUE(std::regex_match(arn, std::regex(R"(arn:aws:iam::[1-9][0-9]{11}:user/admin)"))) << arn;
  json sim = Run({"iam", "simulate-principal-policy", "--policy-source-arn", arn, "--action-names",
                  "s3:PutObject", "glue:StartJobRun"});
  ASSERT_EQ(sim["EvaluationResults"].size(), 2u);
  for (const auto& r : sim["EvaluationResults"]) EXPECT_EQ(r["EvalDecision"], "allowed");
  json keys = Run({"iam", "list-access-keys", "--user-name", "admin"});
  EXPECT_EQ(keys["AccessKeyMetadata"][0]["AccessKeyId"], key_id);

  // A second init changes nothing and prints no key.
  auto again = RunSaleslakeIn(lake_, {"init"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("nothing to create"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("AKIA"), std::string::npos);
  EXPECT_EQ(testing::ReadFile(path), creds);
}

TEST_F(IamCliTest, UsersKeysAndTheirJson) {
  json u = Run({"iam", "create-user", "--user-name", "alice"});
  EXPECT_EQ(Keys(u["User"]), (std::vector<std::string>{"Arn", "CreateDate", "Path", "UserId", "UserName"}));
  EXPECT_EQ(u["User"]["UserName"], "alice");
  json k = Run({"iam", "create-access-key", "--user-name", "alice"});
  EXPECT_EQ(Keys(k["AccessKey"]),
            (std::vector<std::string>{"AccessKeyId", "CreateDate", "SecretAccessKey", "Status", "UserName"}));
  EXPECT_EQ(k["AccessKey"]["Status"], "Active");
  EXPECT_EQ(k["AccessKey"]["SecretAccessKey"].get<std::string>().size(), 40u);
  std::string id = k["AccessKey"]["AccessKeyId"];

  Run({"iam", "update-access-key", "--user-name", "alice", "--access-key-id", id, "--status", "Inactive"});
  json listed = Run({"iam", "list-access-keys", "--user-name", "alice"});
  ASSERT_EQ(listed["AccessKeyMetadata"].size(), 1u);
  EXPECT_EQ(listed["AccessKeyMetadata"][0]["Status"], "Inactive");
  EXPECT_FALSE(listed["AccessKeyMetadata"][0].contains("SecretAccessKey"));

  auto conflict = RunSaleslakeIn(lake_, {"iam", "delete-user", "--user-name", "alice"});
  EXPECT_EQ(conflict.exit_code, 1);
  EXPECT_NE(conflict.err.find("DeleteConflict"), std::string::npos) << conflict.err;
  Run({"iam", "delete-access-key", "--user-name", "alice", "--access-key-id", id});
  Run({"iam", "delete-user", "--user-name", "alice"});
  auto gone = RunSaleslakeIn(lake_, {"iam", "get-user", "--user-name", "alice"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.err, "saleslake: error: NoSuchEntity: the user with name alice cannot be found\n");

  // Usage errors exit 2.
  EXPECT_EQ(RunSaleslakeIn(lake_, {"iam", "update-access-key", "--user-name", "a", "--access-key-id", "x",
                                   "--status", "Paused"}).exit_code, 2);
  EXPECT_EQ(RunSaleslakeIn(lake_, {"iam", "create-user"}).exit_code, 2);
  EXPECT_EQ(RunSaleslakeIn(lake_, {"iam"}).exit_code, 2);
}

TEST_F(IamCliTest, GroupsPoliciesAndSimulation) {
  Run({"iam", "create-user", "--user-name", "bob"});
  json g = Run({"iam", "create-group", "--group-name", "analysts"});
  EXPECT_EQ(g["Group"]["GroupName"], "analysts");
  Run({"iam", "add-user-to-group", "--group-name", "analysts", "--user-name", "bob"});
  EXPECT_EQ(Run({"iam", "get-group", "--group-name", "analysts"})["Users"][0]["UserName"], "bob");
  EXPECT_EQ(Run({"iam", "list-groups-for-user", "--user-name", "bob"})["Groups"][0]["GroupName"], "analysts");

  std::string file = dir_.Join("read.json");
  testing::WriteFile(file, R"({"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::my-analytics-bucket", "arn:aws:s3:::my-analytics-bucket/*"],
     "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})");
  Run({"iam", "put-group-policy", "--group-name", "analysts", "--policy-name", "Read",
       "--policy-document", "file://" + file});
  Run({"iam", "put-user-policy", "--user-name", "bob", "--policy-name", "NoSystem", "--policy-document",
       R"({"Version":"2012-10-17","Statement":[{"Sid":"NoSystem","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::my-analytics-bucket/_system/*"}]})"});
  EXPECT_EQ(Run({"iam", "list-user-policies", "--user-name", "bob"})["PolicyNames"], json::array({"NoSystem"}));
  EXPECT_EQ(Run({"iam", "list-group-policies", "--group-name", "analysts"})["PolicyNames"], json::array({"Read"}));
  json got = Run({"iam", "get-group-policy", "--group-name", "analysts", "--policy-name", "Read"});
  EXPECT_EQ(got["PolicyDocument"]["Statement"][0]["Sid"], "Read");

  // A malformed document: exit 1, one line, the code and where.
  auto bad = RunSaleslakeIn(lake_, {"iam", "put-user-policy", "--user-name", "bob", "--policy-name", "X",
                                    "--policy-document", "{\"Statement\": [{\"Effect\": \"Maybe\"}]}"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "saleslake: error: MalformedPolicyDocument: line 1, column 27 (byte 26): "
                     "Effect must be \"Allow\" or \"Deny\"\n");

  std::string arn = Run({"iam", "get-user", "--user-name", "bob"})["User"]["Arn"];
  json sim = Run({"iam", "simulate-principal-policy", "--policy-source-arn", arn,
                  "--action-names", "s3:GetObject", "s3:DeleteObject",
                  "--resource-arns", "arn:aws:s3:::my-analytics-bucket/raw_data/a.csv",
                  "arn:aws:s3:::my-analytics-bucket/_system/iam/x",
                  "--context-entries", "ContextKeyName=aws:SourceIp,ContextKeyValues=10.9.8.7,ContextKeyType=ip"});
  auto& r = sim["EvaluationResults"];
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0]["EvalDecision"], "allowed");
  EXPECT_EQ(r[0]["MatchedStatements"][0]["SourcePolicyId"], "group/analysts/Read");
  EXPECT_EQ(r[1]["EvalDecision"], "explicitDeny");
  EXPECT_EQ(r[1]["MatchedStatements"][0]["StatementId"], "NoSystem");
  EXPECT_EQ(r[2]["EvalDecision"], "implicitDeny");
  EXPECT_EQ(r[3]["EvalDecision"], "explicitDeny");
  // Another address: the group's condition fails.
  json outside = Run({"iam", "simulate-principal-policy", "--policy-source-arn", arn, "--action-names",
                      "s3:GetObject", "--resource-arns", "arn:aws:s3:::my-analytics-bucket/raw_data/a.csv",
                      "--context-entries",
                      R"([{"ContextKeyName":"aws:SourceIp","ContextKeyValues":["192.0.2.1"],"ContextKeyType":"ip"}])"});
  EXPECT_EQ(outside["EvaluationResults"][0]["EvalDecision"], "implicitDeny");

  json lp = Run({"iam", "create-login-profile", "--user-name", "bob", "--password", "a long passphrase"});
  EXPECT_EQ(lp["LoginProfile"]["UserName"], "bob");
  Run({"iam", "delete-login-profile", "--user-name", "bob"});
  Run({"iam", "delete-user-policy", "--user-name", "bob", "--policy-name", "NoSystem"});
  Run({"iam", "remove-user-from-group", "--group-name", "analysts", "--user-name", "bob"});
  Run({"iam", "delete-group-policy", "--group-name", "analysts", "--policy-name", "Read"});
  Run({"iam", "delete-group", "--group-name", "analysts"});
  EXPECT_TRUE(Run({"iam", "list-groups"})["Groups"].empty());
}

TEST(IamCliNoLakeTest, ClearErrorWithoutALake) {
  TempDir dir;
  auto r = RunSaleslakeIn(dir.Join("missing"), {"iam", "list-users"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("saleslake: error: ", 0), 0u);
}

}  // namespace
}  // namespace saleslake
