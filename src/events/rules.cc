// Event patterns, schedules and the rules/topics sections of pipeline.yaml.
#include "events/rules.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

#include "common/yaml.h"

namespace saleslake::events {

namespace {

// ---- patterns ----

Status BadPattern(const std::string& field, const std::string& why) {
  return Status::InvalidArgument("pattern field '" + field + "': " + why);
}

Status CheckNumeric(const std::string& field, const nlohmann::json& spec) {
  if (!spec.is_array() || spec.empty() || spec.size() % 2 != 0 || spec.size() > 4)
    return BadPattern(field, "numeric takes [op, number] or [op, number, op, number]");
  for (size_t i = 0; i < spec.size(); i += 2) {
    if (!spec[i].is_string() || !spec[i + 1].is_number())
      return BadPattern(field, "numeric takes operator/number pairs");
    std::string op = spec[i];
    if (op != "=" && op != "<" && op != "<=" && op != ">" && op != ">=")
      return BadPattern(field, "unknown numeric operator '" + op + "' (= < <= > >=)");
    if (spec.size() == 4 && (op == "=" || (i == 0 && op[0] == '<') || (i == 2 && op[0] == '>')))
      return BadPattern(field, "a numeric range is a lower bound (> or >=) then an upper bound (< or <=)");
  }
  return Status::OK();
}

Status CheckAlternative(const std::string& field, const nlohmann::json& alt) {
  if (alt.is_primitive()) return Status::OK();
  if (!alt.is_object() || alt.size() != 1)
    return BadPattern(field, "a value must be a scalar or a one-key operator object");
  auto first = alt.begin();
  const std::string op = first.key();
  const nlohmann::json& arg = first.value();
  if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
    if (!arg.is_string()) return BadPattern(field, op + " takes a string");
  } else if (op == "anything-but") {
    if (arg.is_object()) {
      if (arg.size() != 1 || !arg.contains("prefix") || !arg["prefix"].is_string())
        return BadPattern(field, "anything-but takes values or {prefix: string}");
    } else if (arg.is_array()) {
      for (const auto& v : arg)
        if (!v.is_primitive() || v.is_null()) return BadPattern(field, "anything-but takes scalar values");
    } else if (!arg.is_primitive()) {
      return BadPattern(field, "anything-but takes values or {prefix: string}");
    }
  } else if (op == "numeric") {
    return CheckNumeric(field, arg);
  } else if (op == "exists") {
    if (!arg.is_boolean()) return BadPattern(field, "exists takes true or false");
  } else {
    return BadPattern(field, "unknown operator '" + op +
                                 "' (prefix, suffix, anything-but, numeric, exists, equals-ignore-case)");
  }
  return Status::OK();
}

Status CheckPattern(const nlohmann::json& p, const std::string& path) {
  if (!p.is_object()) return BadPattern(path.empty() ? "(root)" : path, "a pattern is a mapping of fields");
  if (p.empty()) return BadPattern(path.empty() ? "(root)" : path, "an empty mapping matches nothing useful");
  for (const auto& [k, v] : p.items()) {
    std::string field = path.empty() ? k : path + "." + k;
    if (v.is_object()) {
      // An operator object written without its list is a common slip: say so.
      if (v.size() == 1 && CheckAlternative(field, v).ok() && !v.begin().value().is_object())
        return BadPattern(field, "an operator must be inside a list: [{" + v.begin().key() + ": ...}]");
      SL_RETURN_IF_ERROR(CheckPattern(v, field));
    } else if (v.is_array()) {
      if (v.empty()) return BadPattern(field, "an empty list matches nothing");
      for (const auto& alt : v) SL_RETURN_IF_ERROR(CheckAlternative(field, alt));
    } else {
      SL_RETURN_IF_ERROR(CheckAlternative(field, v));
    }
  }
  return Status::OK();
}

bool ScalarEquals(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

bool NumericMatches(const nlohmann::json& spec, double x) {
  for (size_t i = 0; i + 1 < spec.size(); i += 2) {
    std::string op = spec[i];
    double n = spec[i + 1].get<double>();
    bool ok = op == "=" ? x == n : op == "<" ? x < n : op == "<=" ? x <= n : op == ">" ? x > n : x >= n;
    if (!ok) return false;
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One alternative against one present scalar value.
bool AlternativeMatches(const nlohmann::json& alt, const nlohmann::json& value) {
  if (alt.is_primitive()) return ScalarEquals(alt, value);
  auto first = alt.begin();
  const std::string op = first.key();
  const nlohmann::json& arg = first.value();
  if (op == "exists") return arg.get<bool>();
  if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
    if (!value.is_string()) return false;
    const std::string& s = value.get_ref<const std::string&>();
    const std::string& a = arg.get_ref<const std::string&>();
    if (op == "prefix") return s.compare(0, a.size(), a) == 0;
    if (op == "suffix") return s.size() >= a.size() && s.compare(s.size() - a.size(), a.size(), a) == 0;
    return Lower(s) == Lower(a);
  }
  if (op == "numeric") return value.is_number() && NumericMatches(arg, value.get<double>());
  if (op == "anything-but") {
    if (arg.is_object()) {
      const std::string& a = arg["prefix"].get_ref<const std::string&>();
      return !value.is_string() || value.get_ref<const std::string&>().compare(0, a.size(), a) != 0;
    }
    if (arg.is_array()) {
      for (const auto& v : arg)
        if (ScalarEquals(v, value)) return false;
      return true;
    }
    return !ScalarEquals(arg, value);
  }
  return false;
}

bool FieldMatches(const nlohmann::json& spec, const nlohmann::json* value) {
  std::vector<nlohmann::json> alts = spec.is_array() ? spec.get<std::vector<nlohmann::json>>()
                                                     : std::vector<nlohmann::json>{spec};
  for (const auto& alt : alts) {
    bool is_exists = alt.is_object() && alt.contains("exists");
    if (value == nullptr) {
      if (is_exists && !alt["exists"].get<bool>()) return true;
      continue;
    }
    if (is_exists) {
      if (alt["exists"].get<bool>()) return true;
      continue;
    }
    if (value->is_array()) {
      for (const auto& v : *value)
        if (AlternativeMatches(alt, v)) return true;
    } else if (AlternativeMatches(alt, *value)) {
      return true;
    }
  }
  return false;
}

bool MatchObject(const nlohmann::json& pattern, const nlohmann::json& event, const std::string& path,
                 std::string* why) {
  for (const auto& [k, spec] : pattern.items()) {
    std::string field = path.empty() ? k : path + "." + k;
    const nlohmann::json* value = nullptr;
    if (event.is_object()) {
      auto it = event.find(k);
      if (it != event.end()) value = &*it;
    }
    if (spec.is_object() && !(spec.size() == 1 && spec.contains("exists"))) {
      if (value == nullptr || !value->is_object()) {
        if (why) *why = field + ": not an object in the event";
        return false;
      }
      if (!MatchObject(spec, *value, field, why)) return false;
      continue;
    }
    if (!FieldMatches(spec, value)) {
      if (why) *why = field + ": " + (value ? value->dump() : std::string("absent")) + " does not match " + spec.dump();
      return false;
    }
  }
  return true;
}

// ---- cron ----

struct FieldDef {
  const char* name;
  int lo, hi;
  const char* const* names;  // optional, index 0 = lo
};
constexpr const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

Result<int> CronValue(const FieldDef& f, std::string_view s) {
  if (f.names) {
    for (int i = 0; i <= f.hi - f.lo; ++i)
      if (s.size() == 3 && Lower(std::string(s)) == Lower(f.names[i])) return f.lo + i;
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) || s.size() > 4)
    return Status::InvalidArgument(std::string(f.name) + ": '" + std::string(s) + "' is not a value");
  int v = std::stoi(std::string(s));
  if (v < f.lo || v > f.hi)
    return Status::InvalidArgument(std::string(f.name) + ": " + std::to_string(v) + " is outside " +
                                   std::to_string(f.lo) + "-" + std::to_string(f.hi));
  return v;
}

// Fills bits[v - offset] for every value of one cron field.
template <size_t N>
Status ParseCronField(const FieldDef& f, std::string_view text, std::bitset<N>& bits, int offset) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.find_first_of("LW#") != std::string_view::npos)
      return Status::InvalidArgument(std::string(f.name) + ": '" + std::string(item) +
                                     "': L, W and # are not supported");
    int step = 1;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      SL_ASSIGN_OR_RETURN(step, CronValue(FieldDef{f.name, 1, 9999, nullptr}, item.substr(slash + 1)));
      item = item.substr(0, slash);
    }
    int lo, hi;
    if (item == "*") {
      lo = f.lo;
      hi = f.hi;
    } else if (size_t dash = item.find('-'); dash != std::string_view::npos) {
      SL_ASSIGN_OR_RETURN(lo, CronValue(f, item.substr(0, dash)));
      SL_ASSIGN_OR_RETURN(hi, CronValue(f, item.substr(dash + 1)));
      if (hi < lo) return Status::InvalidArgument(std::string(f.name) + ": range " + std::string(item) + " runs backwards");
    } else {
      SL_ASSIGN_OR_RETURN(lo, CronValue(f, item));
      hi = step > 1 ? f.hi : lo;  // "0/15": from 0 every 15
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<size_t>(v - offset));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::OK();
}

int64_t ToSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// ---- YAML ----

struct Ctx {
  std::string path;
  Status Error(const YAML::Node& n, const std::string& msg) const {
    return Status::InvalidArgument(YamlAt(path, n.Mark()) + msg);
  }
};

nlohmann::json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : n) a.push_back(ToJson(e));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = ToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted: a string whatever it looks like
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      char* end = nullptr;
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+')) {
        double d = std::strtod(s.c_str(), &end);
        if (end && *end == '\0') {
          if (s.find_first_of(".eE") == std::string::npos) return static_cast<int64_t>(d);
          return d;
        }
      }
      return s;
    }
    default:
      return nullptr;
  }
}

std::string ScalarOr(const YAML::Node& n, std::string fallback = "") {
  return n && n.IsScalar() ? n.Scalar() : fallback;
}

bool ValidRuleName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// What REFRESH MATERIALIZED VIEW can name without quoting, or "*" (every materialized view).
bool ValidViewName(const std::string& s) {
  if (s == "*") return true;
  if (s.empty() || s.size() > 128 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

Result<Target> ParseTarget(const Ctx& ctx, const YAML::Node& n) {
  if (!n.IsMap()) return ctx.Error(n, "a target is a mapping (crawler:, job:, topic: or command:)");
  Target t;
  int kinds = 0;
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    auto need_scalar = [&]() -> Status {
      if (!v.IsScalar() || v.Scalar().empty()) return ctx.Error(v, key + " takes a non-empty value");
      return Status::OK();
    };
    auto need_int = [&](int lo, int hi, int* out) -> Status {
      SL_RETURN_IF_ERROR(need_scalar());
      char* end = nullptr;
      long x = std::strtol(v.Scalar().c_str(), &end, 10);
      if (*end != '\0' || x < lo || x > hi)
        return ctx.Error(v, key + " takes a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
      *out = static_cast<int>(x);
      return Status::OK();
    };
    if (key == "crawler" || key == "job" || key == "topic" || key == "command" || key == "materialized_view") {
      SL_RETURN_IF_ERROR(need_scalar());
      ++kinds;
      t.kind = key == "crawler" ? Target::Kind::kCrawler
               : key == "job"   ? Target::Kind::kJob
               : key == "topic" ? Target::Kind::kTopic
               : key == "command" ? Target::Kind::kCommand
                                  : Target::Kind::kMatview;
      t.name = v.Scalar();
      if (t.kind == Target::Kind::kTopic && !ValidTopicName(t.name))
        return ctx.Error(v, "'" + t.name + "' is not a topic name (1-256 of A-Z a-z 0-9 _ -)");
      if (t.kind == Target::Kind::kMatview && !ValidViewName(t.name))
        return ctx.Error(v, "'" + t.name + "' is not a view name (letters, digits, _; or * for every one)");
    } else if (key == "timeout_s") {
      SL_RETURN_IF_ERROR(need_int(1, 3600, &t.timeout_s));
    } else if (key == "memory_mb") {
      SL_RETURN_IF_ERROR(need_int(16, 1 << 20, &t.memory_mb));
    } else if (key == "retries") {
      SL_RETURN_IF_ERROR(need_int(0, 10, &t.retries));
    } else if (key == "env" || key == "input_paths") {
      if (!v.IsMap()) return ctx.Error(v, key + " is a mapping");
      for (const auto& e : v) {
        if (!e.second.IsScalar()) return ctx.Error(e.second, key + " values are scalars");
        if (key == "input_paths" && e.second.Scalar().rfind("$.", 0) != 0 && e.second.Scalar() != "$")
          return ctx.Error(e.second, "an input path starts with '$.' (e.g. $.run_id)");
        (key == "env" ? t.env : t.input_paths)[e.first.Scalar()] = e.second.Scalar();
      }
    } else if (key == "input_template") {
      SL_RETURN_IF_ERROR(need_scalar());
      t.input_template = v.Scalar();
    } else {
      return ctx.Error(kv.first, "unknown target key '" + key +
                                     "' (crawler, job, topic, command, materialized_view, timeout_s, memory_mb, "
                                     "retries, env, "
                                     "input_paths, input_template)");
    }
  }
  if (kinds != 1) return ctx.Error(n, "a target names exactly one of crawler:, job:, topic:, command:, materialized_view:");
  if (t.kind != Target::Kind::kCommand && (!t.env.empty()))
    return ctx.Error(n, "env applies to command targets only");
  return t;
}

Result<Rule> ParseRule(const Ctx& ctx, const YAML::Node& n) {
  if (!n.IsMap()) return ctx.Error(n, "a rule is a mapping with name:, pattern: or schedule:, and targets:");
  Rule r;
  r.line = n.Mark().line + 1;
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "name") {
      r.name = ScalarOr(v);
      if (!ValidRuleName(r.name)) return ctx.Error(v, "a rule name is 1-64 of A-Z a-z 0-9 . _ -");
    } else if (key == "pattern") {
      auto p = EventPattern::FromJson(ToJson(v));
      if (!p.ok()) return ctx.Error(v, p.status().message());
      r.pattern = std::move(*p);
    } else if (key == "schedule") {
      auto s = Schedule::Parse(ScalarOr(v));
      if (!s.ok()) return ctx.Error(v, s.status().message());
      r.schedule = std::move(*s);
    } else if (key == "targets") {
      if (!v.IsSequence() || v.size() == 0) return ctx.Error(v, "targets is a non-empty list");
      for (const auto& t : v) {
        SL_ASSIGN_OR_RETURN(Target target, ParseTarget(ctx, t));
        r.targets.push_back(std::move(target));
      }
    } else if (key == "description") {
    } else {
      return ctx.Error(kv.first, "unknown rule key '" + key + "' (name, pattern, schedule, targets, description)");
    }
  }
  if (r.name.empty()) return ctx.Error(n, "a rule needs a name");
  if (r.pattern.has_value() == r.schedule.has_value())
    return ctx.Error(n, "rule '" + r.name + "' needs exactly one of pattern: and schedule:");
  if (r.targets.empty()) return ctx.Error(n, "rule '" + r.name + "' has no targets");
  return r;
}

Result<SubscriptionSpec> ParseSubscription(const Ctx& ctx, const YAML::Node& n) {
  if (!n.IsMap()) return ctx.Error(n, "a subscription is a mapping with protocol: and endpoint:");
  SubscriptionSpec s;
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "protocol") {
      s.protocol = ScalarOr(v);
      if (s.protocol != "file" && s.protocol != "http" && s.protocol != "https" && s.protocol != "command" &&
          s.protocol != "email" && s.protocol != "email-json")
        return ctx.Error(v, "unknown protocol '" + s.protocol + "' (file, http, https, command, email, email-json)");
    } else if (key == "endpoint") {
      s.endpoint = ScalarOr(v);
    } else if (key == "raw_message_delivery") {
      std::string b = ScalarOr(v);
      if (b != "true" && b != "false") return ctx.Error(v, "raw_message_delivery is true or false");
      s.raw_message_delivery = b == "true";
    } else if (key == "filter_policy") {
      auto p = EventPattern::FromJson(ToJson(v));
      if (!p.ok()) return ctx.Error(v, "filter policy: " + p.status().message());
      s.filter_policy = std::move(*p);
    } else if (key == "filter_policy_scope") {
      std::string scope = ScalarOr(v);
      if (scope != "MessageAttributes" && scope != "MessageBody")
        return ctx.Error(v, "filter_policy_scope is MessageAttributes or MessageBody");
      s.filter_on_body = scope == "MessageBody";
    } else {
      return ctx.Error(kv.first, "unknown subscription key '" + key + "'");
    }
  }
  if (s.protocol.empty() || s.endpoint.empty()) return ctx.Error(n, "a subscription needs protocol: and endpoint:");
  if ((s.protocol == "http" || s.protocol == "https") && s.endpoint.rfind(s.protocol + "://", 0) != 0)
    return ctx.Error(n, "an " + s.protocol + " endpoint starts with " + s.protocol + "://");
  if ((s.protocol == "email" || s.protocol == "email-json") && !ValidEmailAddress(s.endpoint))
    return ctx.Error(n, "'" + s.endpoint + "' is not an e-mail address");
  return s;
}

Result<SmtpSettings> ParseSmtp(const Ctx& ctx, const YAML::Node& n) {
  if (!n.IsMap()) return ctx.Error(n, "smtp is a mapping (url, from, starttls, username, password_env, ...)");
  SmtpSettings s;
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    std::string text = ScalarOr(v);
    if (key == "url") {
      if (text.rfind("smtp://", 0) != 0 && text.rfind("smtps://", 0) != 0)
        return ctx.Error(v, "the smtp url starts with smtp:// or smtps://");
      if (text.find_first_of(" \r\n") != std::string::npos) return ctx.Error(v, "the smtp url has a space");
      s.url = text;
    } else if (key == "from") {
      if (!ValidEmailAddress(text)) return ctx.Error(v, "'" + text + "' is not an e-mail address");
      s.from = text;
    } else if (key == "starttls") {
      if (text != "off" && text != "try" && text != "required")
        return ctx.Error(v, "starttls is off, try or required");
      s.starttls = text;
    } else if (key == "username") {
      s.username = text;
    } else if (key == "password_env") {
      // The password stays out of the lake's file; a missing variable is a load error, not a
      // login that fails at 3 a.m.
      const char* p = std::getenv(text.c_str());
      if (text.empty() || !p) return ctx.Error(v, "environment variable '" + text + "' is not set");
      s.password = p;
    } else if (key == "ca_file") {
      s.ca_file = text;
    } else if (key == "timeout_s") {
      char* end = nullptr;
      long t = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || t < 1 || t > 600) return ctx.Error(v, "timeout_s takes 1..600");
      s.timeout_s = static_cast<int>(t);
    } else {
      return ctx.Error(kv.first, "unknown smtp key '" + key +
                                     "' (url, from, starttls, username, password_env, ca_file, timeout_s)");
    }
  }
  if (s.url.empty()) return ctx.Error(n, "smtp needs url:");
  if (s.url.rfind("smtps://", 0) == 0 && s.starttls != "off")
    return ctx.Error(n, "starttls is for smtp:// (smtps:// is TLS from the start)");
  return s;
}

}  // namespace

Result<EventPattern> EventPattern::FromJson(const nlohmann::json& pattern) {
  SL_RETURN_IF_ERROR(CheckPattern(pattern, ""));
  EventPattern p;
  p.pattern_ = pattern;
  return p;
}

bool EventPattern::Matches(const nlohmann::json& event, std::string* why) const {
  return MatchObject(pattern_, event, "", why);
}

Result<Schedule> Schedule::Parse(std::string_view expression) {
  Schedule s;
  s.expression_ = std::string(expression);
  auto body = [&](std::string_view head) -> std::optional<std::string_view> {
    if (expression.size() > head.size() + 1 && expression.substr(0, head.size()) == head &&
        expression[head.size()] == '(' && expression.back() == ')')
      return expression.substr(head.size() + 1, expression.size() - head.size() - 2);
    return std::nullopt;
  };
  if (auto rate = body("rate")) {
    std::string text(*rate);
    size_t sp = text.find(' ');
    if (sp == std::string::npos) return Status::InvalidArgument("rate(VALUE UNIT), e.g. rate(5 minutes)");
    std::string num = text.substr(0, sp), unit = text.substr(sp + 1);
    if (num.empty() || num.size() > 9 || !std::all_of(num.begin(), num.end(), ::isdigit) || std::stol(num) <= 0)
      return Status::InvalidArgument("rate: '" + num + "' is not a positive whole number");
    long n = std::stol(num);
    int64_t unit_s = 0;
    std::string singular = unit.back() == 's' ? unit.substr(0, unit.size() - 1) : unit;
    if (singular == "minute") unit_s = 60;
    else if (singular == "hour") unit_s = 3600;
    else if (singular == "day") unit_s = 86400;
    else return Status::InvalidArgument("rate: unknown unit '" + unit + "' (minute(s), hour(s), day(s))");
    if ((n == 1) != (unit == singular))
      return Status::InvalidArgument("rate: write '1 " + singular + "' and 'N " + singular + "s' (AWS syntax)");
    s.rate_ = std::chrono::seconds(n * unit_s);
    return s;
  }
  auto cron = body("cron");
  if (!cron) return Status::InvalidArgument("a schedule is rate(...) or cron(...), e.g. cron(0/15 * * * ? *)");
  std::vector<std::string> f;
  std::string cur;
  for (char c : *cron) {
    if (c == ' ') {
      if (!cur.empty()) f.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) f.push_back(cur);
  if (f.size() != 6)
    return Status::InvalidArgument("cron takes 6 fields (minutes hours day-of-month month day-of-week year), got " +
                                   std::to_string(f.size()));
  s.any_day_ = f[2] == "?";
  s.any_weekday_ = f[4] == "?";
  if (s.any_day_ == s.any_weekday_)
    return Status::InvalidArgument("cron: exactly one of day-of-month and day-of-week must be '?'");
  for (int i : {0, 1, 3, 5})
    if (f[i] == "?") return Status::InvalidArgument("cron: '?' is allowed in day-of-month or day-of-week only");
  SL_RETURN_IF_ERROR(ParseCronField(FieldDef{"minutes", 0, 59, nullptr}, f[0], s.minutes_, 0));
  SL_RETURN_IF_ERROR(ParseCronField(FieldDef{"hours", 0, 23, nullptr}, f[1], s.hours_, 0));
  if (!s.any_day_) SL_RETURN_IF_ERROR(ParseCronField(FieldDef{"day-of-month", 1, 31, nullptr}, f[2], s.days_, 0));
  SL_RETURN_IF_ERROR(ParseCronField(FieldDef{"month", 1, 12, kMonths}, f[3], s.months_, 0));
  if (!s.any_weekday_) SL_RETURN_IF_ERROR(ParseCronField(FieldDef{"day-of-week", 1, 7, kDays}, f[4], s.weekdays_, 0));
  SL_RETURN_IF_ERROR(ParseCronField(FieldDef{"year", 1970, 2199, nullptr}, f[5], s.years_, 1970));
  return s;
}

std::optional<TimePoint> Schedule::NextAfter(TimePoint t) const {
  int64_t sec = ToSeconds(t);
  if (rate_.count() > 0) {
    int64_t p = rate_.count();
    int64_t next = (sec >= 0 ? sec / p + 1 : sec / p) * p;
    return TimePoint(std::chrono::seconds(next));
  }
  int64_t m = (sec >= 0 ? sec / 60 + 1 : sec / 60) * 60;  // the next whole minute
  for (int guard = 0; guard < 200000; ++guard) {
    time_t tt = static_cast<time_t>(m);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    int year = tm.tm_year + 1900;
    if (year > 2199) return std::nullopt;
    auto next_day = [&] { m += (24 - tm.tm_hour) * 3600 - tm.tm_min * 60; };
    if (year < 1970 || !years_.test(static_cast<size_t>(year - 1970))) {
      std::tm n{};
      n.tm_year = tm.tm_year + 1;
      n.tm_mday = 1;
      m = timegm(&n);
      continue;
    }
    if (!months_.test(static_cast<size_t>(tm.tm_mon + 1))) {
      std::tm n{};
      n.tm_year = tm.tm_year;
      n.tm_mon = tm.tm_mon + 1;  // timegm normalizes month 12
      n.tm_mday = 1;
      m = timegm(&n);
      continue;
    }
    bool day_ok = any_day_ ? weekdays_.test(static_cast<size_t>(tm.tm_wday + 1))
                           : days_.test(static_cast<size_t>(tm.tm_mday));
    if (!day_ok) {
      next_day();
      continue;
    }
    if (!hours_.test(static_cast<size_t>(tm.tm_hour))) {
      m += 3600 - tm.tm_min * 60;
      continue;
    }
    if (!minutes_.test(static_cast<size_t>(tm.tm_min))) {
      m += 60;
      continue;
    }
    return TimePoint(std::chrono::seconds(m));
  }
  return std::nullopt;
}

std::string_view TargetKindName(Target::Kind kind) {
  switch (kind) {
    case Target::Kind::kCrawler: return "crawler";
    case Target::Kind::kJob: return "job";
    case Target::Kind::kTopic: return "topic";
    case Target::Kind::kCommand: return "command";
    case Target::Kind::kMatview: return "materialized_view";
  }
  return "?";
}

bool ValidEmailAddress(std::string_view a) {
  size_t at = a.find('@');
  if (a.size() > 254 || at == std::string_view::npos || at == 0 || at + 1 >= a.size() ||
      a.find('@', at + 1) != std::string_view::npos)
    return false;
  return std::all_of(a.begin(), a.end(), [](char c) {
    return c > ' ' && c < 127 && c != '<' && c != '>' && c != '(' && c != ')' && c != ',' && c != ';' &&
           c != '\\' && c != '"';
  });
}

bool ValidTopicName(std::string_view name) {
  return !name.empty() && name.size() <= 256 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

Result<EventsConfig> ParseEventsConfig(std::string_view path, std::string_view yaml_text) {
  Ctx ctx{std::string(path)};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    return Status::InvalidArgument(YamlAt(ctx.path, e.mark) + e.msg);
  }
  EventsConfig config;
  if (!root.IsMap()) return config;
  if (const YAML::Node rules = root["rules"]) {
    if (!rules.IsSequence()) return ctx.Error(rules, "rules is a list");
    for (const auto& n : rules) {
      SL_ASSIGN_OR_RETURN(Rule r, ParseRule(ctx, n));
      for (const auto& other : config.rules)
        if (other.name == r.name) return ctx.Error(n, "rule '" + r.name + "' is declared twice");
      config.rules.push_back(std::move(r));
    }
  }
  if (const YAML::Node topics = root["topics"]) {
    if (!topics.IsSequence()) return ctx.Error(topics, "topics is a list");
    for (const auto& n : topics) {
      if (!n.IsMap()) return ctx.Error(n, "a topic is a mapping with name: and subscriptions:");
      TopicSpec t;
      for (const auto& kv : n) {
        std::string key = kv.first.Scalar();
        if (key == "name") {
          t.name = ScalarOr(kv.second);
          if (!ValidTopicName(t.name))
            return ctx.Error(kv.second, "'" + t.name + "' is not a topic name (1-256 of A-Z a-z 0-9 _ -)");
        } else if (key == "subscriptions") {
          if (!kv.second.IsSequence()) return ctx.Error(kv.second, "subscriptions is a list");
          for (const auto& s : kv.second) {
            SL_ASSIGN_OR_RETURN(SubscriptionSpec sub, ParseSubscription(ctx, s));
            t.subscriptions.push_back(std::move(sub));
          }
        } else {
          return ctx.Error(kv.first, "unknown topic key '" + key + "' (name, subscriptions)");
        }
      }
      if (t.name.empty()) return ctx.Error(n, "a topic needs a name");
      config.topics.push_back(std::move(t));
    }
  }
  if (const YAML::Node smtp = root["smtp"]) {
    SL_ASSIGN_OR_RETURN(config.smtp, ParseSmtp(ctx, smtp));
  }
  if (const YAML::Node alarms = root["alarms"]) {
    if (!alarms.IsSequence()) return ctx.Error(alarms, "alarms is a list");
    for (const auto& n : alarms) {
      if (!n.IsMap()) return ctx.Error(n, "an alarm is a mapping (name, event_type, metric, threshold, ...)");
      AlarmSpec a;
      for (const auto& kv : n) {
        std::string key = kv.first.Scalar();
        const YAML::Node& v = kv.second;
        auto num = [&](double lo, double hi, double* out) -> Status {
          char* end = nullptr;
          std::string t = ScalarOr(v);
          double x = std::strtod(t.c_str(), &end);
          if (t.empty() || *end != '\0' || x < lo || x > hi) return ctx.Error(v, key + " takes a number");
          *out = x;
          return Status::OK();
        };
        double x = 0;
        if (key == "name") a.name = ScalarOr(v);
        else if (key == "event_type") a.event_type = ScalarOr(v);
        else if (key == "metric") a.metric = ScalarOr(v);
        else if (key == "statistic") {
          a.statistic = ScalarOr(v);
          if (a.statistic != "Average" && a.statistic != "Sum" && a.statistic != "Minimum" &&
              a.statistic != "Maximum" && a.statistic != "SampleCount")
            return ctx.Error(v, "statistic is Average, Sum, Minimum, Maximum or SampleCount");
        } else if (key == "period_s") {
          SL_RETURN_IF_ERROR(num(10, 86400 * 7, &x));
          a.period_s = static_cast<int64_t>(x);
        } else if (key == "evaluation_periods") {
          SL_RETURN_IF_ERROR(num(1, 1000, &x));
          a.evaluation_periods = static_cast<int>(x);
        } else if (key == "datapoints_to_alarm") {
          SL_RETURN_IF_ERROR(num(1, 1000, &x));
          a.datapoints_to_alarm = static_cast<int>(x);
        } else if (key == "threshold") {
          SL_RETURN_IF_ERROR(num(-1e300, 1e300, &a.threshold));
        } else if (key == "comparison") {
          a.comparison = ScalarOr(v);
          if (a.comparison != "GreaterThanThreshold" && a.comparison != "GreaterThanOrEqualToThreshold" &&
              a.comparison != "LessThanThreshold" && a.comparison != "LessThanOrEqualToThreshold")
            return ctx.Error(v, "comparison is GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold or LessThanOrEqualToThreshold");
        } else if (key == "treat_missing_data") {
          a.treat_missing_data = ScalarOr(v);
          if (a.treat_missing_data != "missing" && a.treat_missing_data != "notBreaching" &&
              a.treat_missing_data != "breaching" && a.treat_missing_data != "ignore")
            return ctx.Error(v, "treat_missing_data is missing, notBreaching, breaching or ignore");
        } else if (key == "alarm_actions" || key == "ok_actions") {
          if (!v.IsSequence()) return ctx.Error(v, key + " is a list of topic names");
          for (const auto& t : v) {
            if (!ValidTopicName(ScalarOr(t))) return ctx.Error(t, "'" + ScalarOr(t) + "' is not a topic name");
            (key == "alarm_actions" ? a.alarm_actions : a.ok_actions).push_back(t.Scalar());
          }
        } else {
          return ctx.Error(kv.first, "unknown alarm key '" + key + "'");
        }
      }
      if (!ValidRuleName(a.name)) return ctx.Error(n, "an alarm needs a name (1-64 of A-Z a-z 0-9 . _ -)");
      if (a.event_type.empty() || a.metric.empty()) return ctx.Error(n, "alarm '" + a.name + "' needs event_type: and metric:");
      if (a.datapoints_to_alarm > a.evaluation_periods)
        return ctx.Error(n, "alarm '" + a.name + "': datapoints_to_alarm is more than evaluation_periods");
      config.alarms.push_back(std::move(a));
    }
  }
  // Targets that name a topic must name a declared one or one made over the API: checked by the
  // engine at run time (API topics are not in this file).
  return config;
}

std::string TransformInput(const Target& target, const nlohmann::json& event) {
  if (target.input_paths.empty() && target.input_template.empty()) return event.dump();
  std::map<std::string, nlohmann::json> values;
  for (const auto& [name, path] : target.input_paths) {
    const nlohmann::json* cur = &event;
    std::string rest = path == "$" ? "" : path.substr(2);
    bool found = true;
    while (!rest.empty()) {
      size_t dot = rest.find('.');
      std::string part = rest.substr(0, dot);
      rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
      if (!cur->is_object() || !cur->contains(part)) {
        found = false;
        break;
      }
      cur = &(*cur)[part];
    }
    values[name] = found ? *cur : nlohmann::json(nullptr);
  }
  if (target.input_template.empty()) return nlohmann::json(values).dump();
  // <name> is replaced by the value: strings as their text (EventBridge's rule), others as JSON.
  std::string out;
  const std::string& t = target.input_template;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '<') {
      size_t close = t.find('>', i);
      if (close != std::string::npos) {
        auto it = values.find(t.substr(i + 1, close - i - 1));
        if (it != values.end()) {
          out += it->second.is_string() ? it->second.get<std::string>() : it->second.dump();
          i = close;
          continue;
        }
      }
    }
    out += t[i];
  }
  return out;
}

}  // namespace saleslake::events

namespace saleslake::events {

std::string_view AlarmStateName(AlarmState s) {
  switch (s) {
    case AlarmState::kInsufficientData: return "INSUFFICIENT_DATA";
    case AlarmState::kOk: return "OK";
    case AlarmState::kAlarm: return "ALARM";
  }
  return "?";
}

void Alarm::AddSample(TimePoint t, double value) { samples_.emplace_back(ToEpochMs(t), value); }

std::optional<AlarmTransition> Alarm::Evaluate(TimePoint now) {
  const int64_t period_ms = spec_.period_s * 1000;
  const int n = spec_.evaluation_periods;
  const int m = spec_.datapoints_to_alarm > 0 ? spec_.datapoints_to_alarm : n;
  const int64_t end = ToEpochMs(now) / period_ms * period_ms;  // the last whole period ends here
  const int64_t start = end - n * period_ms;
  std::erase_if(samples_, [&](const auto& s) { return s.first < start; });
  // One datapoint per period: the statistic over its samples (nullopt = missing).
  std::vector<std::optional<double>> points(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int64_t lo = start + i * period_ms, hi = lo + period_ms;
    double sum = 0, mn = 0, mx = 0;
    int count = 0;
    for (const auto& [t, v] : samples_) {
      if (t < lo || t >= hi) continue;
      mn = count ? std::min(mn, v) : v;
      mx = count ? std::max(mx, v) : v;
      sum += v;
      ++count;
    }
    if (count == 0) continue;
    const std::string& st = spec_.statistic;
    points[static_cast<size_t>(i)] = st == "Sum" ? sum : st == "Minimum" ? mn : st == "Maximum" ? mx
                                   : st == "SampleCount" ? count : sum / count;
  }
  auto breaches = [&](double v) {
    const std::string& c = spec_.comparison;
    if (c == "GreaterThanOrEqualToThreshold") return v >= spec_.threshold;
    if (c == "LessThanThreshold") return v < spec_.threshold;
    if (c == "LessThanOrEqualToThreshold") return v <= spec_.threshold;
    return v > spec_.threshold;
  };
  int present = 0, breaching = 0;
  std::string shown;
  for (const auto& p : points) {
    if (!shown.empty()) shown += ", ";
    if (!p) {
      shown += "-";
      if (spec_.treat_missing_data == "breaching") ++breaching;
      continue;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", *p);
    shown += buf;
    ++present;
    if (breaches(*p)) ++breaching;
  }
  AlarmState next;
  const std::string& tmd = spec_.treat_missing_data;
  if (breaching >= m) next = AlarmState::kAlarm;
  else if (present == 0 && tmd == "missing") next = AlarmState::kInsufficientData;
  else if (present == 0 && tmd == "ignore") next = state_;
  else next = AlarmState::kOk;
  if (next == state_) return std::nullopt;
  AlarmTransition tr{state_, next, ""};
  char th[32];
  std::snprintf(th, sizeof th, "%g", spec_.threshold);
  tr.reason = std::to_string(breaching) + " of the last " + std::to_string(n) + " datapoints [" + shown +
              "] breached " + spec_.comparison + " " + th + " (" + std::to_string(m) + " needed; missing data: " + tmd + ")";
  state_ = next;
  return tr;
}

}  // namespace saleslake::events
