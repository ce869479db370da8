// The job bookmark: which raw contents earlier runs of a job committed into its target, and the
// plan of what a run does with each source file. Content identity (the sha256 the crawler
// records per raw file) decides; a key or an etag alone never does, so a copied, synced or
// restored lake and a renamed or re-uploaded file load nothing twice.
//
// Stored as the target table property "etl.bookmark.<job>" and published in the same catalog
// commit as the data files, so a run's files and its bookmark become visible together.
//   format 2: {"format":2,"loaded":{"<content id>":"<key last seen with it>",...},"legacy":{...}}
//   (a content id is DataFile::ContentId(): the sha256, plus the partition when there is one)
//   format 1 (before content identity): {"<key>":"<etag>",...}; entries move to `loaded` as
//   the crawler learns their files' hashes.
// Thread safety: plain values.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace saleslake::etl::internal {

struct Bookmark {
  std::map<std::string, std::string> loaded;  // content id -> key
  std::map<std::string, std::string> legacy;  // key -> etag (format 1 entries not yet upgraded)

  // "" is the empty bookmark; kCorruption for text that is neither format.
  static Result<Bookmark> Parse(std::string_view text);
  std::string Encode() const;
};

enum class FileAction { kUnchanged, kNew, kReplace, kRefuse };

struct PlannedFile {
  catalog::DataFile file;
  FileAction action = FileAction::kUnchanged;
  std::string old_sha256;  // kReplace: the content whose rows the run replaces
  std::string reason;      // kRefuse: why
};

struct LoadPlan {
  std::vector<PlannedFile> files;  // in source order
  Bookmark next;                   // the bookmark to commit with the run's files
  std::set<std::string> replaced;  // old contents whose target rows the commit removes
  size_t count(FileAction a) const;
};

// Decides what to do with every file of the source table. `tagged` holds the source_id of
// every target data file: a changed file can only be replaced when its old rows are tagged.
// A loaded key whose content changed is kRefuse under `append_only`, else kReplace.
LoadPlan PlanLoad(const Bookmark& bookmark, const std::vector<catalog::DataFile>& source_files,
                  const std::set<std::string>& tagged, bool append_only);

}  // namespace saleslake::etl::internal
