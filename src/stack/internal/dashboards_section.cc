#include "stack/internal/dashboards_section.h"

#include <nlohmann/json.hpp>

#include "common/yaml.h"
#include "stack/dashboard.h"

namespace saleslake::stack::internal {
namespace {

std::string KeyOf(const std::string& name) { return "dashboards/" + name + ".json"; }

// Where a definition's text starts in the file. A literal block scalar (`definition: |`) keeps
// its lines, each indented alike, so positions inside the JSON map to the file's lines; any other
// scalar is placed at its own mark.
TextOrigin OriginOf(const YAML::Node& n, const std::vector<std::string>& lines) {
  const YAML::Mark m = n.Mark();
  const size_t line = static_cast<size_t>(m.line), col = static_cast<size_t>(m.column);
  if (line < lines.size() && col < lines[line].size() && lines[line][col] == '|') {
    for (size_t l = line + 1; l < lines.size(); ++l) {
      const size_t indent = lines[l].find_first_not_of(' ');
      if (indent == std::string::npos) continue;  // blank lines inside the block
      return {line + 2, indent};
    }
  }
  return {line + 1, col};
}

void FieldsOf(const nlohmann::json& v, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) FieldsOf(child, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  if (v.is_array()) {
    // Tiles are named by their ids, so a moved tile is one change of the order, not of each field.
    const bool by_id = !v.empty() && std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) {
      return e.is_object() && e.contains("id") && e["id"].is_string();
    });
    const bool scalars = std::none_of(v.begin(), v.end(), [](const nlohmann::json& e) { return e.is_structured(); });
    if (by_id || scalars) {
      std::string list = "[";
      for (const auto& e : v) {
        list += (list.size() > 1 ? ", " : "");
        list += by_id ? e["id"].get<std::string>() : e.is_string() ? e.get<std::string>() : e.dump();
      }
      out[prefix] = list + "]";
    }
    for (size_t i = 0; i < v.size() && !scalars; ++i) {
      nlohmann::json e = v[i];
      if (!by_id) {
        FieldsOf(e, prefix + "[" + std::to_string(i) + "]", out);
        continue;
      }
      const std::string id = e["id"].get<std::string>();
      e.erase("id");
      FieldsOf(e, prefix + "." + id, out);
    }
    return;
  }
  out[prefix] = v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::vector<DashboardSpec> ReadDashboardsSection(const YAML::Node& section, std::string_view path,
                                                 const std::vector<std::string>& lines,
                                                 std::vector<std::string>* errors) {
  std::vector<DashboardSpec> out;
  if (!section || section.IsNull()) return out;
  if (!section.IsSequence()) {
    errors->push_back(YamlAt(path, section.Mark()) + "dashboards: must be a list of - name: and definition:");
    return out;
  }
  for (const auto& item : section) {
    if (!item.IsMap()) {
      errors->push_back(YamlAt(path, item.Mark()) + "a dashboard is a mapping with name: and definition:");
      continue;
    }
    const YAML::Node name = item["name"];
    if (!name || !name.IsScalar() || !ValidDashboardId(name.Scalar())) {
      errors->push_back(YamlAt(path, name ? name.Mark() : item.Mark()) +
                        "every dashboard needs a name (its id: 1-64 of a-z 0-9 _ -, starting with a letter or digit)");
      continue;
    }
    const std::string what = "dashboard '" + name.Scalar() + "': ";
    for (const YamlProblem& p : UnknownKeys(item, {"name", "definition"}))
      errors->push_back(YamlAt(path, p.mark) + what + p.message);
    const YAML::Node def = item["definition"];
    if (!def || !def.IsScalar()) {
      errors->push_back(YamlAt(path, def ? def.Mark() : item.Mark()) + what +
                        "the definition is the dashboard's JSON text (a block scalar: `definition: |` and the JSON below)");
      continue;
    }
    // Checked as the console checks a save, positions counted in this file.
    auto parsed = ParseDashboard(def.Scalar(), path, TileSqlIsAQuery, OriginOf(def, lines));
    if (!parsed.ok()) {
      std::string msg = parsed.status().message();
      // "path:L:C: why" -> "path:L:C: dashboard 'x': why"
      const size_t cut = msg.find(": ", path.size() + 1);
      errors->push_back(cut == std::string::npos ? msg : msg.substr(0, cut + 2) + what + msg.substr(cut + 2));
      continue;
    }
    std::string text = def.Scalar();
    if (text.empty() || text.back() != '\n') text += '\n';
    out.push_back({name.Scalar(), std::move(text)});
  }
  return out;
}

std::map<std::string, std::string> DashboardFields(std::string_view definition) {
  std::map<std::string, std::string> out;
  const nlohmann::json doc = nlohmann::json::parse(definition, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    out["definition"] = std::string(definition);
    return out;
  }
  FieldsOf(doc, "", out);
  return out;
}

std::vector<DashboardSpec> DashboardsOf(std::string_view text) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap() || !root["dashboards"]) return {};
    std::vector<std::string> errors;
    return ReadDashboardsSection(root["dashboards"], "pipeline.yaml", {}, &errors);
  } catch (const YAML::Exception&) {
    return {};
  }
}

Status ApplyDashboards(io::ObjectStore& lake, const std::vector<DashboardSpec>& previous,
                       const std::vector<DashboardSpec>& next, std::vector<std::string>* notices) {
  auto find = [](const std::vector<DashboardSpec>& v, const std::string& name) -> const DashboardSpec* {
    for (const DashboardSpec& d : v)
      if (d.name == name) return &d;
    return nullptr;
  };
  auto current = [&](const std::string& key) -> Result<std::optional<std::string>> {
    auto got = lake.Get(key);
    if (got.ok()) return std::optional<std::string>(std::move(*got));
    if (got.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return got.status();
  };
  for (const DashboardSpec& d : next) {
    const std::string key = KeyOf(d.name);
    SL_ASSIGN_OR_RETURN(std::optional<std::string> now, current(key));
    if (now && *now == d.definition) continue;
    const DashboardSpec* before = find(previous, d.name);
    if (now && (!before || *now != before->definition))
      notices->push_back("dashboard " + d.name + ": " + key +
                         (before ? " was changed in the console since the last deploy" : " existed before this file declared it") +
                         "; replaced by the file's definition");
    SL_RETURN_IF_ERROR(lake.Put(key, d.definition).WithContext(key));
  }
  for (const DashboardSpec& d : previous) {
    if (find(next, d.name)) continue;
    const std::string key = KeyOf(d.name);
    SL_ASSIGN_OR_RETURN(std::optional<std::string> now, current(key));
    if (!now) continue;
    if (*now != d.definition) {
      notices->push_back("dashboard " + d.name + ": no longer declared, but kept: " + key +
                         " was changed in the console since the last deploy");
      continue;
    }
    SL_RETURN_IF_ERROR(lake.Delete(key).WithContext(key));
  }
  return Status::OK();
}

}  // namespace saleslake::stack::internal
