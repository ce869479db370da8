// `saleslake iam ...`: IAM administration with the AWS CLI's command names, options and JSON
// output (`aws iam create-user --user-name U` becomes `saleslake iam create-user --user-name U`).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "cli/command.h"

namespace saleslake::cli {
namespace {

using nlohmann::json;
using ordered = nlohmann::ordered_json;

struct IamOpts {
  std::string user_name, group_name, path = "/", access_key_id, status, policy_name,
      policy_document, password, policy_source_arn, resource_policy, role_name;
  int max_session_duration = 3600;
  std::vector<std::string> action_names, resource_arns, context_entries;
  bool password_reset_required = false;
};

struct Session {
  std::unique_ptr<io::ObjectStore> store;
  std::unique_ptr<auth::Iam> iam;
};

Result<Session> OpenIam(const Context& ctx) {
  Session s;
  SL_ASSIGN_OR_RETURN(s.store, ctx.OpenLake(/*create=*/false));
  SL_ASSIGN_OR_RETURN(s.iam, auth::Iam::Open(*s.store, auth::IamOptions{}));
  return s;
}

int Print(const ordered& j) {
  std::printf("%s\n", j.dump(4).c_str());
  return 0;
}

ordered UserJson(const auth::UserInfo& u) {
  return ordered{{"Path", u.path}, {"UserName", u.user_name}, {"UserId", u.user_id},
                 {"Arn", u.arn}, {"CreateDate", auth::FormatIso8601(u.create_date)}};
}

ordered GroupJson(const auth::GroupInfo& g) {
  return ordered{{"Path", g.path}, {"GroupName", g.group_name}, {"GroupId", g.group_id},
                 {"Arn", g.arn}, {"CreateDate", auth::FormatIso8601(g.create_date)}};
}

ordered RoleJson(const auth::RoleInfo& r) {
  ordered trust = ordered::parse(r.assume_role_policy, nullptr, false);
  if (trust.is_discarded()) trust = r.assume_role_policy;  // stored documents are validated
  return ordered{{"Path", r.path}, {"RoleName", r.role_name}, {"RoleId", r.role_id}, {"Arn", r.arn},
                 {"CreateDate", auth::FormatIso8601(r.create_date)}, {"AssumeRolePolicyDocument", trust},
                 {"MaxSessionDuration", r.max_session_duration}};
}

// --policy-document: file://PATH (as the AWS CLI), or the JSON text itself.
Result<std::string> PolicyDocument(const std::string& arg) {
  for (const char* scheme : {"file://", "fileb://"}) {
    std::string_view s(scheme);
    if (arg.rfind(s, 0) == 0) return io::ReadLocalFile(arg.substr(s.size()));
  }
  return arg;
}

// --context-entries in the AWS CLI shorthand
// ("ContextKeyName=aws:SourceIp,ContextKeyValues=10.0.0.1,ContextKeyType=ip", values may
// repeat after ContextKeyValues=) or as a JSON array of {"ContextKeyName", "ContextKeyValues"}.
Result<auth::RequestContext> ContextEntries(std::vector<std::string> entries) {
  auth::RequestContext ctx;
  // CLI11 splits a bracketed argument ("[{...},{...}]") at its commas; the JSON form is whole
  // again once the pieces are joined.
  if (!entries.empty() && !entries[0].empty() && (entries[0][0] == '[' || entries[0][0] == '{')) {
    std::string joined;
    for (const auto& e : entries) joined += (joined.empty() ? "" : ",") + e;
    if (joined[0] != '[') joined = "[" + joined + "]";
    entries = {joined};
  }
  for (const std::string& e : entries) {
    if (!e.empty() && (e.front() == '[' || e.front() == '{')) {
      try {
        json j = json::parse(e);
        if (j.is_object()) j = json::array({j});
        for (const auto& item : j) {
          auto& values = ctx[item.at("ContextKeyName").get<std::string>()];
          for (const auto& v : item.at("ContextKeyValues")) values.push_back(v.get<std::string>());
        }
      } catch (const json::exception& ex) {
        return Status::InvalidArgument(std::string("--context-entries: ") + ex.what());
      }
      continue;
    }
    std::string name;
    std::vector<std::string> values;
    std::string current;  // which field the next bare item belongs to
    size_t start = 0;
    while (start <= e.size()) {
      size_t comma = e.find(',', start);
      std::string item = e.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      size_t eq = item.find('=');
      std::string field = eq == std::string::npos ? "" : item.substr(0, eq);
      if (field == "ContextKeyName" || field == "ContextKeyValues" || field == "ContextKeyType") {
        current = field;
        item = item.substr(eq + 1);
      }
      if (current == "ContextKeyName") name = item;
      else if (current == "ContextKeyValues") values.push_back(item);
      else if (current.empty()) return Status::InvalidArgument("--context-entries: expected ContextKeyName=..., got '" + item + "'");
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (name.empty() || values.empty()) {
      return Status::InvalidArgument("--context-entries needs ContextKeyName=... and ContextKeyValues=...");
    }
    auto& slot = ctx[name];
    slot.insert(slot.end(), values.begin(), values.end());
  }
  return ctx;
}

template <typename Fn>
std::function<int()> WithIam(const Context& ctx, Fn fn) {
  return [&ctx, fn] {
    auto s = OpenIam(ctx);
    if (!s.ok()) return Fail(s.status());
    return fn(*s->iam);
  };
}

int Done(const Status& s) { return s.ok() ? 0 : Fail(s); }

void Register(CLI::App& root, Context& ctx) {
  auto* iam = root.add_subcommand("iam", "Users, groups, access keys and policies (the AWS CLI's `aws iam` commands)");
  iam->require_subcommand(1);
  auto o = std::make_shared<IamOpts>();
  auto user_opt = [o](CLI::App* c) { c->add_option("--user-name", o->user_name, "User name")->required(); };
  auto group_opt = [o](CLI::App* c) { c->add_option("--group-name", o->group_name, "Group name")->required(); };
  auto add = [&](const char* name, const char* help, auto&& run) {
    auto* c = iam->add_subcommand(name, help);
    c->callback([&ctx, run] { ctx.action = WithIam(ctx, run); });
    return c;
  };

  auto* c = add("create-user", "Create a user", [o](auth::Iam& i) {
    auto u = i.CreateUser(o->user_name, o->path);
    return u.ok() ? Print({{"User", UserJson(*u)}}) : Fail(u.status());
  });
  user_opt(c);
  c->add_option("--path", o->path, "Path (default /)");

  c = add("get-user", "Show a user", [o](auth::Iam& i) {
    auto u = i.GetUser(o->user_name);
    return u.ok() ? Print({{"User", UserJson(*u)}}) : Fail(u.status());
  });
  user_opt(c);

  add("list-users", "List users", [](auth::Iam& i) {
    auto users = i.ListUsers();
    if (!users.ok()) return Fail(users.status());
    ordered list = ordered::array();
    for (const auto& u : *users) list.push_back(UserJson(u));
    return Print({{"Users", list}});
  });

  c = add("delete-user", "Delete a user (it must have no keys, policies, login profile or groups)",
          [o](auth::Iam& i) { return Done(i.DeleteUser(o->user_name)); });
  user_opt(c);

  c = add("create-group", "Create a group", [o](auth::Iam& i) {
    auto g = i.CreateGroup(o->group_name, o->path);
    return g.ok() ? Print({{"Group", GroupJson(*g)}}) : Fail(g.status());
  });
  group_opt(c);
  c->add_option("--path", o->path, "Path (default /)");

  add("list-groups", "List groups", [](auth::Iam& i) {
    auto groups = i.ListGroups();
    if (!groups.ok()) return Fail(groups.status());
    ordered list = ordered::array();
    for (const auto& g : *groups) list.push_back(GroupJson(g));
    return Print({{"Groups", list}});
  });

  c = add("get-group", "Show a group and its users", [o](auth::Iam& i) {
    auto users = i.GetGroupUsers(o->group_name);
    if (!users.ok()) return Fail(users.status());
    auto groups = i.ListGroups();
    if (!groups.ok()) return Fail(groups.status());
    ordered list = ordered::array();
    for (const auto& u : *users) list.push_back(UserJson(u));
    ordered out{{"Users", list}};
    for (const auto& g : *groups) {
      if (g.group_name == o->group_name) out["Group"] = GroupJson(g);
    }
    return Print(out);
  });
  group_opt(c);

  c = add("list-groups-for-user", "List the groups a user belongs to", [o](auth::Iam& i) {
    auto groups = i.ListGroupsForUser(o->user_name);
    if (!groups.ok()) return Fail(groups.status());
    ordered list = ordered::array();
    for (const auto& g : *groups) list.push_back(GroupJson(g));
    return Print({{"Groups", list}});
  });
  user_opt(c);

  c = add("add-user-to-group", "Add a user to a group",
          [o](auth::Iam& i) { return Done(i.AddUserToGroup(o->group_name, o->user_name)); });
  group_opt(c);
  user_opt(c);
  c = add("remove-user-from-group", "Remove a user from a group",
          [o](auth::Iam& i) { return Done(i.RemoveUserFromGroup(o->group_name, o->user_name)); });
  group_opt(c);
  user_opt(c);
  c = add("delete-group", "Delete a group (it must have no users or policies)",
          [o](auth::Iam& i) { return Done(i.DeleteGroup(o->group_name)); });
  group_opt(c);

  c = add("create-access-key", "Create an access key; the secret is shown only now", [o](auth::Iam& i) {
    auto k = i.CreateAccessKey(o->user_name);
    if (!k.ok()) return Fail(k.status());
    return Print({{"AccessKey", ordered{{"UserName", k->user_name},
                                         {"AccessKeyId", k->access_key_id},
                                         {"Status", k->StatusName()},
                                         {"SecretAccessKey", k->secret_access_key},
                                         {"CreateDate", auth::FormatIso8601(k->create_date)}}}});
  });
  user_opt(c);

  c = add("list-access-keys", "List a user's access keys (without secrets)", [o](auth::Iam& i) {
    auto keys = i.ListAccessKeys(o->user_name);
    if (!keys.ok()) return Fail(keys.status());
    ordered list = ordered::array();
    for (const auto& k : *keys) {
      list.push_back(ordered{{"UserName", k.user_name}, {"AccessKeyId", k.access_key_id},
                             {"Status", k.StatusName()}, {"CreateDate", auth::FormatIso8601(k.create_date)}});
    }
    return Print({{"AccessKeyMetadata", list}});
  });
  user_opt(c);

  c = add("update-access-key", "Activate or deactivate an access key", [o](auth::Iam& i) {
    return Done(i.UpdateAccessKey(o->user_name, o->access_key_id, o->status == "Active"));
  });
  user_opt(c);
  c->add_option("--access-key-id", o->access_key_id, "Access key id")->required();
  c->add_option("--status", o->status, "Active | Inactive")->required()->check(CLI::IsMember({"Active", "Inactive"}));

  c = add("delete-access-key", "Delete an access key",
          [o](auth::Iam& i) { return Done(i.DeleteAccessKey(o->user_name, o->access_key_id)); });
  user_opt(c);
  c->add_option("--access-key-id", o->access_key_id, "Access key id")->required();

  // Inline policies of users and groups.
  auto doc_opts = [o](CLI::App* cmd) {
    cmd->add_option("--policy-name", o->policy_name, "Policy name")->required();
    cmd->add_option("--policy-document", o->policy_document, "file://policy.json or the JSON itself")->required();
  };
  auto name_opt = [o](CLI::App* cmd) { cmd->add_option("--policy-name", o->policy_name, "Policy name")->required(); };
  auto get_json = [](const std::string& owner_key, const std::string& owner, const std::string& name,
                     const Result<std::string>& doc) {
    if (!doc.ok()) return Fail(doc.status());
    ordered parsed;
    try {
      parsed = ordered::parse(*doc);
    } catch (const ordered::exception&) {
      parsed = *doc;  // stored documents are validated, so this does not happen
    }
    return Print({{owner_key, owner}, {"PolicyName", name}, {"PolicyDocument", parsed}});
  };
  auto names_json = [](const Result<std::vector<std::string>>& names) {
    if (!names.ok()) return Fail(names.status());
    return Print({{"PolicyNames", *names}});
  };

  // Inline policies of users, groups and roles: the same four commands for each owner kind.
  struct OwnerKind {
    auth::PolicyOwner kind;
    const char* word;       // "user"
    const char* json_key;   // "UserName"
    const char* option;     // "--user-name"
    std::string IamOpts::*name;
  };
  for (const OwnerKind& k : {OwnerKind{auth::PolicyOwner::kUser, "user", "UserName", "--user-name", &IamOpts::user_name},
                             OwnerKind{auth::PolicyOwner::kGroup, "group", "GroupName", "--group-name", &IamOpts::group_name},
                             OwnerKind{auth::PolicyOwner::kRole, "role", "RoleName", "--role-name", &IamOpts::role_name}}) {
    std::string word = k.word;
    auto owner_opt = [o, k, word](CLI::App* cmd) {
      cmd->add_option(k.option, (*o).*k.name, "The " + word + "'s name")->required();
    };
    c = add(("put-" + word + "-policy").c_str(),
            ("Add or replace a " + word + "'s inline policy (validated: MalformedPolicyDocument)").c_str(),
            [o, k](auth::Iam& i) {
              auto doc = PolicyDocument(o->policy_document);
              if (!doc.ok()) return Fail(doc.status());
              return Done(i.PutInlinePolicy(k.kind, (*o).*k.name, o->policy_name, *doc));
            });
    owner_opt(c);
    doc_opts(c);
    c = add(("get-" + word + "-policy").c_str(), ("Show a " + word + "'s inline policy").c_str(),
            [o, k, get_json](auth::Iam& i) {
              return get_json(k.json_key, (*o).*k.name, o->policy_name,
                              i.GetInlinePolicy(k.kind, (*o).*k.name, o->policy_name));
            });
    owner_opt(c);
    name_opt(c);
    c = add(("list-" + word + "-policies").c_str(), ("List a " + word + "'s inline policies").c_str(),
            [o, k, names_json](auth::Iam& i) { return names_json(i.ListInlinePolicies(k.kind, (*o).*k.name)); });
    owner_opt(c);
    c = add(("delete-" + word + "-policy").c_str(), ("Delete a " + word + "'s inline policy").c_str(),
            [o, k](auth::Iam& i) { return Done(i.DeleteInlinePolicy(k.kind, (*o).*k.name, o->policy_name)); });
    owner_opt(c);
    name_opt(c);
  }

  // Roles, assumed through STS AssumeRole on the server.
  auto role_opt = [o](CLI::App* cmd) { cmd->add_option("--role-name", o->role_name, "Role name")->required(); };
  c = add("create-role", "Create a role with its trust policy (who may assume it)", [o](auth::Iam& i) {
    auto doc = PolicyDocument(o->policy_document);
    if (!doc.ok()) return Fail(doc.status());
    auto r = i.CreateRole(o->role_name, *doc, o->path, o->max_session_duration);
    return r.ok() ? Print({{"Role", RoleJson(*r)}}) : Fail(r.status());
  });
  role_opt(c);
  c->add_option("--assume-role-policy-document", o->policy_document, "file://trust.json or the JSON itself")->required();
  c->add_option("--path", o->path, "Path (default /)");
  c->add_option("--max-session-duration", o->max_session_duration, "Longest session in seconds (3600 to 43200)");
  c = add("get-role", "Show a role", [o](auth::Iam& i) {
    auto r = i.GetRole(o->role_name);
    return r.ok() ? Print({{"Role", RoleJson(*r)}}) : Fail(r.status());
  });
  role_opt(c);
  add("list-roles", "List roles", [](auth::Iam& i) {
    auto roles = i.ListRoles();
    if (!roles.ok()) return Fail(roles.status());
    ordered list = ordered::array();
    for (const auto& r : *roles) list.push_back(RoleJson(r));
    return Print({{"Roles", list}});
  });
  c = add("delete-role", "Delete a role (it must have no policies)",
          [o](auth::Iam& i) { return Done(i.DeleteRole(o->role_name)); });
  role_opt(c);

  c = add("create-login-profile", "Give a user a console password (stored as a salted PBKDF2 hash)",
          [o](auth::Iam& i) {
            auto u = i.GetUser(o->user_name);
            if (!u.ok()) return Fail(u.status());
            Status s = i.CreateLoginProfile(o->user_name, o->password);
            if (!s.ok()) return Fail(s);
            return Print({{"LoginProfile", ordered{{"UserName", o->user_name},
                                                    {"CreateDate", auth::FormatIso8601(i.clock().Now())},
                                                    {"PasswordResetRequired", o->password_reset_required}}}});
          });
  user_opt(c);
  c->add_option("--password", o->password, "The password")->required();
  c->add_flag("--password-reset-required,!--no-password-reset-required", o->password_reset_required,
              "Accepted for compatibility");
  c = add("delete-login-profile", "Remove a user's console password",
          [o](auth::Iam& i) { return Done(i.DeleteLoginProfile(o->user_name)); });
  user_opt(c);

  c = add("simulate-principal-policy",
          "Evaluate a user's policies for actions and resources, exactly as the server decides",
          [o](auth::Iam& i) {
            auto ctx_entries = ContextEntries(o->context_entries);
            if (!ctx_entries.ok()) return Fail(ctx_entries.status());
            // --resource-policy: the bucket policy evaluated beside the user's, as the server does.
            std::optional<auth::Policy> resource_policy;
            if (!o->resource_policy.empty()) {
              auto doc = PolicyDocument(o->resource_policy);
              if (!doc.ok()) return Fail(doc.status());
              auto parsed = auth::Policy::Parse(*doc, /*for_resource=*/true);
              if (!parsed.ok()) return Fail(parsed.status().WithContext("--resource-policy"));
              resource_policy = std::move(*parsed);
            }
            auto results = i.SimulatePrincipalPolicy(o->policy_source_arn, o->action_names,
                                                     o->resource_arns, *ctx_entries,
                                                     resource_policy ? &*resource_policy : nullptr);
            if (!results.ok()) return Fail(results.status());
            ordered list = ordered::array();
            for (const auto& r : *results) {
              ordered matched = ordered::array();
              if (!r.decision.policy.empty()) {
                matched.push_back(ordered{{"SourcePolicyId", r.decision.policy},
                                          {"SourcePolicyType", r.decision.policy == "bucket-policy"
                                                                   ? "Resource Policy" : "IAM Policy"},
                                          {"StatementId", r.decision.statement}});
              }
              list.push_back(ordered{{"EvalActionName", r.action},
                                     {"EvalResourceName", r.resource},
                                     {"EvalDecision", std::string(r.decision.KindName())},
                                     {"MatchedStatements", matched},
                                     {"MissingContextValues", ordered::array()}});
            }
            return Print({{"EvaluationResults", list}});
          });
  c->add_option("--policy-source-arn", o->policy_source_arn, "arn:aws:iam::ACCOUNT:user/NAME")->required();
  c->add_option("--action-names", o->action_names, "Actions, e.g. s3:GetObject s3:PutObject")->required()->expected(1, -1);
  c->add_option("--resource-arns", o->resource_arns, "Resource ARNs (default *)")->expected(1, -1);
  c->add_option("--resource-policy", o->resource_policy,
                "A bucket policy (file://policy.json or the JSON) evaluated with the user's policies");
  c->add_option("--context-entries", o->context_entries,
                "ContextKeyName=aws:SourceIp,ContextKeyValues=10.0.0.1,ContextKeyType=ip ...")->expected(1, -1);
}

const CommandRegistrar kRegistrar(80, &Register);

}  // namespace
}  // namespace saleslake::cli
