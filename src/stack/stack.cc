#include "stack/stack.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <set>

#include <nlohmann/json.hpp>

#include "catalog/crawler.h"
#include "common/suggest.h"
#include "common/yaml.h"
#include "etl/job_spec.h"
#include "events/rules.h"
#include "sql/workgroups.h"
#include "stack/internal/dashboards_section.h"
#include "stack/internal/iam_section.h"
#include "stream/delivery.h"

namespace saleslake::stack {
namespace {

constexpr const char* kKindOrder[] = {"table",     "crawler",   "job",       "stream",   "rule",    "topic", "alarm",
                                      "workgroup", "dashboard", "iam-group", "iam-user", "setting"};

int KindRank(std::string_view kind) {
  for (size_t i = 0; i < std::size(kKindOrder); ++i)
    if (kind == kKindOrder[i]) return static_cast<int>(i);
  return static_cast<int>(std::size(kKindOrder));
}

// Sections that are lists of named items, and the resource kind of an item.
const std::map<std::string, std::string>& ListSections() {
  static const std::map<std::string, std::string> m = {{"crawlers", "crawler"}, {"jobs", "job"},
                                                       {"streams", "stream"},   {"rules", "rule"},
                                                       {"topics", "topic"},     {"alarms", "alarm"},
                                                       {"workgroups", "workgroup"}};
  return m;
}
const std::vector<std::string>& TopLevelKeys() {
  static const std::vector<std::string> k = {"version", "bucket",     "crawlers",   "jobs", "streams", "rules",
                                             "topics",  "alarms",     "workgroups", "dashboards", "iam", "smtp"};
  return k;
}

// Whether `msg` already starts with "path:LINE:COL:".
bool HasPosition(std::string_view msg, std::string_view path) {
  if (msg.substr(0, path.size()) != path || msg.size() <= path.size() || msg[path.size()] != ':') return false;
  size_t i = path.size() + 1;
  int groups = 0;
  while (groups < 2) {
    size_t start = i;
    while (i < msg.size() && std::isdigit(static_cast<unsigned char>(msg[i]))) ++i;
    if (i == start || i >= msg.size() || msg[i] != ':') return false;
    ++i;
    ++groups;
  }
  return true;
}

// A parser error with the file's position: kept when it has one, else given the item's.
std::string Positioned(std::string msg, std::string_view path, const YAML::Mark& where) {
  if (HasPosition(msg, path)) return msg;
  for (std::string_view p : {std::string_view("pipeline.yaml: "), path}) {
    if (!p.empty() && msg.rfind(p, 0) == 0) {
      msg.erase(0, p.size());
      if (!msg.empty() && msg[0] == ':') msg.erase(0, 1);
      while (!msg.empty() && msg[0] == ' ') msg.erase(0, 1);
      break;
    }
  }
  return YamlAt(path, where) + msg;
}

// Runs the parser(s) its module owns over a (partial) copy of the file; the first error, if any.
std::optional<std::string> ParseSection(const std::string& key, std::string_view path, const std::string& text) {
  Status s = Status::OK();
  if (key == "crawlers" || key == "version") {
    s = catalog::ParseCrawlerConfigs(text, path).status();
  } else if (key == "jobs") {
    s = etl::ParseJobs(path, text).status();
  } else if (key == "streams") {
    s = stream::ParseDeliveries(text).status();
  } else if (key == "rules" || key == "topics" || key == "alarms" || key == "smtp") {
    s = events::ParseEventsConfig(path, text).status();
  } else if (key == "workgroups") {
    s = sql::ParseWorkGroups(text, path).status();
  }
  if (s.ok()) return std::nullopt;
  return s.message();
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// The file with only the lines in `keep` (0-based) left; the others empty, so positions hold.
std::string KeepLines(const std::vector<std::string>& lines, const std::function<bool(size_t)>& keep) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (keep(i)) out += lines[i];
    out += '\n';
  }
  return out;
}

std::string ScalarText(const YAML::Node& n) {
  if (n.IsNull()) return "null";
  if (n.IsScalar()) return n.Scalar();
  return "";
}

// Flattens a node into path -> value text (see the header).
void Flatten(const YAML::Node& n, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (n.IsMap()) {
    if (n.size() == 0) out[prefix] = "{}";
    for (auto it = n.begin(); it != n.end(); ++it) {
      YAML::Node k = it->first, v = it->second;
      std::string key = k.IsScalar() ? k.Scalar() : "?";
      Flatten(v, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (n.IsSequence()) {
    bool scalars = true;
    for (const auto& e : n) scalars = scalars && (e.IsScalar() || e.IsNull());
    if (scalars) {
      std::string v = "[";
      for (size_t i = 0; i < n.size(); ++i) v += (i ? ", " : "") + ScalarText(n[i]);
      out[prefix] = v + "]";
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) Flatten(n[i], prefix + "[" + std::to_string(i) + "]", out);
  } else {
    out[prefix.empty() ? "value" : prefix] = ScalarText(n);
  }
}

std::string Field(const YAML::Node& item, const char* key, const std::string& fallback = "") {
  const YAML::Node v = item[key];
  return v && v.IsScalar() ? v.Scalar() : fallback;
}

// The resources of a parsed root, with the marks of their declarations (for the cross checks).
struct Declared {
  Resource resource;
  YAML::Mark mark;
};

// A policy document's fields: "policies.NAME/Statement/0/Action" (JSON pointers into it), so a
// change set names the statement that changes rather than the whole document.
void FlattenPolicies(const YAML::Node& policies, std::map<std::string, std::string>& fields) {
  if (!policies || !policies.IsMap()) return;
  for (auto it = policies.begin(); it != policies.end(); ++it) {
    const std::string field = "policies." + (it->first.IsScalar() ? it->first.Scalar() : "?");
    const nlohmann::json doc = nlohmann::json::parse(ScalarText(it->second), nullptr, false);
    if (doc.is_discarded() || !doc.is_structured() || doc.empty()) {
      fields[field] = ScalarText(it->second);
      continue;
    }
    const nlohmann::json flat = doc.flatten();  // a named value: items() only views it
    for (const auto& [pointer, value] : flat.items())
      fields[field + pointer] = value.is_string() ? value.get<std::string>() : value.dump();
  }
}

// The groups and users of the `iam:` section (stack/internal/iam_section.h).
void CollectIam(const YAML::Node& iam, std::vector<Declared>& out) {
  if (!iam.IsMap()) return;
  for (const auto& [list, kind] : {std::pair{"groups", "iam-group"}, std::pair{"users", "iam-user"}}) {
    const YAML::Node items = iam[list];
    if (!items || !items.IsSequence()) continue;
    for (const auto& item : items) {
      if (!item.IsMap()) continue;
      Declared d{{kind, Field(item, "name"), {}, item.Mark().line + 1}, item.Mark()};
      if (const YAML::Node groups = item["groups"]) Flatten(groups, "groups", d.resource.fields);
      FlattenPolicies(item["policies"], d.resource.fields);
      out.push_back(std::move(d));
    }
  }
}

// The dashboards of the `dashboards:` section (stack/internal/dashboards_section.h).
void CollectDashboards(const YAML::Node& dashboards, std::vector<Declared>& out) {
  if (!dashboards.IsSequence()) return;
  for (const auto& item : dashboards) {
    if (!item.IsMap()) continue;
    Declared d{{"dashboard", Field(item, "name"), {}, item.Mark().line + 1}, item.Mark()};
    d.resource.fields = internal::DashboardFields(Field(item, "definition"));
    out.push_back(std::move(d));
  }
}

std::vector<Declared> Collect(const YAML::Node& root) {
  std::vector<Declared> out;
  if (!root.IsMap()) return out;
  for (auto it = root.begin(); it != root.end(); ++it) {
    YAML::Node k = it->first, v = it->second;
    if (!k.IsScalar()) continue;
    const std::string key = k.Scalar();
    if (key == "iam") {
      CollectIam(v, out);
      continue;
    }
    if (key == "dashboards") {
      CollectDashboards(v, out);
      continue;
    }
    auto sec = ListSections().find(key);
    if (sec == ListSections().end()) {
      if (key == "version" || key == "bucket" || key == "smtp") {
        Declared d{{"setting", key, {}, k.Mark().line + 1}, k.Mark()};
        Flatten(v, "", d.resource.fields);
        out.push_back(std::move(d));
      }
      continue;
    }
    if (!v.IsSequence()) continue;
    for (const auto& item : v) {
      if (!item.IsMap()) continue;
      Declared d{{sec->second, Field(item, "name"), {}, item.Mark().line + 1}, item.Mark()};
      Flatten(item, "", d.resource.fields);
      d.resource.fields.erase("name");
      out.push_back(d);
      // The tables crawlers and jobs define.
      if (key == "crawlers" && item["table"] && item["table"].IsScalar()) {
        Declared t{{"table", item["table"].Scalar(), {}, item["table"].Mark().line + 1}, item["table"].Mark()};
        t.resource.fields["defined_by"] = "crawler " + d.resource.name;
        t.resource.fields["location"] = Field(item, "path");
        t.resource.fields["format"] = Field(item, "format", "auto");
        out.push_back(std::move(t));
      } else if (key == "jobs" && item["target"] && item["target"].IsMap()) {
        const YAML::Node target = item["target"];
        if (!target["table"] || !target["table"].IsScalar()) continue;
        Declared t{{"table", target["table"].Scalar(), {}, target["table"].Mark().line + 1}, target["table"].Mark()};
        t.resource.fields["defined_by"] = "job " + d.resource.name;
        t.resource.fields["location"] = Field(target, "location");
        t.resource.fields["format"] = Field(target, "format", "parquet");
        t.resource.fields["compression"] = Field(target, "compression", "zstd");
        std::map<std::string, std::string> parts;
        if (target["partition_by"]) Flatten(target["partition_by"], "partition_by", parts);
        t.resource.fields["partition_by"] = parts.count("partition_by") ? parts["partition_by"] : "[]";
        out.push_back(std::move(t));
      }
    }
  }
  return out;
}

void SortResources(std::vector<Resource>& rs) {
  std::stable_sort(rs.begin(), rs.end(), [](const Resource& a, const Resource& b) {
    int ka = KindRank(a.kind), kb = KindRank(b.kind);
    return ka != kb ? ka < kb : a.name < b.name;
  });
}

// Checks across items: names declared twice, rule targets naming no crawler or job, a stream
// whose table no job loads.
void CrossCheck(const YAML::Node& root, const std::vector<Declared>& declared,
                std::vector<std::pair<YAML::Mark, std::string>>& errors) {
  std::map<std::pair<std::string, std::string>, const Declared*> seen;
  std::set<std::string> job_tables;
  for (const Declared& d : declared) {
    if (d.resource.kind == "table" && d.resource.fields.at("defined_by").rfind("job ", 0) == 0)
      job_tables.insert(d.resource.name);
    if (d.resource.name.empty()) continue;
    auto [it, fresh] = seen.emplace(std::make_pair(d.resource.kind, d.resource.name), &d);
    if (!fresh) {
      std::string what = d.resource.kind == "table"
                             ? "table '" + d.resource.name + "' is defined twice (" +
                                   it->second->resource.fields.at("defined_by") + ", line " +
                                   std::to_string(it->second->resource.line) + "; and " +
                                   d.resource.fields.at("defined_by") + ")"
                             : d.resource.kind + " '" + d.resource.name + "' is declared twice (first at line " +
                                   std::to_string(it->second->resource.line) + ")";
      errors.emplace_back(d.mark, what);
    }
  }
  auto exists = [&](const std::string& kind, const std::string& name) { return seen.count({kind, name}) > 0; };
  auto names = [&](const std::string& kind) {
    std::vector<std::string> v;
    for (const auto& [k, d] : seen)
      if (k.first == kind) v.push_back(k.second);
    return v;
  };
  if (const YAML::Node rules = root["rules"]; rules && rules.IsSequence()) {
    for (const auto& rule : rules) {
      if (!rule.IsMap() || !rule["targets"] || !rule["targets"].IsSequence()) continue;
      for (const auto& t : rule["targets"]) {
        if (!t.IsMap()) continue;
        for (const char* kind : {"crawler", "job"}) {
          const YAML::Node n = t[kind];
          if (!n || !n.IsScalar() || exists(kind, n.Scalar())) continue;
          std::string hint = ClosestName(n.Scalar(), names(kind));
          errors.emplace_back(n.Mark(), "rule '" + Field(rule, "name") + "': no " + kind + " named '" + n.Scalar() +
                                            "' in this file" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
        }
      }
    }
  }
  if (const YAML::Node streams = root["streams"]; streams && streams.IsSequence()) {
    for (const auto& s : streams) {
      if (!s.IsMap()) continue;
      const YAML::Node t = s["table"];
      std::string table = t && t.IsScalar() ? t.Scalar() : "sales_data";
      if (!job_tables.count(table))
        errors.emplace_back(t ? t.Mark() : s.Mark(), "stream '" + Field(s, "name") + "': no job loads table '" +
                                                         table + "' (the delivery goes through that job)");
    }
  }
}

}  // namespace

const Resource* Pipeline::Find(std::string_view kind, std::string_view name) const {
  for (const Resource& r : resources)
    if (r.kind == kind && r.name == name) return &r;
  return nullptr;
}

std::vector<std::string> ValidatePipeline(std::string_view path, std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return {YamlAt(path, e.mark) + e.msg};
  }
  if (!root || root.IsNull()) return {};
  if (!root.IsMap()) return {YamlAt(path, root.Mark()) + "the pipeline must be a mapping of sections"};

  const std::vector<std::string> lines = SplitLines(text);
  std::vector<std::pair<YAML::Mark, std::string>> errors;
  std::set<std::string> messages;
  auto add = [&](const YAML::Mark& m, std::string msg) {
    if (messages.insert(msg).second) errors.emplace_back(m, std::move(msg));
  };

  // Top-level keys in file order with the line range each one spans.
  struct Section {
    std::string key;
    YAML::Mark mark;
    YAML::Node node;
  };
  std::vector<Section> sections;
  try {
    for (auto it = root.begin(); it != root.end(); ++it) {
      YAML::Node k = it->first, v = it->second;
      if (!k.IsScalar()) {
        add(k.Mark(), YamlAt(path, k.Mark()) + "a section name must be a plain word");
        continue;
      }
      sections.push_back({k.Scalar(), k.Mark(), v});
    }
  } catch (const YAML::Exception& e) {
    return {YamlAt(path, e.mark) + e.msg};
  }
  std::sort(sections.begin(), sections.end(), [](const Section& a, const Section& b) { return a.mark.line < b.mark.line; });

  for (size_t si = 0; si < sections.size(); ++si) {
    const Section& sec = sections[si];
    const size_t begin = static_cast<size_t>(sec.mark.line);
    const size_t end = si + 1 < sections.size() ? static_cast<size_t>(sections[si + 1].mark.line) : lines.size();
    const auto& known = TopLevelKeys();
    if (std::find(known.begin(), known.end(), sec.key) == known.end()) {
      std::string hint = ClosestName(sec.key, known);
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      add(sec.mark, YamlAt(path, sec.mark) + "unknown section '" + sec.key + "'" +
                        (hint.empty() ? " (sections: " + list + ")" : " (did you mean '" + hint + "'?)"));
      continue;
    }
    if (sec.key == "iam" || sec.key == "dashboards") {
      std::vector<std::string> section_errors;
      if (sec.key == "iam") {
        internal::ReadIamSection(sec.node, path, &section_errors);
      } else {
        internal::ReadDashboardsSection(sec.node, path, lines, &section_errors);
      }
      for (std::string& e : section_errors) add(sec.mark, std::move(e));
      continue;
    }
    if (sec.key == "bucket") {
      const std::string b = sec.node.IsScalar() ? sec.node.Scalar() : "";
      bool ok = b.size() >= 3 && b.size() <= 63 && std::all_of(b.begin(), b.end(), [](char c) {
                  return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                         c == '-' || c == '.';
                });
      if (!ok) add(sec.node.Mark(), YamlAt(path, sec.node.Mark()) + "bucket must be an S3 bucket name (3-63 of a-z 0-9 . -)");
      continue;
    }
    // Item by item when the section is a block list whose items start on lines of their own.
    std::vector<size_t> starts;
    if (ListSections().count(sec.key) && sec.node.IsSequence() && sec.node.size() > 0) {
      bool block = true;
      for (const auto& item : sec.node) {
        size_t l = static_cast<size_t>(item.Mark().line);
        // An item written "-" alone on its line, its keys below.
        if (l > begin + 1 && l - 1 < lines.size()) {
          std::string prev = lines[l - 1];
          prev.erase(std::remove(prev.begin(), prev.end(), ' '), prev.end());
          if (prev == "-") --l;
        }
        if (l <= begin || l >= end || (!starts.empty() && l <= starts.back())) block = false;
        starts.push_back(l);
      }
      if (!block) starts.clear();
    }
    if (starts.empty()) {
      auto err = ParseSection(sec.key, path, KeepLines(lines, [&](size_t i) { return i >= begin && i < end; }));
      if (err) add(sec.mark, Positioned(*err, path, sec.mark));
      continue;
    }
    for (size_t j = 0; j < starts.size(); ++j) {
      const size_t from = starts[j], to = j + 1 < starts.size() ? starts[j + 1] : end;
      auto err = ParseSection(sec.key, path, KeepLines(lines, [&](size_t i) { return i == begin || (i >= from && i < to); }));
      if (err) add(sec.node[j].Mark(), Positioned(*err, path, sec.node[j].Mark()));
    }
  }

  std::vector<std::pair<YAML::Mark, std::string>> cross;
  CrossCheck(root, Collect(root), cross);
  for (auto& [m, msg] : cross) add(m, YamlAt(path, m) + msg);

  // Whatever only the whole file shows (the parsers' own checks across items).
  if (errors.empty()) {
    const std::string all(text);
    for (const char* key : {"crawlers", "jobs", "streams", "rules", "workgroups"}) {
      if (auto err = ParseSection(key, path, all)) add(root.Mark(), Positioned(*err, path, root.Mark()));
    }
  }
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return a.first.line != b.first.line ? a.first.line < b.first.line : a.first.column < b.first.column;
  });
  std::vector<std::string> out;
  for (auto& e : errors) out.push_back(std::move(e.second));
  return out;
}

Result<Pipeline> ReadPipeline(std::string_view path, std::string_view text) {
  Pipeline p{std::string(path), std::string(text), {}};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
    for (Declared& d : Collect(root)) p.resources.push_back(std::move(d.resource));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(YamlAt(path, e.mark) + e.msg);
  }
  SortResources(p.resources);
  return p;
}

Result<Pipeline> LoadPipeline(std::string_view path, std::string_view text) {
  std::vector<std::string> errors = ValidatePipeline(path, text);
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    return Status::InvalidArgument(msg);
  }
  return ReadPipeline(path, text);
}

std::string_view ChangeActionName(ChangeAction a) {
  switch (a) {
    case ChangeAction::kAdd: return "add";
    case ChangeAction::kModify: return "modify";
    case ChangeAction::kRemove: return "remove";
  }
  return "?";
}

int ChangeSet::Count(ChangeAction a) const {
  return static_cast<int>(std::count_if(changes.begin(), changes.end(), [a](const Change& c) { return c.action == a; }));
}

std::string ChangeSet::ToText() const {
  std::string out = "Change set: " + std::to_string(Count(ChangeAction::kAdd)) + " to add, " +
                    std::to_string(Count(ChangeAction::kModify)) + " to modify, " +
                    std::to_string(Count(ChangeAction::kRemove)) + " to remove\n";
  for (const Change& c : changes) {
    const char* sign = c.action == ChangeAction::kAdd ? "+" : c.action == ChangeAction::kModify ? "~" : "-";
    out += std::string(sign) + " " + c.kind + " " + c.name + "\n";
    if (c.action == ChangeAction::kRemove) continue;
    for (const FieldChange& f : c.fields) {
      if (c.action == ChangeAction::kAdd) {
        out += "    " + f.field + ": " + f.after.value_or("") + "\n";
      } else {
        out += "    " + f.field + ": " + (f.before ? *f.before : "(none)") + " -> " + (f.after ? *f.after : "(none)") + "\n";
      }
    }
  }
  return out;
}

std::string ChangeSet::ToJson() const {
  nlohmann::json j;
  j["summary"] = {{"add", Count(ChangeAction::kAdd)},
                  {"modify", Count(ChangeAction::kModify)},
                  {"remove", Count(ChangeAction::kRemove)}};
  j["changes"] = nlohmann::json::array();
  for (const Change& c : changes) {
    nlohmann::json fields = nlohmann::json::array();
    for (const FieldChange& f : c.fields) {
      fields.push_back({{"field", f.field},
                        {"before", f.before ? nlohmann::json(*f.before) : nlohmann::json()},
                        {"after", f.after ? nlohmann::json(*f.after) : nlohmann::json()}});
    }
    j["changes"].push_back({{"action", ChangeActionName(c.action)}, {"kind", c.kind}, {"name", c.name}, {"fields", fields}});
  }
  return j.dump(2);
}

ChangeSet Diff(const Pipeline& deployed, const Pipeline& next) {
  ChangeSet cs;
  for (const Resource& r : next.resources) {
    const Resource* old = deployed.Find(r.kind, r.name);
    Change c{old ? ChangeAction::kModify : ChangeAction::kAdd, r.kind, r.name, {}};
    if (!old) {
      for (const auto& [k, v] : r.fields) c.fields.push_back({k, std::nullopt, v});
      cs.changes.push_back(std::move(c));
      continue;
    }
    std::set<std::string> keys;
    for (const auto& [k, v] : r.fields) keys.insert(k);
    for (const auto& [k, v] : old->fields) keys.insert(k);
    for (const std::string& k : keys) {
      auto a = old->fields.find(k), b = r.fields.find(k);
      std::optional<std::string> before, after;
      if (a != old->fields.end()) before = a->second;
      if (b != r.fields.end()) after = b->second;
      if (before != after) c.fields.push_back({k, before, after});
    }
    if (!c.fields.empty()) cs.changes.push_back(std::move(c));
  }
  for (const Resource& r : deployed.resources) {
    if (next.Find(r.kind, r.name)) continue;
    Change c{ChangeAction::kRemove, r.kind, r.name, {}};
    for (const auto& [k, v] : r.fields) c.fields.push_back({k, v, std::nullopt});
    cs.changes.push_back(std::move(c));
  }
  std::stable_sort(cs.changes.begin(), cs.changes.end(), [](const Change& a, const Change& b) {
    int ka = KindRank(a.kind), kb = KindRank(b.kind);
    return ka != kb ? ka < kb : a.name < b.name;
  });
  return cs;
}

}  // namespace saleslake::stack
