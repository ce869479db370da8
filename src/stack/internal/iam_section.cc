#include "stack/internal/iam_section.h"

#include <algorithm>
#include <memory>
#include <regex>
#include <set>

#include "auth/auth.h"
#include "common/suggest.h"
#include "common/yaml.h"

namespace saleslake::stack::internal {
namespace {

// Refuses keys other than `known` in the mapping `n`.
void OnlyKeys(const YAML::Node& n, const std::vector<std::string>& known, const std::string& what,
              std::string_view path, std::vector<std::string>* errors) {
  for (const YamlProblem& p : UnknownKeys(n, known)) errors->push_back(YamlAt(path, p.mark) + what + p.message);
}

// IAM's name rules: user names up to 64, group and policy names up to 128 of [\w+=,.@-].
bool ValidName(const std::string& name, size_t max) {
  static const std::regex kName("[A-Za-z0-9_+=,.@-]+");
  return !name.empty() && name.size() <= max && std::regex_match(name, kName);
}

std::map<std::string, std::string> ReadPolicies(const YAML::Node& n, const std::string& what, std::string_view path,
                                                std::vector<std::string>* errors) {
  std::map<std::string, std::string> out;
  if (!n) return out;
  if (!n.IsMap()) {
    errors->push_back(YamlAt(path, n.Mark()) + what + "policies must be a mapping of policy name to JSON document");
    return out;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    if (!ValidName(name, 128)) {
      errors->push_back(YamlAt(path, it->first.Mark()) + what + "policy names are 1-128 of A-Z a-z 0-9 _ + = , . @ -");
      continue;
    }
    if (!it->second.IsScalar()) {
      errors->push_back(YamlAt(path, it->second.Mark()) + what + "policy " + name +
                        ": the document is JSON text (a block scalar: `" + name + ": |` and the JSON below)");
      continue;
    }
    const std::string doc = it->second.Scalar();
    if (auto parsed = auth::Policy::Parse(doc); !parsed.ok()) {
      errors->push_back(YamlAt(path, it->second.Mark()) + what + "policy " + name + ": " +
                        std::string(auth::ErrorMessageOf(parsed.status())));
      continue;
    }
    out[name] = doc;
  }
  return out;
}

// The scalar `name` of an item, or "" (with an error) when it is missing or not a valid name.
std::string ItemName(const YAML::Node& item, const char* kind, size_t max, std::string_view path,
                     std::vector<std::string>* errors) {
  const YAML::Node n = item["name"];
  if (!n || !n.IsScalar()) {
    errors->push_back(YamlAt(path, item.Mark()) + "every iam " + kind + " needs a name");
    return "";
  }
  if (!ValidName(n.Scalar(), max)) {
    errors->push_back(YamlAt(path, n.Mark()) + "iam " + kind + " '" + n.Scalar() + "': names are 1-" +
                      std::to_string(max) + " of A-Z a-z 0-9 _ + = , . @ -");
    return "";
  }
  return n.Scalar();
}

}  // namespace

IamSpec ReadIamSection(const YAML::Node& iam, std::string_view path, std::vector<std::string>* errors) {
  IamSpec spec;
  if (!iam || iam.IsNull()) return spec;
  if (!iam.IsMap()) {
    errors->push_back(YamlAt(path, iam.Mark()) + "iam: must be a mapping with groups: and users:");
    return spec;
  }
  OnlyKeys(iam, {"groups", "users"}, "iam: ", path, errors);
  auto list = [&](const char* key) {
    const YAML::Node n = iam[key];
    if (n && !n.IsNull() && !n.IsSequence()) errors->push_back(YamlAt(path, n.Mark()) + "iam: " + key + ": must be a list");
    return n && n.IsSequence() ? n : YAML::Node(YAML::NodeType::Sequence);
  };
  for (const auto& g : list("groups")) {
    if (!g.IsMap()) {
      errors->push_back(YamlAt(path, g.Mark()) + "an iam group is a mapping with name: and policies:");
      continue;
    }
    IamGroupSpec group{ItemName(g, "group", 128, path, errors), {}};
    const std::string what = "iam group '" + group.name + "': ";
    OnlyKeys(g, {"name", "policies"}, what, path, errors);
    group.policies = ReadPolicies(g["policies"], what, path, errors);
    if (!group.name.empty()) spec.groups.push_back(std::move(group));
  }
  std::vector<std::string> group_names;
  for (const IamGroupSpec& g : spec.groups) group_names.push_back(g.name);
  for (const auto& u : list("users")) {
    if (!u.IsMap()) {
      errors->push_back(YamlAt(path, u.Mark()) + "an iam user is a mapping with name:, groups: and policies:");
      continue;
    }
    IamUserSpec user{ItemName(u, "user", 64, path, errors), {}, {}};
    const std::string what = "iam user '" + user.name + "': ";
    OnlyKeys(u, {"name", "groups", "policies"}, what, path, errors);
    if (const YAML::Node groups = u["groups"]) {
      if (!groups.IsSequence()) {
        errors->push_back(YamlAt(path, groups.Mark()) + what + "groups must be a list of group names");
      } else {
        for (const auto& g : groups) {
          const std::string name = g.IsScalar() ? g.Scalar() : "";
          if (std::find(group_names.begin(), group_names.end(), name) != group_names.end()) {
            user.groups.push_back(name);
            continue;
          }
          const std::string hint = ClosestName(name, group_names);
          errors->push_back(YamlAt(path, g.Mark()) + what + "no group named '" + name + "' in this file" +
                            (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
        }
      }
    }
    user.policies = ReadPolicies(u["policies"], what, path, errors);
    if (!user.name.empty()) spec.users.push_back(std::move(user));
  }
  return spec;
}

IamSpec IamOf(std::string_view text) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return {};
    std::vector<std::string> errors;
    return ReadIamSection(root["iam"], "pipeline.yaml", &errors);
  } catch (const YAML::Exception&) {
    return {};
  }
}

namespace {

// OK when `s` is OK or carries one of the IAM error codes `tolerated`.
Status Tolerate(const Status& s, std::initializer_list<auth::ErrorCode> tolerated) {
  if (s.ok()) return s;
  const auth::ErrorCode code = auth::ErrorCodeOf(s);
  for (auth::ErrorCode t : tolerated)
    if (code == t) return Status::OK();
  return s;
}

template <typename Spec>
const Spec* FindSpec(const std::vector<Spec>& specs, const std::string& name) {
  for (const Spec& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace

Status ApplyIam(io::ObjectStore& lake, const IamSpec& previous, const IamSpec& next, std::vector<std::string>* notices) {
  if (previous.empty() && next.empty()) return Status::OK();
  auto opened = auth::Iam::Open(lake, auth::IamOptions{});
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound)
      return Status::InvalidArgument("pipeline.yaml declares IAM groups or users but the lake has no IAM store "
                                        "(`saleslake init` creates it); nothing was deployed");
    return opened.status().WithContext("IAM store");
  }
  auth::Iam& iam = **opened;
  using E = auth::ErrorCode;
  const std::string kWhat = "deploying the iam section: ";

  // Declared groups first: users join them.
  for (const IamGroupSpec& g : next.groups) {
    SL_RETURN_IF_ERROR(Tolerate(iam.CreateGroup(g.name).status(), {E::kEntityAlreadyExists}).WithContext(kWhat + "group " + g.name));
    for (const auto& [name, doc] : g.policies)
      SL_RETURN_IF_ERROR(iam.PutGroupPolicy(g.name, name, doc).WithContext(kWhat + "group " + g.name));
    if (const IamGroupSpec* before = FindSpec(previous.groups, g.name))
      for (const auto& [name, doc] : before->policies)
        if (!g.policies.count(name))
          SL_RETURN_IF_ERROR(Tolerate(iam.DeleteGroupPolicy(g.name, name), {E::kNoSuchEntity}));
  }
  for (const IamUserSpec& u : next.users) {
    SL_RETURN_IF_ERROR(Tolerate(iam.CreateUser(u.name).status(), {E::kEntityAlreadyExists}).WithContext(kWhat + "user " + u.name));
    for (const auto& [name, doc] : u.policies)
      SL_RETURN_IF_ERROR(iam.PutUserPolicy(u.name, name, doc).WithContext(kWhat + "user " + u.name));
    for (const std::string& g : u.groups)
      SL_RETURN_IF_ERROR(Tolerate(iam.AddUserToGroup(g, u.name), {E::kEntityAlreadyExists}).WithContext(kWhat + "user " + u.name));
    if (const IamUserSpec* before = FindSpec(previous.users, u.name)) {
      for (const auto& [name, doc] : before->policies)
        if (!u.policies.count(name)) SL_RETURN_IF_ERROR(Tolerate(iam.DeleteUserPolicy(u.name, name), {E::kNoSuchEntity}));
      for (const std::string& g : before->groups)
        if (std::find(u.groups.begin(), u.groups.end(), g) == u.groups.end())
          SL_RETURN_IF_ERROR(Tolerate(iam.RemoveUserFromGroup(g, u.name), {E::kNoSuchEntity}));
    }
  }

  // What only the previous version declared: its declared parts removed, then the entity unless
  // something made by hand still hangs on it (IAM's DeleteConflict).
  for (const IamUserSpec& u : previous.users) {
    if (FindSpec(next.users, u.name)) continue;
    for (const auto& [name, doc] : u.policies) SL_RETURN_IF_ERROR(Tolerate(iam.DeleteUserPolicy(u.name, name), {E::kNoSuchEntity}));
    for (const std::string& g : u.groups) SL_RETURN_IF_ERROR(Tolerate(iam.RemoveUserFromGroup(g, u.name), {E::kNoSuchEntity}));
    Status s = iam.DeleteUser(u.name);
    if (auth::ErrorCodeOf(s) == E::kDeleteConflict) {
      notices->push_back("iam user " + u.name + " is no longer declared but was kept: " +
                         std::string(auth::ErrorMessageOf(s)) + " (remove those with `saleslake iam`, then delete the user)");
      continue;
    }
    SL_RETURN_IF_ERROR(Tolerate(s, {E::kNoSuchEntity}));
  }
  for (const IamGroupSpec& g : previous.groups) {
    if (FindSpec(next.groups, g.name)) continue;
    for (const auto& [name, doc] : g.policies) SL_RETURN_IF_ERROR(Tolerate(iam.DeleteGroupPolicy(g.name, name), {E::kNoSuchEntity}));
    if (auto members = iam.GetGroupUsers(g.name); members.ok()) {
      for (const auth::UserInfo& m : *members) SL_RETURN_IF_ERROR(Tolerate(iam.RemoveUserFromGroup(g.name, m.user_name), {E::kNoSuchEntity}));
    }
    Status s = iam.DeleteGroup(g.name);
    if (auth::ErrorCodeOf(s) == E::kDeleteConflict) {
      notices->push_back("iam group " + g.name + " is no longer declared but was kept: " + std::string(auth::ErrorMessageOf(s)));
      continue;
    }
    SL_RETURN_IF_ERROR(Tolerate(s, {E::kNoSuchEntity}));
  }
  return Status::OK();
}

}  // namespace saleslake::stack::internal
