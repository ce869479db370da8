// The IAM policy language: parsing with positions, and evaluation as AWS documents it.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

#include "auth/auth.h"
#include "auth/internal/json.h"

namespace saleslake::auth {

using internal::JsonValue;

namespace {

enum class Op {
  kStringEquals, kStringNotEquals, kStringEqualsIgnoreCase, kStringNotEqualsIgnoreCase,
  kStringLike, kStringNotLike,
  kNumericEquals, kNumericNotEquals, kNumericLessThan, kNumericLessThanEquals,
  kNumericGreaterThan, kNumericGreaterThanEquals,
  kDateEquals, kDateNotEquals, kDateLessThan, kDateLessThanEquals, kDateGreaterThan,
  kDateGreaterThanEquals,
  kBool, kBinaryEquals, kIpAddress, kNotIpAddress,
  kArnEquals, kArnNotEquals, kArnLike, kArnNotLike,
  kNull,
};

struct OpInfo {
  std::string_view name;
  Op op;
  bool negated;
};

constexpr OpInfo kOps[] = {
    {"StringEquals", Op::kStringEquals, false},
    {"StringNotEquals", Op::kStringNotEquals, true},
    {"StringEqualsIgnoreCase", Op::kStringEqualsIgnoreCase, false},
    {"StringNotEqualsIgnoreCase", Op::kStringNotEqualsIgnoreCase, true},
    {"StringLike", Op::kStringLike, false},
    {"StringNotLike", Op::kStringNotLike, true},
    {"NumericEquals", Op::kNumericEquals, false},
    {"NumericNotEquals", Op::kNumericNotEquals, true},
    {"NumericLessThan", Op::kNumericLessThan, false},
    {"NumericLessThanEquals", Op::kNumericLessThanEquals, false},
    {"NumericGreaterThan", Op::kNumericGreaterThan, false},
    {"NumericGreaterThanEquals", Op::kNumericGreaterThanEquals, false},
    {"DateEquals", Op::kDateEquals, false},
    {"DateNotEquals", Op::kDateNotEquals, true},
    {"DateLessThan", Op::kDateLessThan, false},
    {"DateLessThanEquals", Op::kDateLessThanEquals, false},
    {"DateGreaterThan", Op::kDateGreaterThan, false},
    {"DateGreaterThanEquals", Op::kDateGreaterThanEquals, false},
    {"Bool", Op::kBool, false},
    {"BinaryEquals", Op::kBinaryEquals, false},
    {"IpAddress", Op::kIpAddress, false},
    {"NotIpAddress", Op::kNotIpAddress, true},
    {"ArnEquals", Op::kArnEquals, false},
    {"ArnNotEquals", Op::kArnNotEquals, true},
    {"ArnLike", Op::kArnLike, false},
    {"ArnNotLike", Op::kArnNotLike, true},
    {"Null", Op::kNull, false},
};

enum class SetQualifier { kNone, kForAllValues, kForAnyValue };

struct Condition {
  Op op;
  bool negated = false;
  bool if_exists = false;
  SetQualifier qualifier = SetQualifier::kNone;
  std::string key;  // lower-cased (condition keys are case-insensitive)
  std::vector<std::string> values;
};

struct Statement {
  std::string id;  // Sid or "#<index>"
  bool allow = true;
  bool not_action = false;
  std::vector<std::string> actions;
  bool not_resource = false;
  bool has_resource = false;
  std::vector<std::string> resources;
  enum class PrincipalKind { kNone, kPrincipal, kNotPrincipal } principal_kind = PrincipalKind::kNone;
  bool principal_any = false;          // "*" or {"AWS": "*"}
  std::vector<std::string> principals;  // AWS principals (ARNs, account ids)
  std::vector<Condition> conditions;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Glob with '*' (any run) and '?' (one character); iterative with one backtrack point, so
// linear-ish and never recursive.
bool Glob(std::string_view pattern, std::string_view text, bool ignore_case) {
  auto eq = [ignore_case](char a, char b) {
    return ignore_case ? std::tolower(static_cast<unsigned char>(a)) ==
                             std::tolower(static_cast<unsigned char>(b))
                       : a == b;
  };
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && eq(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// ---- typed values

std::optional<double> ParseNumber(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Dates: ISO 8601 or epoch seconds.
std::optional<double> ParseDate(std::string_view s) {
  if (auto t = ParseTime(s)) {
    return static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count());
  }
  bool digits = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) return ParseNumber(s);
  return std::nullopt;
}

struct Cidr {
  int family = 0;  // AF_INET / AF_INET6
  uint8_t addr[16] = {};
  int prefix = 0;
};

std::optional<Cidr> ParseIp(std::string_view text, bool allow_prefix) {
  Cidr c;
  std::string s(text);
  int prefix = -1;
  size_t slash = s.find('/');
  if (slash != std::string::npos) {
    if (!allow_prefix) return std::nullopt;
    std::string_view pt = std::string_view(s).substr(slash + 1);
    auto [p, ec] = std::from_chars(pt.data(), pt.data() + pt.size(), prefix);
    if (pt.empty() || ec != std::errc() || p != pt.data() + pt.size()) return std::nullopt;
    s.resize(slash);
  }
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (inet_pton(AF_INET, s.c_str(), c.addr) == 1) {
    c.family = AF_INET;
    if (prefix > 32) return std::nullopt;
    c.prefix = prefix < 0 ? 32 : prefix;
  } else if (inet_pton(AF_INET6, s.c_str(), c.addr) == 1) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(c.addr, kMapped, 12) == 0 && prefix < 0) {  // ::ffff:a.b.c.d is IPv4
      std::memmove(c.addr, c.addr + 12, 4);
      c.family = AF_INET;
      c.prefix = 32;
      return c;
    }
    c.family = AF_INET6;
    if (prefix > 128) return std::nullopt;
    c.prefix = prefix < 0 ? 128 : prefix;
  } else {
    return std::nullopt;
  }
  return c;
}

bool CidrContains(const Cidr& net, const Cidr& ip) {
  if (net.family != ip.family) return false;
  int bits = net.prefix;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((net.addr[i] & mask) != (ip.addr[i] & mask)) return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parsing

struct Policy::Rep {
  std::string text;
  std::string version;
  std::vector<Statement> statements;
  // A statement has a Condition or a resource with a policy variable: evaluating this policy
  // may read the request's context (Policy::reads_context).
  bool reads_context = false;
};

namespace {

class PolicyParser {
 public:
  PolicyParser(std::string_view text, bool for_resource, bool trust = false)
      : text_(text), for_resource_(for_resource || trust), trust_(trust) {}

  Status Error(size_t offset, std::string_view why) const {
    return MakeError(ErrorCode::kMalformedPolicyDocument,
                     internal::JsonPosition(text_, offset) + ": " + std::string(why));
  }

  Result<std::shared_ptr<Policy::Rep>> Run() {
    auto root = internal::ParseJson(text_);
    if (!root.ok()) {
      return MakeError(ErrorCode::kMalformedPolicyDocument, root.status().message());
    }
    auto rep = std::make_shared<Policy::Rep>();
    rep->text = std::string(text_);
    const JsonValue& doc = *root;
    if (doc.kind != JsonValue::Kind::kObject) {
      return Error(doc.offset, "a policy document must be a JSON object");
    }
    const JsonValue* statements = nullptr;
    for (const auto& m : doc.members) {
      if (m.key == "Version") {
        if (m.value.kind != JsonValue::Kind::kString ||
            (m.value.text != "2012-10-17" && m.value.text != "2008-10-17")) {
          return Error(m.value.offset, "Version must be \"2012-10-17\" or \"2008-10-17\"");
        }
        rep->version = m.value.text;
      } else if (m.key == "Id") {
        if (m.value.kind != JsonValue::Kind::kString) return Error(m.value.offset, "Id must be a string");
      } else if (m.key == "Statement") {
        statements = &m.value;
      } else {
        return Error(m.key_offset, "unknown top-level element \"" + m.key +
                                       "\" (expected Version, Id, Statement)");
      }
    }
    if (!statements) return Error(doc.offset, "missing required element Statement");
    if (statements->kind == JsonValue::Kind::kObject) {
      SL_RETURN_IF_ERROR(ParseStatement(*statements, 0, rep.get()));
    } else if (statements->kind == JsonValue::Kind::kArray) {
      if (statements->items.empty()) return Error(statements->offset, "Statement must not be empty");
      for (size_t i = 0; i < statements->items.size(); ++i) {
        SL_RETURN_IF_ERROR(ParseStatement(statements->items[i], i, rep.get()));
      }
    } else {
      return Error(statements->offset, "Statement must be an object or an array of objects");
    }
    for (const Statement& st : rep->statements) {
      rep->reads_context |= !st.conditions.empty();
      for (const std::string& r : st.resources) rep->reads_context |= r.find("${") != std::string::npos;
    }
    return rep;
  }

 private:
  // A string or a non-empty array of strings.
  Status StringList(const JsonValue& v, std::string_view what, std::vector<std::string>* out) {
    if (v.kind == JsonValue::Kind::kString) {
      out->push_back(v.text);
      return Status::OK();
    }
    if (v.kind != JsonValue::Kind::kArray) {
      return Error(v.offset, std::string(what) + " must be a string or an array of strings, not " +
                                 std::string(v.KindName()));
    }
    if (v.items.empty()) return Error(v.offset, std::string(what) + " must not be an empty array");
    for (const auto& item : v.items) {
      if (item.kind != JsonValue::Kind::kString) {
        return Error(item.offset, std::string(what) + " entries must be strings");
      }
      out->push_back(item.text);
    }
    return Status::OK();
  }

  Status CheckAction(const std::string& a, size_t offset) {
    if (a == "*") return Status::OK();
    size_t colon = a.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == a.size()) {
      return Error(offset, "action \"" + a + "\" must be \"*\" or \"service:Action\"");
    }
    for (size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '*' || c == '?' || c == '-' ||
                c == '_' || (c == ':' && i == colon);
      if (!ok) return Error(offset, "action \"" + a + "\" has an invalid character");
    }
    return Status::OK();
  }

  Status CheckResource(const std::string& r, size_t offset) {
    if (r == "*") return Status::OK();
    if (r.rfind("arn:", 0) != 0 || std::count(r.begin(), r.end(), ':') < 5) {
      return Error(offset, "resource \"" + r + "\" must be \"*\" or an ARN "
                           "(arn:partition:service:region:account:resource)");
    }
    return Status::OK();
  }

  Status ParsePrincipal(const JsonValue& v, Statement* st) {
    if (v.kind == JsonValue::Kind::kString) {
      if (v.text != "*") return Error(v.offset, "a string Principal must be \"*\"");
      st->principal_any = true;
      return Status::OK();
    }
    if (v.kind != JsonValue::Kind::kObject || v.members.empty()) {
      return Error(v.offset, "Principal must be \"*\" or an object like {\"AWS\": [...]}");
    }
    for (const auto& m : v.members) {
      if (m.key != "AWS" && m.key != "Service" && m.key != "Federated" && m.key != "CanonicalUser") {
        return Error(m.key_offset, "unknown principal type \"" + m.key + "\"");
      }
      std::vector<std::string> values;
      SL_RETURN_IF_ERROR(StringList(m.value, "Principal." + m.key, &values));
      if (m.key != "AWS") continue;  // other principal types never match a saleslake user
      for (size_t i = 0; i < values.size(); ++i) {
        const std::string& p = values[i];
        size_t at = m.value.kind == JsonValue::Kind::kArray ? m.value.items[i].offset : m.value.offset;
        bool account = p.size() == 12 && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (p == "*") {
          st->principal_any = true;
        } else if (!account && p.rfind("arn:", 0) != 0) {
          return Error(at, "invalid principal \"" + p + "\": expected \"*\", an account id or an ARN");
        }
        st->principals.push_back(p);
      }
    }
    return Status::OK();
  }

  Status ParseCondition(const JsonValue& v, Statement* st) {
    if (v.kind != JsonValue::Kind::kObject) return Error(v.offset, "Condition must be an object");
    for (const auto& m : v.members) {
      std::string_view name = m.key;
      Condition base;
      if (name.rfind("ForAllValues:", 0) == 0) {
        base.qualifier = SetQualifier::kForAllValues;
        name.remove_prefix(13);
      } else if (name.rfind("ForAnyValue:", 0) == 0) {
        base.qualifier = SetQualifier::kForAnyValue;
        name.remove_prefix(12);
      }
      constexpr std::string_view kIfExists = "IfExists";
      if (name.size() > kIfExists.size() && name.substr(name.size() - kIfExists.size()) == kIfExists) {
        base.if_exists = true;
        name.remove_suffix(kIfExists.size());
      }
      const OpInfo* info = nullptr;
      for (const auto& o : kOps) {
        if (o.name == name) info = &o;
      }
      if (!info) return Error(m.key_offset, "unknown condition operator \"" + m.key + "\"");
      if (info->op == Op::kNull && (base.if_exists || base.qualifier != SetQualifier::kNone)) {
        return Error(m.key_offset, "Null takes neither IfExists nor a set qualifier");
      }
      base.op = info->op;
      base.negated = info->negated;
      if (m.value.kind != JsonValue::Kind::kObject || m.value.members.empty()) {
        return Error(m.value.offset, "condition operator " + m.key +
                                         " must map condition keys to values");
      }
      for (const auto& km : m.value.members) {
        Condition c = base;
        c.key = Lower(km.key);
        if (c.key.empty()) return Error(km.key_offset, "empty condition key");
        std::vector<const JsonValue*> vals;
        if (km.value.kind == JsonValue::Kind::kArray) {
          if (km.value.items.empty()) return Error(km.value.offset, "condition values must not be empty");
          for (const auto& it : km.value.items) vals.push_back(&it);
        } else {
          vals.push_back(&km.value);
        }
        for (const JsonValue* val : vals) {
          if (val->kind != JsonValue::Kind::kString && val->kind != JsonValue::Kind::kBool &&
              val->kind != JsonValue::Kind::kNumber) {
            return Error(val->offset, "condition values must be strings, numbers or booleans");
          }
          SL_RETURN_IF_ERROR(CheckConditionValue(c.op, *val));
          c.values.push_back(val->text);
        }
        st->conditions.push_back(std::move(c));
      }
    }
    return Status::OK();
  }

  Status CheckConditionValue(Op op, const JsonValue& v) {
    const std::string& s = v.text;
    switch (op) {
      case Op::kNumericEquals: case Op::kNumericNotEquals: case Op::kNumericLessThan:
      case Op::kNumericLessThanEquals: case Op::kNumericGreaterThan:
      case Op::kNumericGreaterThanEquals:
        if (!ParseNumber(s)) return Error(v.offset, "\"" + s + "\" is not a number");
        break;
      case Op::kDateEquals: case Op::kDateNotEquals: case Op::kDateLessThan:
      case Op::kDateLessThanEquals: case Op::kDateGreaterThan: case Op::kDateGreaterThanEquals:
        if (!ParseDate(s)) return Error(v.offset, "\"" + s + "\" is not an ISO 8601 date or epoch time");
        break;
      case Op::kBool: case Op::kNull:
        if (Lower(s) != "true" && Lower(s) != "false") {
          return Error(v.offset, "\"" + s + "\" must be true or false");
        }
        break;
      case Op::kIpAddress: case Op::kNotIpAddress:
        if (!ParseIp(s, true)) return Error(v.offset, "\"" + s + "\" is not an IP address or CIDR block");
        break;
      default:
        break;
    }
    return Status::OK();
  }

  Status ParseStatement(const JsonValue& v, size_t index, Policy::Rep* rep) {
    if (v.kind != JsonValue::Kind::kObject) return Error(v.offset, "a statement must be an object");
    Statement st;
    st.id = "#" + std::to_string(index);
    bool have_effect = false, have_action = false;
    const JsonValue* principal = nullptr;
    for (const auto& m : v.members) {
      const std::string& k = m.key;
      if (k == "Sid") {
        if (m.value.kind != JsonValue::Kind::kString) return Error(m.value.offset, "Sid must be a string");
        if (!m.value.text.empty()) st.id = m.value.text;
      } else if (k == "Effect") {
        if (m.value.kind != JsonValue::Kind::kString ||
            (m.value.text != "Allow" && m.value.text != "Deny")) {
          return Error(m.value.offset, "Effect must be \"Allow\" or \"Deny\"");
        }
        st.allow = m.value.text == "Allow";
        have_effect = true;
      } else if (k == "Action" || k == "NotAction") {
        if (have_action) return Error(m.key_offset, "a statement has either Action or NotAction, not both");
        have_action = true;
        st.not_action = k == "NotAction";
        SL_RETURN_IF_ERROR(StringList(m.value, k, &st.actions));
        for (size_t i = 0; i < st.actions.size(); ++i) {
          size_t at = m.value.kind == JsonValue::Kind::kArray ? m.value.items[i].offset : m.value.offset;
          SL_RETURN_IF_ERROR(CheckAction(st.actions[i], at));
        }
      } else if (k == "Resource" || k == "NotResource") {
        if (trust_) return Error(m.key_offset, "a trust policy must not specify " + k + " (it is the role)");
        if (st.has_resource) {
          return Error(m.key_offset, "a statement has either Resource or NotResource, not both");
        }
        st.has_resource = true;
        st.not_resource = k == "NotResource";
        SL_RETURN_IF_ERROR(StringList(m.value, k, &st.resources));
        for (size_t i = 0; i < st.resources.size(); ++i) {
          size_t at = m.value.kind == JsonValue::Kind::kArray ? m.value.items[i].offset : m.value.offset;
          SL_RETURN_IF_ERROR(CheckResource(st.resources[i], at));
        }
      } else if (k == "Principal" || k == "NotPrincipal") {
        if (!for_resource_) {
          return Error(m.key_offset, "an identity policy must not specify " + k);
        }
        if (principal) return Error(m.key_offset, "a statement has either Principal or NotPrincipal, not both");
        principal = &m.value;
        st.principal_kind = k == "Principal" ? Statement::PrincipalKind::kPrincipal
                                             : Statement::PrincipalKind::kNotPrincipal;
        SL_RETURN_IF_ERROR(ParsePrincipal(m.value, &st));
      } else if (k == "Condition") {
        SL_RETURN_IF_ERROR(ParseCondition(m.value, &st));
      } else {
        return Error(m.key_offset, "unknown statement element \"" + k + "\"");
      }
    }
    if (!have_effect) return Error(v.offset, "statement " + st.id + " has no Effect");
    if (!have_action) return Error(v.offset, "statement " + st.id + " has no Action or NotAction");
    if (trust_) {
      st.has_resource = true;
      st.resources = {"*"};  // the role the policy belongs to
    }
    if (!st.has_resource) return Error(v.offset, "statement " + st.id + " has no Resource or NotResource");
    if (for_resource_ && !principal) {
      return Error(v.offset, "statement " + st.id + " of a resource policy has no Principal or NotPrincipal");
    }
    rep->statements.push_back(std::move(st));
    return Status::OK();
  }

  std::string_view text_;
  bool for_resource_;
  bool trust_;  // a role's trust policy: Principal required, Resource implied
};

}  // namespace

Policy::Policy(std::shared_ptr<const Rep> rep) : rep_(std::move(rep)) {}
Policy::Policy(const Policy&) = default;
Policy& Policy::operator=(const Policy&) = default;
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;
Policy::~Policy() = default;

Result<Policy> Policy::Parse(std::string_view json) { return Parse(json, false); }

Result<Policy> Policy::Parse(std::string_view json, bool for_resource) {
  SL_ASSIGN_OR_RETURN(std::shared_ptr<Policy::Rep> rep, PolicyParser(json, for_resource).Run());
  return Policy(std::shared_ptr<const Rep>(std::move(rep)));
}

Result<Policy> Policy::ParseTrust(std::string_view json) {
  SL_ASSIGN_OR_RETURN(std::shared_ptr<Policy::Rep> rep, PolicyParser(json, true, /*trust=*/true).Run());
  return Policy(std::shared_ptr<const Rep>(std::move(rep)));
}

const std::string& Policy::text() const { return rep_->text; }
size_t Policy::num_statements() const { return rep_->statements.size(); }
bool Policy::reads_context() const { return rep_->reads_context; }

// ---------------------------------------------------------------------------------------------
// Evaluation

namespace {

using LowerContext = std::map<std::string, const std::vector<std::string>*>;

// Substitutes ${aws:username}-style policy variables (Version 2012-10-17 only). nullopt when
// a variable has no value and no default: the element then matches nothing, as in AWS.
std::optional<std::string> Substitute(std::string_view s, const LowerContext& ctx) {
  if (s.find("${") == std::string_view::npos) return std::string(s);
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      size_t close = s.find('}', i + 2);
      if (close == std::string_view::npos) {
        out.append(s.substr(i));
        break;
      }
      std::string_view var = s.substr(i + 2, close - i - 2);
      std::optional<std::string> dflt;
      if (size_t comma = var.find(','); comma != std::string_view::npos) {
        std::string_view d = var.substr(comma + 1);
        while (!d.empty() && d.front() == ' ') d.remove_prefix(1);
        if (d.size() >= 2 && d.front() == '\'' && d.back() == '\'') dflt = std::string(d.substr(1, d.size() - 2));
        var = var.substr(0, comma);
        while (!var.empty() && var.back() == ' ') var.remove_suffix(1);
      }
      if (var == "*" || var == "?" || var == "$") {
        out.append(var);
      } else if (auto it = ctx.find(Lower(var)); it != ctx.end() && it->second->size() == 1) {
        out.append((*it->second)[0]);
      } else if (dflt) {
        out.append(*dflt);
      } else {
        return std::nullopt;
      }
      i = close + 1;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// One context value against one policy value, for the positive form of the operator.
bool MatchOne(Op op, std::string_view ctx, std::string_view pol) {
  switch (op) {
    case Op::kStringEquals: case Op::kStringNotEquals: case Op::kBinaryEquals:
      return ctx == pol;
    case Op::kStringEqualsIgnoreCase: case Op::kStringNotEqualsIgnoreCase:
      return Lower(ctx) == Lower(pol);
    case Op::kStringLike: case Op::kStringNotLike: case Op::kArnLike: case Op::kArnNotLike:
    case Op::kArnEquals: case Op::kArnNotEquals:
      return Glob(pol, ctx, false);
    case Op::kNumericEquals: case Op::kNumericNotEquals: case Op::kNumericLessThan:
    case Op::kNumericLessThanEquals: case Op::kNumericGreaterThan:
    case Op::kNumericGreaterThanEquals:
    case Op::kDateEquals: case Op::kDateNotEquals: case Op::kDateLessThan:
    case Op::kDateLessThanEquals: case Op::kDateGreaterThan: case Op::kDateGreaterThanEquals: {
      bool date = op >= Op::kDateEquals;
      auto a = date ? ParseDate(ctx) : ParseNumber(ctx);
      auto b = date ? ParseDate(pol) : ParseNumber(pol);
      if (!a || !b) return false;
      switch (op) {
        case Op::kNumericEquals: case Op::kNumericNotEquals: case Op::kDateEquals:
        case Op::kDateNotEquals:
          return *a == *b;
        case Op::kNumericLessThan: case Op::kDateLessThan: return *a < *b;
        case Op::kNumericLessThanEquals: case Op::kDateLessThanEquals: return *a <= *b;
        case Op::kNumericGreaterThan: case Op::kDateGreaterThan: return *a > *b;
        default: return *a >= *b;
      }
    }
    case Op::kBool:
      return Lower(ctx) == Lower(pol);
    case Op::kIpAddress: case Op::kNotIpAddress: {
      auto net = ParseIp(pol, true);
      auto ip = ParseIp(ctx, false);
      return net && ip && CidrContains(*net, *ip);
    }
    case Op::kNull:
      return false;  // handled by the caller
  }
  return false;
}

bool ConditionHolds(const Condition& c, const LowerContext& ctx, bool variables) {
  auto it = ctx.find(c.key);
  const std::vector<std::string>* values = it == ctx.end() ? nullptr : it->second;
  bool present = values && !values->empty();
  if (c.op == Op::kNull) {
    bool want_absent = Lower(c.values.empty() ? "" : c.values[0]) == "true";
    return want_absent ? !present : present;
  }
  if (!present) {
    if (c.qualifier == SetQualifier::kForAllValues) return true;
    if (c.qualifier == SetQualifier::kForAnyValue) return false;
    return c.if_exists || c.negated;
  }
  std::vector<std::string> pol;
  pol.reserve(c.values.size());
  for (const auto& v : c.values) {
    if (!variables) {
      pol.push_back(v);
    } else if (auto s = Substitute(v, ctx)) {
      pol.push_back(std::move(*s));
    }
  }
  // Whether one context value matches any policy value (the positive form).
  auto any_policy = [&](const std::string& cv) {
    for (const auto& pv : pol) {
      if (MatchOne(c.op, cv, pv)) return true;
    }
    return false;
  };
  // Negated operators: the value must match none of the policy values.
  auto holds_for = [&](const std::string& cv) { return c.negated ? !any_policy(cv) : any_policy(cv); };
  switch (c.qualifier) {
    case SetQualifier::kForAllValues:
      return std::all_of(values->begin(), values->end(), holds_for);
    case SetQualifier::kForAnyValue:
      return std::any_of(values->begin(), values->end(), holds_for);
    case SetQualifier::kNone:
      break;
  }
  bool any = std::any_of(values->begin(), values->end(), any_policy);
  return c.negated ? !any : any;
}

bool ActionMatches(const Statement& st, std::string_view action) {
  bool any = std::any_of(st.actions.begin(), st.actions.end(),
                         [&](const std::string& p) { return Glob(p, action, true); });
  return st.not_action ? !any : any;
}

bool ResourceMatches(const Statement& st, std::string_view resource, const LowerContext& ctx,
                     bool variables) {
  bool any = false;
  for (const auto& p : st.resources) {
    if (!variables || p.find("${") == std::string::npos) {  // no copy of a plain pattern
      if (Glob(p, resource, false)) {
        any = true;
        break;
      }
      continue;
    }
    std::optional<std::string> pat = Substitute(p, ctx);
    if (pat && Glob(*pat, resource, false)) {
      any = true;
      break;
    }
  }
  return st.not_resource ? !any : any;
}

// Whether a principal listed in a resource policy names the caller. `for_grant`: an Allow only
// counts for the caller's own ARN/user id or "*"; the account (root) delegates to identity
// policies. Any mention of the account covers the caller in a Deny.
bool PrincipalListed(const Statement& st, const Principal& who, bool for_grant) {
  if (st.principal_any) return true;
  for (const auto& p : st.principals) {
    if (!who.anonymous() && (p == who.arn || p == who.user_id)) return true;
    // A policy naming a role covers every session of it.
    if (!who.role_arn.empty() && p == who.role_arn) return true;
    bool account = p == who.account_id || p == "arn:aws:iam::" + who.account_id + ":root";
    if (account && !for_grant && !who.anonymous()) return true;
  }
  return false;
}

}  // namespace

std::string_view Decision::KindName() const {
  switch (kind) {
    case DecisionKind::kAllowed: return "allowed";
    case DecisionKind::kExplicitDeny: return "explicitDeny";
    case DecisionKind::kImplicitDeny: return "implicitDeny";
  }
  return "implicitDeny";
}

Decision Evaluate(const AuthzRequest& request, std::span<const NamedPolicy> identity_policies) {
  LowerContext ctx;
  for (const auto& [k, v] : request.context) ctx[Lower(k)] = &v;
  std::optional<Decision> allow;
  auto consider = [&](const Policy::Rep& rep, const std::string& name, bool resource_policy)
      -> std::optional<Decision> {
    bool variables = rep.version == "2012-10-17";
    for (const Statement& st : rep.statements) {
      if (resource_policy) {
        bool listed = PrincipalListed(st, request.principal, /*for_grant=*/st.allow);
        bool applies = st.principal_kind == Statement::PrincipalKind::kNotPrincipal ? !listed : listed;
        if (!applies) continue;
      }
      if (!ActionMatches(st, request.action)) continue;
      if (!ResourceMatches(st, request.resource, ctx, variables)) continue;
      bool conditions = std::all_of(st.conditions.begin(), st.conditions.end(),
                                    [&](const Condition& c) { return ConditionHolds(c, ctx, variables); });
      if (!conditions) continue;
      Decision d{st.allow ? DecisionKind::kAllowed : DecisionKind::kExplicitDeny, name, st.id};
      if (!st.allow) return d;  // an explicit Deny ends the evaluation
      if (!allow) allow = d;
    }
    return std::nullopt;
  };
  if (request.principal.anonymous() == false) {
    for (const NamedPolicy& p : identity_policies) {
      if (auto deny = consider(p.policy.rep(), p.name, false)) return *deny;
    }
  }
  if (request.resource_policy) {
    if (auto deny = consider(request.resource_policy->rep(), "bucket-policy", true)) return *deny;
  }
  if (allow) return *allow;
  return Decision{};
}

RequestContext RequestContextFor(const HttpRequestView& request, TimePoint now) {
  RequestContext ctx;
  std::string ip = request.source_ip;
  if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos) ip = ip.substr(7);
  if (!ip.empty()) ctx["aws:SourceIp"] = {ip};
  ctx["aws:SecureTransport"] = {request.secure_transport ? "true" : "false"};
  ctx["aws:CurrentTime"] = {FormatIso8601(now)};
  ctx["aws:EpochTime"] = {std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count())};
  if (auto ua = request.Header("user-agent")) ctx["aws:UserAgent"] = {std::string(*ua)};
  if (auto ref = request.Header("referer")) ctx["aws:Referer"] = {std::string(*ref)};
  return ctx;
}

}  // namespace saleslake::auth
