// The `iam:` section of pipeline.yaml: IAM groups and users with their inline policies, declared
// with the stack and applied by deploy (CloudFormation's AWS::IAM::Group / AWS::IAM::User).
//
//   iam:
//     groups:
//       - name: analysts
//         policies:
//           read-sales: |                    # the policy document, JSON as IAM takes it
//             {"Version": "2012-10-17", "Statement": [...]}
//     users:
//       - name: alice
//         groups: [analysts]                 # groups this file declares
//         policies: {}                       # inline policies, as for groups
//
// Access keys and passwords are never declared (secrets stay out of the file): `saleslake iam
// create-access-key` makes them. Only what the file declares is managed: deploy creates the
// declared groups and users, puts their policies and memberships, and removes what a previous
// version declared and this one does not (a user who still has access keys or policies made by
// hand is kept, with a notice).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "io/object_store.h"

namespace saleslake::stack::internal {

struct IamGroupSpec {
  std::string name;
  std::map<std::string, std::string> policies;  // name -> JSON document
};
struct IamUserSpec {
  std::string name;
  std::vector<std::string> groups;
  std::map<std::string, std::string> policies;
};
struct IamSpec {
  std::vector<IamGroupSpec> groups;
  std::vector<IamUserSpec> users;
  bool empty() const { return groups.empty() && users.empty(); }
};

// The section `iam` (a node of a file named `path`); every problem is appended to `errors` as
// "path:LINE:COL: why" (unknown keys, bad names, a policy IAM would refuse, a user's group the
// file does not declare). Names declared twice are the stack's cross checks, not reported here.
IamSpec ReadIamSection(const YAML::Node& iam, std::string_view path, std::vector<std::string>* errors);

// The IAM of a pipeline text: empty when it has no `iam:` section or cannot be read.
IamSpec IamOf(std::string_view text);

// Makes the lake's IAM store hold what `next` declares and drops what only `previous` declared.
// Idempotent: a deploy killed half-way is completed by the next one. What is kept although no
// longer declared is said in `notices`.
Status ApplyIam(io::ObjectStore& lake, const IamSpec& previous, const IamSpec& next, std::vector<std::string>* notices);

}  // namespace saleslake::stack::internal
