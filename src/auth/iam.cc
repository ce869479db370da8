// IAM over the lake's ObjectStore.
//
// Storage: each change writes a whole new state document `_system/iam/state-<generation>.json`
// with PutIfAbsent, so of two racing writers (say the CLI and a future IAM API) exactly one
// wins and the other retries on the new state; readers take the highest generation. Secrets
// are AES-256-GCM sealed with a key derived from the lake secret; on a local lake the folder is
// 0700 and the files 0600. The last few generations are kept (a reader may still be reading
// one) and older ones removed.
#include <strings.h>
#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "auth/auth.h"
#include "auth/internal/crypto.h"
#include "auth/internal/verify.h"
#include "io/local_store.h"

namespace saleslake::auth {

namespace {

constexpr std::string_view kIamPrefix = "_system/iam/";
constexpr std::string_view kStatePrefix = "_system/iam/state-";
constexpr std::string_view kLakeSecretKey = "_system/secret.key";
constexpr int kKeepGenerations = 5;
constexpr size_t kRecentWrites = 64;
constexpr size_t kMaxKeysPerUser = 2;
constexpr size_t kUserPolicyChars = 2048;   // AWS: aggregate inline policy size per user
constexpr size_t kGroupPolicyChars = 5120;  // ... per group
constexpr size_t kRolePolicyChars = 10240;  // ... per role
constexpr std::string_view kTokenPrefix = "SLST1";  // session tokens of this format

constexpr std::string_view kUpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSecretChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct LoginProfile {
  std::string salt_b64, hash_b64;
  int iterations = 0;
  int64_t created = 0;
};

struct User {
  std::string name, id, path = "/";
  int64_t created = 0;
  std::map<std::string, std::string> policies;  // name -> document
  std::optional<LoginProfile> login;
};

struct Group {
  std::string name, id, path = "/";
  int64_t created = 0;
  std::vector<std::string> members;
  std::map<std::string, std::string> policies;
};

struct Role {
  std::string name, id, path = "/";
  std::string trust;  // the assume-role policy document
  int64_t created = 0;
  int max_session = 3600;
  std::map<std::string, std::string> policies;
};

struct Key {
  std::string id, user, sealed_secret;
  bool active = true;
  int64_t created = 0;
};

// The persisted document.
struct Doc {
  uint64_t generation = 0;
  std::string account_id;
  std::map<std::string, User> users;
  std::map<std::string, Group> groups;
  std::map<std::string, Role> roles;
  std::map<std::string, Key> keys;  // by access key id
  // Ids of the last kRecentWrites changes, newest last: a writer finds its own change in a later
  // generation this way (see Publish).
  std::vector<std::string> recent_writes;
};

// What readers share: the document plus parsed policies and opened secrets.
struct Snapshot {
  Doc doc;
  std::map<std::string, std::string> secrets;             // key id -> secret
  std::map<std::string, std::vector<NamedPolicy>> user_policies;  // user -> identity policies
  std::map<std::string, std::vector<NamedPolicy>> role_policies;  // role -> identity policies
  std::map<std::string, Policy> trust;                            // role -> trust policy
};

int64_t Secs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
TimePoint FromSecs(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

std::string StateKey(uint64_t gen) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(gen));
  return std::string(kStatePrefix) + buf + ".json";
}

std::optional<uint64_t> GenerationOf(std::string_view key) {
  if (key.rfind(kStatePrefix, 0) != 0 || key.size() != kStatePrefix.size() + 20 + 5) return std::nullopt;
  uint64_t g = 0;
  for (char c : key.substr(kStatePrefix.size(), 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    g = g * 10 + static_cast<uint64_t>(c - '0');
  }
  return g;
}

std::string ToJson(const Doc& d) {
  nlohmann::json j;
  j["format"] = 1;
  j["generation"] = d.generation;
  j["account_id"] = d.account_id;
  j["users"] = nlohmann::json::array();
  for (const auto& [n, u] : d.users) {
    nlohmann::json ju = {{"name", u.name}, {"id", u.id}, {"path", u.path}, {"created", u.created},
                         {"policies", u.policies}};
    if (u.login) {
      ju["login"] = {{"salt", u.login->salt_b64}, {"hash", u.login->hash_b64},
                     {"iterations", u.login->iterations}, {"created", u.login->created}};
    }
    j["users"].push_back(std::move(ju));
  }
  j["groups"] = nlohmann::json::array();
  for (const auto& [n, g] : d.groups) {
    j["groups"].push_back({{"name", g.name}, {"id", g.id}, {"path", g.path}, {"created", g.created},
                           {"members", g.members}, {"policies", g.policies}});
  }
  j["roles"] = nlohmann::json::array();
  for (const auto& [n, r] : d.roles) {
    j["roles"].push_back({{"name", r.name}, {"id", r.id}, {"path", r.path}, {"created", r.created},
                          {"trust", r.trust}, {"max_session", r.max_session}, {"policies", r.policies}});
  }
  j["recent_writes"] = d.recent_writes;
  j["access_keys"] = nlohmann::json::array();
  for (const auto& [id, k] : d.keys) {
    j["access_keys"].push_back({{"id", k.id}, {"user", k.user}, {"secret", k.sealed_secret},
                                {"active", k.active}, {"created", k.created}});
  }
  return j.dump(1);
}

Result<Doc> FromJson(std::string_view text, std::string_view where) {
  try {
    auto j = nlohmann::json::parse(text);
    Doc d;
    d.generation = j.at("generation").get<uint64_t>();
    d.account_id = j.at("account_id").get<std::string>();
    if (j.contains("recent_writes")) d.recent_writes = j.at("recent_writes").get<std::vector<std::string>>();
    for (const auto& ju : j.at("users")) {
      User u;
      u.name = ju.at("name").get<std::string>();
      u.id = ju.at("id").get<std::string>();
      u.path = ju.at("path").get<std::string>();
      u.created = ju.at("created").get<int64_t>();
      u.policies = ju.at("policies").get<std::map<std::string, std::string>>();
      if (ju.contains("login")) {
        const auto& l = ju.at("login");
        u.login = LoginProfile{l.at("salt").get<std::string>(), l.at("hash").get<std::string>(),
                               l.at("iterations").get<int>(), l.at("created").get<int64_t>()};
      }
      d.users[u.name] = std::move(u);
    }
    for (const auto& jg : j.at("groups")) {
      Group g;
      g.name = jg.at("name").get<std::string>();
      g.id = jg.at("id").get<std::string>();
      g.path = jg.at("path").get<std::string>();
      g.created = jg.at("created").get<int64_t>();
      g.members = jg.at("members").get<std::vector<std::string>>();
      g.policies = jg.at("policies").get<std::map<std::string, std::string>>();
      d.groups[g.name] = std::move(g);
    }
    // Roles came after the first stores were written: absent means none.
    for (const auto& jr : j.value("roles", nlohmann::json::array())) {
      Role r;
      r.name = jr.at("name").get<std::string>();
      r.id = jr.at("id").get<std::string>();
      r.path = jr.at("path").get<std::string>();
      r.created = jr.at("created").get<int64_t>();
      r.trust = jr.at("trust").get<std::string>();
      r.max_session = jr.at("max_session").get<int>();
      r.policies = jr.at("policies").get<std::map<std::string, std::string>>();
      d.roles[r.name] = std::move(r);
    }
    for (const auto& jk : j.at("access_keys")) {
      Key k;
      k.id = jk.at("id").get<std::string>();
      k.user = jk.at("user").get<std::string>();
      k.sealed_secret = jk.at("secret").get<std::string>();
      k.active = jk.at("active").get<bool>();
      k.created = jk.at("created").get<int64_t>();
      d.keys[k.id] = std::move(k);
    }
    return d;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string(where) + ": " + e.what());
  }
}

Status ValidateName(std::string_view what, std::string_view name, size_t max) {
  if (name.empty() || name.size() > max) {
    return MakeError(ErrorCode::kInvalidInput, std::string(what) + " must have 1 to " +
                                                   std::to_string(max) + " characters");
  }
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
              c == ',' || c == '.' || c == '@' || c == '-';
    if (!ok) {
      return MakeError(ErrorCode::kInvalidInput,
                       std::string(what) + " '" + std::string(name) +
                           "' may contain only letters, digits and _+=,.@-");
    }
  }
  return Status::OK();
}

Status ValidatePath(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.back() != '/' || path.size() > 512) {
    return MakeError(ErrorCode::kInvalidInput, "a path must begin and end with '/'");
  }
  for (char c : path) {
    if (c < 0x21 || c > 0x7e) return MakeError(ErrorCode::kInvalidInput, "a path must be printable ASCII");
  }
  return Status::OK();
}

size_t NonSpaceChars(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return c != ' ' && c != '\n' && c != '\t' && c != '\r';
  }));
}

std::string UserArn(const Doc& d, const User& u) {
  return "arn:aws:iam::" + d.account_id + ":user" + u.path + u.name;
}
std::string GroupArn(const Doc& d, const Group& g) {
  return "arn:aws:iam::" + d.account_id + ":group" + g.path + g.name;
}
std::string RoleArn(const Doc& d, const Role& r) {
  return "arn:aws:iam::" + d.account_id + ":role" + r.path + r.name;
}

UserInfo ToInfo(const Doc& d, const User& u) {
  return UserInfo{u.name, u.id, UserArn(d, u), u.path, FromSecs(u.created)};
}
GroupInfo ToInfo(const Doc& d, const Group& g) {
  return GroupInfo{g.name, g.id, GroupArn(d, g), g.path, FromSecs(g.created)};
}

Status NoUser(std::string_view name) {
  return MakeError(ErrorCode::kNoSuchEntity, "the user with name " + std::string(name) + " cannot be found");
}
Status NoGroup(std::string_view name) {
  return MakeError(ErrorCode::kNoSuchEntity, "the group with name " + std::string(name) + " cannot be found");
}
Status NoRole(std::string_view name) {
  return MakeError(ErrorCode::kNoSuchEntity, "the role with name " + std::string(name) + " cannot be found");
}

RoleInfo ToInfo(const Doc& d, const Role& r) {
  return RoleInfo{r.name, r.id, RoleArn(d, r), r.path, FromSecs(r.created), r.trust, r.max_session};
}

// User, group and role names are unique case-insensitively in AWS; `kind` is "user", "group"
// or "role".
template <typename Map>
Status CheckNameFree(const Map& entities, std::string_view name, std::string_view kind) {
  for (const auto& [n, e] : entities) {
    if (strcasecmp(n.c_str(), std::string(name).c_str()) == 0) {
      return MakeError(ErrorCode::kEntityAlreadyExists,
                       std::string(kind) + " with name " + std::string(name) + " already exists");
    }
  }
  return Status::OK();
}

// A new user, group or role: its name, path, unique id (`id_prefix` + 17 random characters,
// as AWS: AIDA, AGPA, AROA) and creation time.
template <typename Entity>
Status InitEntity(Entity& e, std::string_view name, std::string_view path,
                  std::string_view id_prefix, TimePoint now) {
  e.name = std::string(name);
  e.path = std::string(path);
  SL_ASSIGN_OR_RETURN(std::string suffix, internal::RandomString(17, kUpperDigits));
  e.id = std::string(id_prefix) + suffix;
  e.created = Secs(now);
  return Status::OK();
}

// Every entity of one map, as the public info type.
template <typename Info, typename Map>
std::vector<Info> InfosOf(const Doc& d, const Map& entities) {
  std::vector<Info> out;
  for (const auto& [n, e] : entities) out.push_back(ToInfo(d, e));
  return out;
}

// The role an ARN of this account names ("arn:aws:iam::<acct>:role/<path><name>").
const Role* RoleOfArn(const Doc& d, std::string_view arn) {
  std::string prefix = "arn:aws:iam::" + d.account_id + ":role/";
  if (arn.rfind(prefix, 0) != 0) return nullptr;
  auto it = d.roles.find(std::string(arn.substr(arn.rfind('/') + 1)));
  if (it == d.roles.end() || RoleArn(d, it->second) != arn) return nullptr;
  return &it->second;
}

// A session's principal: what Authorize evaluates for a request signed with its credentials.
Principal SessionPrincipal(const Doc& d, const Role& r, std::string_view session, std::string_view key_id) {
  Principal p;
  p.account_id = d.account_id;
  p.role_name = r.name;
  p.role_arn = RoleArn(d, r);
  p.user_id = r.id + ":" + std::string(session);
  p.arn = "arn:aws:sts::" + d.account_id + ":assumed-role/" + r.name + "/" + std::string(session);
  p.access_key_id = std::string(key_id);
  return p;
}

// Session tokens are "SLST1.<hex of a JSON payload>.<hex HMAC>": the payload names the key id,
// role, session and expiry, the HMAC under the lake key makes it unforgeable, and the session's
// secret is derived from the whole token — so nothing is stored per session and a token cannot
// be paired with another key.
std::string MakeSessionToken(const internal::Digest& key, const nlohmann::json& payload) {
  std::string head = std::string(kTokenPrefix) + "." + HexEncode(payload.dump());
  return head + "." + HexEncode(internal::HmacSha256(key, "sts-token:" + head));
}

std::string SessionSecret(const internal::Digest& key, std::string_view token) {
  internal::Digest d = internal::HmacSha256(key, "sts-secret:" + std::string(token));
  return internal::Base64(std::string_view(reinterpret_cast<const char*>(d.data()), d.size())).substr(0, 40);
}

// The payload of a token this lake issued; InvalidToken otherwise.
Result<nlohmann::json> OpenSessionToken(const internal::Digest& key, std::string_view token) {
  Status invalid = MakeError(ErrorCode::kInvalidToken, "the security token included in the request is invalid");
  size_t last = token.rfind('.');
  if (token.rfind(std::string(kTokenPrefix) + ".", 0) != 0 || last == std::string_view::npos ||
      last <= kTokenPrefix.size()) {
    return invalid;
  }
  std::string_view head = token.substr(0, last);
  std::string want = HexEncode(internal::HmacSha256(key, "sts-token:" + std::string(head)));
  if (!sigv4::ConstantTimeEquals(want, token.substr(last + 1))) return invalid;
  std::string text;
  if (!HexDecode(head.substr(kTokenPrefix.size() + 1), &text)) return invalid;
  auto payload = nlohmann::json::parse(text, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) return invalid;
  return payload;
}

// The session token a request carries (header, or the presigned query's X-Amz-Security-Token).
std::string SessionTokenOf(const HttpRequestView& request) {
  if (auto h = request.Header("x-amz-security-token")) return std::string(*h);
  std::string_view q = request.raw_query;
  for (size_t start = 0; start <= q.size();) {
    size_t amp = q.find('&', start);
    std::string_view item = q.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    constexpr std::string_view kName = "X-Amz-Security-Token=";
    if (item.rfind(kName, 0) == 0) {
      return PercentDecode(item.substr(kName.size())).value_or("");
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return "";
}

Status ValidateSessionName(std::string_view name) {
  if (name.size() < 2 || name.size() > 64) {
    return MakeError(ErrorCode::kInvalidInput, "RoleSessionName must have 2 to 64 characters");
  }
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
              c == ',' || c == '.' || c == '@' || c == '-';
    if (!ok) return MakeError(ErrorCode::kInvalidInput, "RoleSessionName may contain only letters, digits and _+=,.@-");
  }
  return Status::OK();
}

}  // namespace

struct Iam::Rep {
  io::ObjectStore& store;
  IamOptions options;
  Clock* clock;
  internal::Digest secret_key{};  // seals access key secrets
  std::string account_id;         // fixed for the life of the lake

  mutable std::mutex mu;                     // guards snapshot and last_check
  std::shared_ptr<const Snapshot> snapshot;
  TimePoint last_check{};
  std::mutex write_mu;                       // serialises this process's writers

  Rep(io::ObjectStore& s, IamOptions o) : store(s), options(o), clock(o.clock ? o.clock : &ProcessClock()) {}

  std::shared_ptr<const Snapshot> Current() const {
    std::lock_guard lock(mu);
    return snapshot;
  }

  Result<std::shared_ptr<const Snapshot>> Build(Doc doc) const {
    auto snap = std::make_shared<Snapshot>();
    for (const auto& [id, k] : doc.keys) {
      auto secret = internal::Open(secret_key, k.sealed_secret, "saleslake-iam-key:" + id);
      if (!secret.ok()) return secret.status().WithContext("access key " + id);
      snap->secrets[id] = std::move(*secret);
    }
    // Identity policies per user: the user's own, then each group's (names for the audit line).
    for (const auto& [name, u] : doc.users) {
      auto& list = snap->user_policies[name];
      for (const auto& [pn, text] : u.policies) {
        auto p = Policy::Parse(text);
        if (!p.ok()) return p.status().WithContext("stored policy user/" + name + "/" + pn);
        list.push_back(NamedPolicy{"user/" + name + "/" + pn, std::move(*p)});
      }
    }
    for (const auto& [gname, g] : doc.groups) {
      std::vector<NamedPolicy> gp;
      for (const auto& [pn, text] : g.policies) {
        auto p = Policy::Parse(text);
        if (!p.ok()) return p.status().WithContext("stored policy group/" + gname + "/" + pn);
        gp.push_back(NamedPolicy{"group/" + gname + "/" + pn, std::move(*p)});
      }
      for (const auto& m : g.members) {
        auto& list = snap->user_policies[m];
        list.insert(list.end(), gp.begin(), gp.end());
      }
    }
    for (const auto& [rname, r] : doc.roles) {
      auto& list = snap->role_policies[rname];
      for (const auto& [pn, text] : r.policies) {
        auto p = Policy::Parse(text);
        if (!p.ok()) return p.status().WithContext("stored policy role/" + rname + "/" + pn);
        list.push_back(NamedPolicy{"role/" + rname + "/" + pn, std::move(*p)});
      }
      auto t = Policy::ParseTrust(r.trust);
      if (!t.ok()) return t.status().WithContext("stored trust policy of role/" + rname);
      snap->trust.emplace(rname, std::move(*t));
    }
    snap->doc = std::move(doc);
    return std::shared_ptr<const Snapshot>(std::move(snap));
  }

  // Highest generation in the store (0 when none).
  Result<uint64_t> LatestGeneration() const {
    SL_ASSIGN_OR_RETURN(auto list, store.List(kStatePrefix));
    uint64_t best = 0;
    for (const auto& info : list) {
      if (auto g = GenerationOf(info.key)) best = std::max(best, *g);
    }
    return best;
  }

  Status LoadGeneration(uint64_t gen) {
    SL_ASSIGN_OR_RETURN(std::string text, store.Get(StateKey(gen)));
    SL_ASSIGN_OR_RETURN(Doc doc, FromJson(text, StateKey(gen)));
    SL_ASSIGN_OR_RETURN(auto snap, Build(std::move(doc)));
    std::lock_guard lock(mu);
    if (!snapshot || snapshot->doc.generation < snap->doc.generation) snapshot = std::move(snap);
    last_check = clock->Now();
    return Status::OK();
  }

  Status Reload() {
    SL_ASSIGN_OR_RETURN(uint64_t gen, LatestGeneration());
    if (gen == 0) return Status::NotFound("IAM is not initialised in this lake (run saleslake init)");
    auto cur = Current();
    if (cur && cur->doc.generation == gen) {
      std::lock_guard lock(mu);
      last_check = clock->Now();
      return Status::OK();
    }
    return LoadGeneration(gen);
  }

  void Protect(std::string_view key) {
    if (auto* local = dynamic_cast<io::LocalStore*>(&store)) {
      chmod(local->PathOf(kIamPrefix.substr(0, kIamPrefix.size() - 1)).c_str(), 0700);
      chmod(local->PathOf(key).c_str(), 0600);
    }
  }

  // Publishes `doc` as the next generation; kAlreadyExists when another writer got there first.
  Status Publish(Doc doc) {
    std::string key = StateKey(doc.generation);
    std::string text = ToJson(doc);
    SL_ASSIGN_OR_RETURN(auto snap, Build(std::move(doc)));
    SL_RETURN_IF_ERROR(store.PutIfAbsent(key, text));
    uint64_t gen = snap->doc.generation;
    // A writer that stalled while others published and pruned could re-create a generation that
    // was pruned, on a stale base (readers would never see it: a lost update). Pruning deletes
    // oldest first, so our base being gone means one of two things: others built on our write
    // and pruned past it (it landed: the newest generation lists its id), or ours re-created a
    // pruned generation (withdraw it and retry).
    if (gen > 1) {
      auto base = store.Exists(StateKey(gen - 1));
      const auto& writes = snap->doc.recent_writes;
      if (base.ok() && !*base && (writes.empty() || !Landed(writes.back()))) {
        (void)store.Delete(key);
        return Status::AlreadyExists("IAM store moved on while this change was written");
      }
    }
    Protect(key);
    {
      std::lock_guard lock(mu);
      snapshot = std::move(snap);
      last_check = clock->Now();
    }
    if (gen > kKeepGenerations) {
      if (auto list = store.List(kStatePrefix); list.ok()) {
        std::vector<uint64_t> old;
        for (const auto& info : *list) {
          auto g = GenerationOf(info.key);
          if (g && *g + kKeepGenerations <= gen) old.push_back(*g);
        }
        std::sort(old.begin(), old.end());  // oldest first: Publish's base check relies on it
        for (uint64_t g : old) (void)store.Delete(StateKey(g));
      }
    }
    return Status::OK();
  }

  // Whether the newest generation includes the change with this id.
  bool Landed(const std::string& write_id) {
    auto gen = LatestGeneration();
    if (!gen.ok() || *gen == 0) return false;
    auto text = store.Get(StateKey(*gen));
    if (!text.ok()) return false;
    auto doc = FromJson(*text, StateKey(*gen));
    return doc.ok() && std::find(doc->recent_writes.begin(), doc->recent_writes.end(), write_id) !=
                           doc->recent_writes.end();
  }

  // Applies `change` to the newest state and publishes it, retrying when another process wins.
  template <typename Fn>
  Status Mutate(Fn&& change) {
    std::lock_guard wlock(write_mu);
    for (int attempt = 0; attempt < 32; ++attempt) {
      // A generation listed a moment ago may be gone (pruned, or withdrawn by Publish): re-list.
      if (Status r = Reload(); !r.ok()) {
        if (r.code() == StatusCode::kNotFound && attempt + 1 < 32) continue;
        return r;
      }
      Doc doc = Current()->doc;
      SL_RETURN_IF_ERROR(change(doc));
      doc.generation += 1;
      SL_ASSIGN_OR_RETURN(std::string write_id, internal::RandomString(16, "0123456789abcdef"));
      doc.recent_writes.push_back(std::move(write_id));
      if (doc.recent_writes.size() > kRecentWrites) doc.recent_writes.erase(doc.recent_writes.begin());
      Status s = Publish(std::move(doc));
      if (s.code() != StatusCode::kAlreadyExists) return s;
    }
    return Status::Aborted("IAM store: too many concurrent writers");
  }

  TimePoint Now() const { return clock->Now(); }
};

Iam::Iam(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Iam::~Iam() = default;

Result<std::unique_ptr<Iam>> Iam::Open(io::ObjectStore& store, IamOptions options) {
  auto rep = std::make_unique<Rep>(store, options);
  auto secret = store.Get(kLakeSecretKey);
  if (!secret.ok()) {
    return secret.status().WithContext("IAM needs the lake secret " + std::string(kLakeSecretKey));
  }
  std::string material = *secret;
  while (!material.empty() && (material.back() == '\n' || material.back() == '\r')) material.pop_back();
  if (material.size() < 32) return Status::Corruption(std::string(kLakeSecretKey) + " is too short");
  rep->secret_key = internal::HmacSha256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(material.data()), material.size()),
      "saleslake iam secrets v1");
  SL_ASSIGN_OR_RETURN(uint64_t gen, rep->LatestGeneration());
  if (gen == 0) {
    if (!options.create) {
      return Status::NotFound("IAM is not initialised in this lake (run saleslake init)");
    }
    Doc doc;
    doc.generation = 1;
    SL_ASSIGN_OR_RETURN(std::string digits, internal::RandomString(11, "0123456789"));
    SL_ASSIGN_OR_RETURN(std::string first, internal::RandomString(1, "123456789"));
    doc.account_id = first + digits;
    Status s = rep->Publish(std::move(doc));
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
  }
  SL_RETURN_IF_ERROR(rep->Reload());
  rep->account_id = rep->Current()->doc.account_id;
  return std::unique_ptr<Iam>(new Iam(std::move(rep)));
}

const std::string& Iam::account_id() const { return rep_->account_id; }
Clock& Iam::clock() const { return *rep_->clock; }

Status Iam::Reload() { return rep_->Reload(); }

Status Iam::MaybeReload() {
  {
    std::lock_guard lock(rep_->mu);
    if (rep_->Now() - rep_->last_check < rep_->options.reload_interval) return Status::OK();
    rep_->last_check = rep_->Now();  // one thread re-reads; the others keep the snapshot
  }
  return rep_->Reload();
}

// ---- authentication

Result<Authenticated> Iam::Verify(const HttpRequestView& request, std::string_view service,
                                  TimePoint now) {
  (void)MaybeReload();  // a failed re-read keeps serving the last good snapshot
  auto snap = rep_->Current();
  Status token_error;
  std::string token = SessionTokenOf(request);
  internal::KeyLookup lookup = [&](std::string_view id) -> std::optional<internal::KeyRecord> {
    if (id.rfind("ASIA", 0) == 0) {
      // Temporary credentials: the key exists only inside its session token.
      auto payload = OpenSessionToken(rep_->secret_key, token);
      if (!payload.ok()) {
        token_error = payload.status();
        return std::nullopt;
      }
      const nlohmann::json& p = *payload;
      auto role = snap->doc.roles.find(p.value("r", ""));
      if (p.value("k", "") != id || p.value("a", "") != snap->doc.account_id || role == snap->doc.roles.end()) {
        token_error = MakeError(ErrorCode::kInvalidToken, "the security token included in the request is invalid");
        return std::nullopt;
      }
      if (p.value("e", int64_t{0}) <= Secs(now)) {
        token_error = MakeError(ErrorCode::kExpiredToken, "the security token included in the request is expired");
        return std::nullopt;
      }
      internal::KeyRecord rec;
      rec.secret = SessionSecret(rep_->secret_key, token);
      rec.principal = SessionPrincipal(snap->doc, role->second, p.value("s", ""), id);
      return rec;
    }
    auto it = snap->doc.keys.find(std::string(id));
    if (it == snap->doc.keys.end()) return std::nullopt;
    auto u = snap->doc.users.find(it->second.user);
    if (u == snap->doc.users.end()) return std::nullopt;
    internal::KeyRecord rec;
    rec.secret = snap->secrets.at(it->first);
    rec.active = it->second.active;
    rec.principal = Principal{snap->doc.account_id, u->second.name, u->second.id,
                              UserArn(snap->doc, u->second), std::string(id)};
    return rec;
  };
  auto verified = internal::VerifyRequest(request, service, now, lookup);
  if (!verified.ok() && !token_error.ok()) return token_error;
  return verified;
}

Result<Principal> Iam::CheckPassword(std::string_view user_name, std::string_view password) {
  auto snap = rep_->Current();
  auto it = snap->doc.users.find(std::string(user_name));
  // Same message for every failure, so the answer does not reveal which part was wrong.
  Status denied = MakeError(ErrorCode::kAccessDenied, "wrong user name or password");
  if (it == snap->doc.users.end() || !it->second.login) return denied;
  const LoginProfile& lp = *it->second.login;
  std::string salt, want;
  if (!internal::FromBase64(lp.salt_b64, &salt) || !internal::FromBase64(lp.hash_b64, &want)) {
    return Status::Corruption("login profile of " + std::string(user_name) + " is malformed");
  }
  SL_ASSIGN_OR_RETURN(std::string got, internal::Pbkdf2(password, salt, lp.iterations));
  if (!sigv4::ConstantTimeEquals(got, want)) return denied;
  const User& u = it->second;
  return Principal{snap->doc.account_id, u.name, u.id, UserArn(snap->doc, u), ""};
}

// ---- authorization

Decision Iam::Authorize(const AuthzRequest& request) { return Authorize(request, {}); }

Decision Iam::Authorize(const AuthzRequest& request,
                        const std::function<RequestContext()>& request_context) {
  (void)MaybeReload();
  auto snap = rep_->Current();
  const Principal& who = request.principal;
  std::span<const NamedPolicy> identity;
  if (!who.role_name.empty()) {
    if (who.account_id == snap->doc.account_id) {
      auto it = snap->role_policies.find(who.role_name);
      if (it != snap->role_policies.end()) identity = it->second;
    }
  } else if (!who.anonymous()) {
    // A principal from another account, or a user deleted since the key was checked, has no
    // identity policies here.
    if (who.account_id == snap->doc.account_id && snap->doc.users.count(who.user_name)) {
      auto it = snap->user_policies.find(who.user_name);
      if (it != snap->user_policies.end()) identity = it->second;
    }
  }
  bool reads_context = request.resource_policy != nullptr && request.resource_policy->reads_context();
  for (const NamedPolicy& p : identity) reads_context |= p.policy.reads_context();
  // Statements without a Condition or a policy variable never look at the context.
  if (!reads_context) return Evaluate(request, identity);

  AuthzRequest r = request;
  auto fill = [&r](const char* key, std::string value) {
    for (const auto& [k, v] : r.context) {
      if (strcasecmp(k.c_str(), key) == 0) return;
    }
    r.context[key] = {std::move(value)};
  };
  if (request_context) {
    for (auto& [k, v] : request_context()) {
      bool present = false;
      for (const auto& entry : r.context) present |= strcasecmp(entry.first.c_str(), k.c_str()) == 0;
      if (!present) r.context.emplace(k, std::move(v));
    }
  }
  fill("aws:CurrentTime", FormatIso8601(rep_->Now()));
  fill("aws:EpochTime", std::to_string(Secs(rep_->Now())));
  if (!who.role_name.empty()) {
    fill("aws:userid", who.user_id);
    fill("aws:PrincipalArn", who.role_arn);
    fill("aws:PrincipalAccount", who.account_id);
    fill("aws:PrincipalType", "AssumedRole");
  } else if (!who.anonymous()) {
    fill("aws:username", who.user_name);
    fill("aws:userid", who.user_id);
    fill("aws:PrincipalArn", who.arn);
    fill("aws:PrincipalAccount", who.account_id);
    fill("aws:PrincipalType", "User");
  }
  return Evaluate(r, identity);
}

Result<Principal> Iam::PrincipalForUser(std::string_view user_name) {
  auto snap = rep_->Current();
  auto it = snap->doc.users.find(std::string(user_name));
  if (it == snap->doc.users.end()) return NoUser(user_name);
  const User& u = it->second;
  return Principal{snap->doc.account_id, u.name, u.id, UserArn(snap->doc, u), ""};
}

Result<std::vector<SimulationResult>> Iam::SimulatePrincipalPolicy(
    std::string_view source_arn, std::span<const std::string> actions,
    std::span<const std::string> resources, const RequestContext& context,
    const Policy* resource_policy) {
  SL_RETURN_IF_ERROR(rep_->Reload());
  std::string prefix = "arn:aws:iam::" + account_id() + ":";
  std::string_view name = source_arn.substr(source_arn.rfind('/') + 1);
  Principal who;
  if (source_arn.rfind(prefix + "role/", 0) == 0) {
    // A role is simulated as one of its sessions: its own policies decide.
    auto snap = rep_->Current();
    const Role* role = RoleOfArn(snap->doc, source_arn);
    if (!role) return NoRole(name);
    who = SessionPrincipal(snap->doc, *role, "simulated", "");
  } else if (source_arn.rfind(prefix + "user/", 0) == 0) {
    SL_ASSIGN_OR_RETURN(who, PrincipalForUser(name));
    if (who.arn != source_arn) return NoUser(name);
  } else {
    return MakeError(ErrorCode::kInvalidInput, "policy source ARN must be a user or role of this account (" +
                                                   prefix + "user/NAME or " + prefix + "role/NAME)");
  }
  if (actions.empty()) return MakeError(ErrorCode::kInvalidInput, "at least one action name is required");
  std::vector<std::string> all_resources(resources.begin(), resources.end());
  if (all_resources.empty()) all_resources.push_back("*");
  std::vector<SimulationResult> out;
  for (const auto& a : actions) {
    for (const auto& r : all_resources) {
      AuthzRequest req{who, a, r, context, resource_policy};
      out.push_back(SimulationResult{a, r, Authorize(req)});
    }
  }
  return out;
}

// ---- STS

Result<TemporaryCredentials> Iam::AssumeRole(const Principal& caller, std::string_view role_arn,
                                             std::string_view session_name, int duration_seconds,
                                             const RequestContext& context, Decision* decision) {
  SL_RETURN_IF_ERROR(ValidateSessionName(session_name));
  SL_RETURN_IF_ERROR(rep_->Reload());  // a role created a moment ago must be assumable
  auto snap = rep_->Current();
  Status denied = MakeError(ErrorCode::kAccessDenied, caller.arn + " is not authorized to perform: sts:AssumeRole on resource: " +
                                                          std::string(role_arn));
  const Role* role = RoleOfArn(snap->doc, role_arn);
  if (!role) {
    *decision = Decision{};
    return denied;  // as AWS: an unknown role is indistinguishable from a refused one
  }
  if (duration_seconds < 900 || duration_seconds > role->max_session) {
    return MakeError(ErrorCode::kInvalidInput, "DurationSeconds must be between 900 and the role's maximum of " +
                                                   std::to_string(role->max_session));
  }
  AuthzRequest req{caller, "sts:AssumeRole", std::string(role_arn), context, &snap->trust.at(role->name)};
  *decision = Authorize(req);
  if (!decision->allowed()) return denied;
  TemporaryCredentials out;
  SL_ASSIGN_OR_RETURN(std::string suffix, internal::RandomString(16, kBase32));
  out.access_key_id = "ASIA" + suffix;
  out.expiration = FromSecs(Secs(rep_->Now()) + duration_seconds);
  nlohmann::json payload = {{"k", out.access_key_id}, {"a", snap->doc.account_id}, {"r", role->name},
                            {"s", std::string(session_name)}, {"e", Secs(out.expiration)}, {"c", caller.arn}};
  out.session_token = MakeSessionToken(rep_->secret_key, payload);
  out.secret_access_key = SessionSecret(rep_->secret_key, out.session_token);
  Principal session = SessionPrincipal(snap->doc, *role, session_name, out.access_key_id);
  out.assumed_role_arn = session.arn;
  out.assumed_role_id = session.user_id;
  return out;
}

// ---- roles

Result<RoleInfo> Iam::CreateRole(std::string_view role_name, std::string_view assume_role_policy,
                                 std::string_view path, int max_session_duration) {
  SL_RETURN_IF_ERROR(ValidateName("role name", role_name, 64));
  SL_RETURN_IF_ERROR(ValidatePath(path));
  if (max_session_duration < 3600 || max_session_duration > 43200) {
    return MakeError(ErrorCode::kInvalidInput, "MaxSessionDuration must be between 3600 and 43200 seconds");
  }
  auto trust = Policy::ParseTrust(assume_role_policy);
  if (!trust.ok()) return trust.status();
  RoleInfo info;
  SL_RETURN_IF_ERROR(rep_->Mutate([&](Doc& d) -> Status {
    SL_RETURN_IF_ERROR(CheckNameFree(d.roles, role_name, "role"));
    Role r;
    SL_RETURN_IF_ERROR(InitEntity(r, role_name, path, "AROA", rep_->Now()));
    r.trust = std::string(assume_role_policy);
    r.max_session = max_session_duration;
    info = ToInfo(d, r);
    d.roles[r.name] = std::move(r);
    return Status::OK();
  }));
  return info;
}

Result<RoleInfo> Iam::GetRole(std::string_view role_name) {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  auto it = snap->doc.roles.find(std::string(role_name));
  if (it == snap->doc.roles.end()) return NoRole(role_name);
  return ToInfo(snap->doc, it->second);
}

Result<std::vector<RoleInfo>> Iam::ListRoles() {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  return InfosOf<RoleInfo>(snap->doc, snap->doc.roles);
}

Status Iam::DeleteRole(std::string_view role_name) {
  return rep_->Mutate([&](Doc& d) -> Status {
    auto it = d.roles.find(std::string(role_name));
    if (it == d.roles.end()) return NoRole(role_name);
    if (!it->second.policies.empty()) {
      return MakeError(ErrorCode::kDeleteConflict, "cannot delete entity, must delete policies first (role " +
                                                       std::string(role_name) + ")");
    }
    d.roles.erase(it);
    return Status::OK();
  });
}

// ---- users

Result<UserInfo> Iam::CreateUser(std::string_view user_name, std::string_view path) {
  SL_RETURN_IF_ERROR(ValidateName("user name", user_name, 64));
  SL_RETURN_IF_ERROR(ValidatePath(path));
  UserInfo info;
  Status s = rep_->Mutate([&](Doc& d) -> Status {
    SL_RETURN_IF_ERROR(CheckNameFree(d.users, user_name, "user"));
    User u;
    SL_RETURN_IF_ERROR(InitEntity(u, user_name, path, "AIDA", rep_->Now()));
    info = ToInfo(d, u);
    d.users[u.name] = std::move(u);
    return Status::OK();
  });
  SL_RETURN_IF_ERROR(s);
  return info;
}

Result<UserInfo> Iam::GetUser(std::string_view user_name) {
  auto snap = rep_->Current();
  auto it = snap->doc.users.find(std::string(user_name));
  if (it == snap->doc.users.end()) return NoUser(user_name);
  return ToInfo(snap->doc, it->second);
}

Result<std::vector<UserInfo>> Iam::ListUsers() {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  return InfosOf<UserInfo>(snap->doc, snap->doc.users);
}

Status Iam::DeleteUser(std::string_view user_name) {
  return rep_->Mutate([&](Doc& d) -> Status {
    auto it = d.users.find(std::string(user_name));
    if (it == d.users.end()) return NoUser(user_name);
    auto conflict = [&](std::string what) {
      return MakeError(ErrorCode::kDeleteConflict,
                       "cannot delete entity, must " + what + " first (user " + std::string(user_name) + ")");
    };
    for (const auto& [id, k] : d.keys) {
      if (k.user == it->first) return conflict("delete access keys");
    }
    if (!it->second.policies.empty()) return conflict("delete policies");
    if (it->second.login) return conflict("delete login profile");
    for (const auto& [gn, g] : d.groups) {
      if (std::find(g.members.begin(), g.members.end(), it->first) != g.members.end()) {
        return conflict("remove users from group");
      }
    }
    d.users.erase(it);
    return Status::OK();
  });
}

// ---- groups

Result<GroupInfo> Iam::CreateGroup(std::string_view group_name, std::string_view path) {
  SL_RETURN_IF_ERROR(ValidateName("group name", group_name, 128));
  SL_RETURN_IF_ERROR(ValidatePath(path));
  GroupInfo info;
  SL_RETURN_IF_ERROR(rep_->Mutate([&](Doc& d) -> Status {
    SL_RETURN_IF_ERROR(CheckNameFree(d.groups, group_name, "group"));
    Group g;
    SL_RETURN_IF_ERROR(InitEntity(g, group_name, path, "AGPA", rep_->Now()));
    info = ToInfo(d, g);
    d.groups[g.name] = std::move(g);
    return Status::OK();
  }));
  return info;
}

Result<std::vector<GroupInfo>> Iam::ListGroups() {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  return InfosOf<GroupInfo>(snap->doc, snap->doc.groups);
}

Result<std::vector<GroupInfo>> Iam::ListGroupsForUser(std::string_view user_name) {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  if (!snap->doc.users.count(std::string(user_name))) return NoUser(user_name);
  std::vector<GroupInfo> out;
  for (const auto& [n, g] : snap->doc.groups) {
    if (std::find(g.members.begin(), g.members.end(), user_name) != g.members.end()) {
      out.push_back(ToInfo(snap->doc, g));
    }
  }
  return out;
}

Result<std::vector<UserInfo>> Iam::GetGroupUsers(std::string_view group_name) {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  auto it = snap->doc.groups.find(std::string(group_name));
  if (it == snap->doc.groups.end()) return NoGroup(group_name);
  std::vector<UserInfo> out;
  for (const auto& m : it->second.members) {
    auto u = snap->doc.users.find(m);
    if (u != snap->doc.users.end()) out.push_back(ToInfo(snap->doc, u->second));
  }
  return out;
}

Status Iam::AddUserToGroup(std::string_view group_name, std::string_view user_name) {
  return rep_->Mutate([&](Doc& d) -> Status {
    auto g = d.groups.find(std::string(group_name));
    if (g == d.groups.end()) return NoGroup(group_name);
    if (!d.users.count(std::string(user_name))) return NoUser(user_name);
    auto& m = g->second.members;
    if (std::find(m.begin(), m.end(), user_name) == m.end()) m.emplace_back(user_name);
    return Status::OK();
  });
}

Status Iam::RemoveUserFromGroup(std::string_view group_name, std::string_view user_name) {
  return rep_->Mutate([&](Doc& d) -> Status {
    auto g = d.groups.find(std::string(group_name));
    if (g == d.groups.end()) return NoGroup(group_name);
    auto& m = g->second.members;
    auto it = std::find(m.begin(), m.end(), user_name);
    if (it == m.end()) return NoUser(user_name);
    m.erase(it);
    return Status::OK();
  });
}

Status Iam::DeleteGroup(std::string_view group_name) {
  return rep_->Mutate([&](Doc& d) -> Status {
    auto g = d.groups.find(std::string(group_name));
    if (g == d.groups.end()) return NoGroup(group_name);
    if (!g->second.members.empty()) {
      return MakeError(ErrorCode::kDeleteConflict, "cannot delete entity, must remove users from group first");
    }
    if (!g->second.policies.empty()) {
      return MakeError(ErrorCode::kDeleteConflict, "cannot delete entity, must delete policies first");
    }
    d.groups.erase(g);
    return Status::OK();
  });
}

// ---- access keys

Result<AccessKeyInfo> Iam::CreateAccessKey(std::string_view user_name) {
  AccessKeyInfo info;
  SL_RETURN_IF_ERROR(rep_->Mutate([&](Doc& d) -> Status {
    if (!d.users.count(std::string(user_name))) return NoUser(user_name);
    size_t have = std::count_if(d.keys.begin(), d.keys.end(),
                                [&](const auto& kv) { return kv.second.user == user_name; });
    if (have >= kMaxKeysPerUser) {
      return MakeError(ErrorCode::kLimitExceeded, "cannot exceed quota for AccessKeysPerUser: 2");
    }
    Key k;
    do {
      SL_ASSIGN_OR_RETURN(std::string suffix, internal::RandomString(16, kBase32));
      k.id = "AKIA" + suffix;
    } while (d.keys.count(k.id));
    SL_ASSIGN_OR_RETURN(std::string secret, internal::RandomString(40, kSecretChars));
    SL_ASSIGN_OR_RETURN(k.sealed_secret,
                        internal::Seal(rep_->secret_key, secret, "saleslake-iam-key:" + k.id));
    k.user = std::string(user_name);
    k.created = Secs(rep_->Now());
    info = AccessKeyInfo{k.user, k.id, true, secret, FromSecs(k.created)};
    d.keys[k.id] = std::move(k);
    return Status::OK();
  }));
  return info;
}

Result<std::vector<AccessKeyInfo>> Iam::ListAccessKeys(std::string_view user_name) {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  if (!snap->doc.users.count(std::string(user_name))) return NoUser(user_name);
  std::vector<AccessKeyInfo> out;
  for (const auto& [id, k] : snap->doc.keys) {
    if (k.user == user_name) out.push_back(AccessKeyInfo{k.user, k.id, k.active, "", FromSecs(k.created)});
  }
  return out;
}

Status Iam::UpdateAccessKey(std::string_view user_name, std::string_view access_key_id, bool active) {
  return rep_->Mutate([&](Doc& d) -> Status {
    if (!d.users.count(std::string(user_name))) return NoUser(user_name);
    auto it = d.keys.find(std::string(access_key_id));
    if (it == d.keys.end() || it->second.user != user_name) {
      return MakeError(ErrorCode::kNoSuchEntity, "the access key with id " + std::string(access_key_id) +
                                                     " cannot be found");
    }
    it->second.active = active;
    return Status::OK();
  });
}

Status Iam::DeleteAccessKey(std::string_view user_name, std::string_view access_key_id) {
  return rep_->Mutate([&](Doc& d) -> Status {
    if (!d.users.count(std::string(user_name))) return NoUser(user_name);
    auto it = d.keys.find(std::string(access_key_id));
    if (it == d.keys.end() || it->second.user != user_name) {
      return MakeError(ErrorCode::kNoSuchEntity, "the access key with id " + std::string(access_key_id) +
                                                     " cannot be found");
    }
    d.keys.erase(it);
    return Status::OK();
  });
}

// ---- inline policies

namespace {
Status PutPolicy(std::map<std::string, std::string>& policies, std::string_view policy_name,
                 std::string_view document, size_t limit, std::string_view owner) {
  SL_RETURN_IF_ERROR(ValidateName("policy name", policy_name, 128));
  auto parsed = Policy::Parse(document);
  if (!parsed.ok()) return parsed.status();
  size_t total = NonSpaceChars(document);
  for (const auto& [n, text] : policies) {
    if (n != policy_name) total += NonSpaceChars(text);
  }
  if (total > limit) {
    return MakeError(ErrorCode::kLimitExceeded,
                     "maximum policy size of " + std::to_string(limit) + " bytes exceeded for " +
                         std::string(owner));
  }
  policies[std::string(policy_name)] = std::string(document);
  return Status::OK();
}

Status NoPolicy(std::string_view owner, std::string_view name) {
  return MakeError(ErrorCode::kNoSuchEntity, "the " + std::string(owner) + " policy with name " +
                                                 std::string(name) + " cannot be found");
}
}  // namespace

namespace {
// The inline policies of a user, group or role, or nullptr when there is no such entity.
template <typename DocT>
auto* PoliciesOf(DocT& d, PolicyOwner kind, std::string_view owner) {
  using Map = std::conditional_t<std::is_const_v<DocT>, const std::map<std::string, std::string>,
                                 std::map<std::string, std::string>>;
  Map* out = nullptr;
  auto find = [&](auto& entities) {
    auto it = entities.find(std::string(owner));
    if (it != entities.end()) out = &it->second.policies;
  };
  switch (kind) {
    case PolicyOwner::kUser: find(d.users); break;
    case PolicyOwner::kGroup: find(d.groups); break;
    case PolicyOwner::kRole: find(d.roles); break;
  }
  return out;
}

const char* KindName(PolicyOwner kind) {
  switch (kind) {
    case PolicyOwner::kGroup: return "group";
    case PolicyOwner::kRole: return "role";
    case PolicyOwner::kUser: break;
  }
  return "user";
}

size_t PolicyLimit(PolicyOwner kind) {
  switch (kind) {
    case PolicyOwner::kGroup: return kGroupPolicyChars;
    case PolicyOwner::kRole: return kRolePolicyChars;
    case PolicyOwner::kUser: break;
  }
  return kUserPolicyChars;
}

Status NoOwner(PolicyOwner kind, std::string_view owner) {
  switch (kind) {
    case PolicyOwner::kGroup: return NoGroup(owner);
    case PolicyOwner::kRole: return NoRole(owner);
    case PolicyOwner::kUser: break;
  }
  return NoUser(owner);
}
}  // namespace

Status Iam::PutInlinePolicy(PolicyOwner kind, std::string_view owner, std::string_view policy_name,
                            std::string_view document) {
  SL_RETURN_IF_ERROR(Policy::Parse(document).status());  // refuse before taking the write lock
  return rep_->Mutate([&](Doc& d) -> Status {
    auto* policies = PoliciesOf(d, kind, owner);
    if (!policies) return NoOwner(kind, owner);
    return PutPolicy(*policies, policy_name, document, PolicyLimit(kind),
                     std::string(KindName(kind)) + " " + std::string(owner));
  });
}

Result<std::string> Iam::GetInlinePolicy(PolicyOwner kind, std::string_view owner, std::string_view policy_name) {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  const auto* policies = PoliciesOf(snap->doc, kind, owner);
  if (!policies) return NoOwner(kind, owner);
  auto p = policies->find(std::string(policy_name));
  if (p == policies->end()) return NoPolicy(KindName(kind), policy_name);
  return p->second;
}

Result<std::vector<std::string>> Iam::ListInlinePolicies(PolicyOwner kind, std::string_view owner) {
  SL_RETURN_IF_ERROR(rep_->Reload());
  auto snap = rep_->Current();
  const auto* policies = PoliciesOf(snap->doc, kind, owner);
  if (!policies) return NoOwner(kind, owner);
  std::vector<std::string> out;
  for (const auto& [n, t] : *policies) out.push_back(n);
  return out;
}

Status Iam::DeleteInlinePolicy(PolicyOwner kind, std::string_view owner, std::string_view policy_name) {
  return rep_->Mutate([&](Doc& d) -> Status {
    auto* policies = PoliciesOf(d, kind, owner);
    if (!policies) return NoOwner(kind, owner);
    if (!policies->erase(std::string(policy_name))) return NoPolicy(KindName(kind), policy_name);
    return Status::OK();
  });
}

Status Iam::PutUserPolicy(std::string_view user_name, std::string_view policy_name,
                          std::string_view document) {
  return PutInlinePolicy(PolicyOwner::kUser, user_name, policy_name, document);
}
Result<std::string> Iam::GetUserPolicy(std::string_view user_name, std::string_view policy_name) {
  return GetInlinePolicy(PolicyOwner::kUser, user_name, policy_name);
}
Result<std::vector<std::string>> Iam::ListUserPolicies(std::string_view user_name) {
  return ListInlinePolicies(PolicyOwner::kUser, user_name);
}
Status Iam::DeleteUserPolicy(std::string_view user_name, std::string_view policy_name) {
  return DeleteInlinePolicy(PolicyOwner::kUser, user_name, policy_name);
}
Status Iam::PutGroupPolicy(std::string_view group_name, std::string_view policy_name,
                           std::string_view document) {
  return PutInlinePolicy(PolicyOwner::kGroup, group_name, policy_name, document);
}
Result<std::string> Iam::GetGroupPolicy(std::string_view group_name, std::string_view policy_name) {
  return GetInlinePolicy(PolicyOwner::kGroup, group_name, policy_name);
}
Result<std::vector<std::string>> Iam::ListGroupPolicies(std::string_view group_name) {
  return ListInlinePolicies(PolicyOwner::kGroup, group_name);
}
Status Iam::DeleteGroupPolicy(std::string_view group_name, std::string_view policy_name) {
  return DeleteInlinePolicy(PolicyOwner::kGroup, group_name, policy_name);
}

// ---- login profiles

Status Iam::CreateLoginProfile(std::string_view user_name, std::string_view password) {
  if (password.size() < 8 || password.size() > 128) {
    return MakeError(ErrorCode::kInvalidInput, "a password must have 8 to 128 characters");
  }
  SL_ASSIGN_OR_RETURN(std::string salt, internal::RandomBytes(16));
  int iterations = std::max(1, rep_->options.password_iterations);
  SL_ASSIGN_OR_RETURN(std::string hash, internal::Pbkdf2(password, salt, iterations));
  return rep_->Mutate([&](Doc& d) -> Status {
    auto u = d.users.find(std::string(user_name));
    if (u == d.users.end()) return NoUser(user_name);
    if (u->second.login) {
      return MakeError(ErrorCode::kEntityAlreadyExists,
                       "login profile for " + std::string(user_name) + " already exists");
    }
    u->second.login = LoginProfile{internal::Base64(salt), internal::Base64(hash), iterations,
                                   Secs(rep_->Now())};
    return Status::OK();
  });
}

Status Iam::DeleteLoginProfile(std::string_view user_name) {
  return rep_->Mutate([&](Doc& d) -> Status {
    auto u = d.users.find(std::string(user_name));
    if (u == d.users.end()) return NoUser(user_name);
    if (!u->second.login) {
      return MakeError(ErrorCode::kNoSuchEntity, "login profile for " + std::string(user_name) + " cannot be found");
    }
    u->second.login.reset();
    return Status::OK();
  });
}

// ---- init

Result<std::optional<AccessKeyInfo>> EnsureAdmin(Iam& iam) {
  auto existing = iam.GetUser("admin");
  if (existing.ok()) return std::optional<AccessKeyInfo>();
  if (ErrorCodeOf(existing.status()) != ErrorCode::kNoSuchEntity) return existing.status();
  auto user = iam.CreateUser("admin");
  // A concurrent init created it first: that one prints the key.
  if (ErrorCodeOf(user.status()) == ErrorCode::kEntityAlreadyExists) return std::optional<AccessKeyInfo>();
  SL_RETURN_IF_ERROR(user.status());
  SL_RETURN_IF_ERROR(iam.PutUserPolicy("admin", "AdministratorAccess", kAdministratorAccessPolicy));
  SL_ASSIGN_OR_RETURN(AccessKeyInfo key, iam.CreateAccessKey("admin"));
  return std::optional<AccessKeyInfo>(std::move(key));
}

}  // namespace saleslake::auth
