#include "etl/internal/bookmark.h"

#include <nlohmann/json.hpp>

namespace saleslake::etl::internal {

Result<Bookmark> Bookmark::Parse(std::string_view text) {
  Bookmark b;
  if (text.empty()) return b;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto strings = [](const nlohmann::json& o, std::map<std::string, std::string>& out) {
    if (!o.is_object()) return false;
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (!it.value().is_string()) return false;
      out[it.key()] = it.value().get<std::string>();
    }
    return true;
  };
  bool ok = j.is_object();
  if (ok && j.contains("format") && j["format"].is_number_integer()) {
    ok = j["format"].get<int>() == 2 && strings(j.value("loaded", nlohmann::json::object()), b.loaded) &&
         strings(j.value("legacy", nlohmann::json::object()), b.legacy);
  } else if (ok) {
    ok = strings(j, b.legacy);
  }
  if (!ok) return Status::Corruption("unreadable job bookmark: " + std::string(text.substr(0, 200)));
  return b;
}

std::string Bookmark::Encode() const {
  nlohmann::ordered_json j;
  j["format"] = 2;
  j["loaded"] = loaded;
  if (!legacy.empty()) j["legacy"] = legacy;
  return j.dump();
}

size_t LoadPlan::count(FileAction a) const {
  size_t n = 0;
  for (const PlannedFile& f : files) n += f.action == a;
  return n;
}

LoadPlan PlanLoad(const Bookmark& bookmark, const std::vector<catalog::DataFile>& source_files,
                  const std::set<std::string>& tagged, bool append_only) {
  LoadPlan plan;
  plan.next = bookmark;
  std::map<std::string, std::string> key_to_sha;
  for (const auto& [sha, key] : bookmark.loaded) key_to_sha[key] = sha;
  for (const catalog::DataFile& f : source_files) {
    PlannedFile p{.file = f};
    const std::string id = f.ContentId();
    auto legacy = bookmark.legacy.find(f.key);
    if (id.empty()) {
      // Crawled before content identity: the old rule until the next crawl hashes it.
      if (legacy == bookmark.legacy.end() || legacy->second != f.etag) {
        p.action = FileAction::kNew;
        plan.next.legacy[f.key] = f.etag;
      }
    } else if (bookmark.loaded.count(id)) {
      plan.next.loaded[id] = f.key;  // a rename moves the name, never the rows
    } else if (legacy != bookmark.legacy.end() && legacy->second == f.etag) {
      plan.next.loaded[id] = f.key;  // loaded by key + etag before: adopt its hash
      plan.next.legacy.erase(f.key);
    } else {
      auto old = key_to_sha.find(f.key);
      bool changed = old != key_to_sha.end() || legacy != bookmark.legacy.end();
      if (!changed) {
        p.action = FileAction::kNew;
        plan.next.loaded[id] = f.key;
      } else if (append_only) {
        p.action = FileAction::kRefuse;
        p.reason = "its content changed after it was loaded and the job is append_only; the table "
                   "keeps the old rows (restore the file, or upload the new content under a new name)";
      } else if (old == key_to_sha.end() || !tagged.count(old->second)) {
        p.action = FileAction::kRefuse;
        p.reason = "its content changed after it was loaded, and the loaded rows are not tagged with "
                   "their source file (loaded by an older saleslake), so they cannot be replaced";
      } else {
        p.action = FileAction::kReplace;
        p.old_sha256 = old->second;
        plan.replaced.insert(old->second);
        plan.next.loaded.erase(old->second);
        plan.next.loaded[id] = f.key;
      }
    }
    plan.files.push_back(std::move(p));
  }
  // Content that a replaced key held is still loaded only if another file holds it: load that
  // file again (its rows go with the replaced ones).
  for (PlannedFile& p : plan.files) {
    const std::string id = p.file.ContentId();
    if (p.action == FileAction::kUnchanged && !id.empty() && plan.replaced.count(id)) {
      p.action = FileAction::kNew;
      plan.next.loaded[id] = p.file.key;
    }
  }
  return plan;
}

}  // namespace saleslake::etl::internal
