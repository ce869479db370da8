// The job bookmark's plan: content identity decides what a run loads, replaces or refuses.
#include "etl/internal/bookmark.h"

#include <gtest/gtest.h>

namespace saleslake::etl::internal {
namespace {

catalog::DataFile File(std::string key, std::string sha, std::string etag = "e") {
  catalog::DataFile f;
  f.key = std::move(key);
  f.sha256 = std::move(sha);
  f.etag = std::move(etag);
  return f;
}

std::vector<FileAction> Actions(const LoadPlan& p) {
  std::vector<FileAction> a;
  for (const auto& f : p.files) a.push_back(f.action);
  return a;
}

TEST(Bookmark, ParsesBothFormatsAndRoundTrips) {
  auto empty = Bookmark::Parse("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->loaded.empty());
  auto legacy = Bookmark::Parse(R"({"raw_data/a.csv":"10-20-30"})");
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->legacy.at("raw_data/a.csv"), "10-20-30");
  Bookmark b;
  b.loaded["s1"] = "raw_data/a.csv";
  b.legacy["raw_data/old.csv"] = "1-2-3";
  auto back = Bookmark::Parse(b.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->loaded, b.loaded);
  EXPECT_EQ(back->legacy, b.legacy);
  for (const char* bad : {"[1]", "{\"format\":3}", "{\"a\":1}", "not json", "{\"format\":2,\"loaded\":[]}"})
    EXPECT_EQ(Bookmark::Parse(bad).status().code(), StatusCode::kCorruption) << bad;
}

TEST(Bookmark, NewUnchangedAndRenamedByContent) {
  Bookmark b;
  b.loaded["s1"] = "raw_data/a.csv";
  auto plan = PlanLoad(b, {File("raw_data/renamed.csv", "s1"), File("raw_data/b.csv", "s2")}, {"s1"}, false);
  EXPECT_EQ(Actions(plan), (std::vector<FileAction>{FileAction::kUnchanged, FileAction::kNew}));
  EXPECT_EQ(plan.next.loaded.at("s1"), "raw_data/renamed.csv");
  EXPECT_EQ(plan.next.loaded.at("s2"), "raw_data/b.csv");
  EXPECT_TRUE(plan.replaced.empty());
}

TEST(Bookmark, ChangedContentReplacesOrIsRefused) {
  Bookmark b;
  b.loaded["s1"] = "raw_data/a.csv";
  auto plan = PlanLoad(b, {File("raw_data/a.csv", "s9")}, {"s1"}, false);
  ASSERT_EQ(Actions(plan), std::vector<FileAction>{FileAction::kReplace});
  EXPECT_EQ(plan.files[0].old_sha256, "s1");
  EXPECT_EQ(plan.replaced, std::set<std::string>{"s1"});
  EXPECT_FALSE(plan.next.loaded.count("s1"));
  EXPECT_EQ(plan.next.loaded.at("s9"), "raw_data/a.csv");

  auto append_only = PlanLoad(b, {File("raw_data/a.csv", "s9")}, {"s1"}, true);
  ASSERT_EQ(Actions(append_only), std::vector<FileAction>{FileAction::kRefuse});
  EXPECT_NE(append_only.files[0].reason.find("append_only"), std::string::npos);
  EXPECT_EQ(append_only.next.loaded, b.loaded);  // refused again next time

  // Rows that are not tagged with their source cannot be replaced: refused, never doubled.
  auto untagged = PlanLoad(b, {File("raw_data/a.csv", "s9")}, {}, false);
  ASSERT_EQ(Actions(untagged), std::vector<FileAction>{FileAction::kRefuse});
}

TEST(Bookmark, ContentOfAReplacedKeyHeldElsewhereIsLoadedAgain) {
  Bookmark b;
  b.loaded["s1"] = "raw_data/a.csv";
  // copy.csv holds a's old content (it was skipped as a duplicate); a.csv changes.
  auto plan = PlanLoad(b, {File("raw_data/a.csv", "s2"), File("raw_data/copy.csv", "s1")}, {"s1"}, false);
  EXPECT_EQ(Actions(plan), (std::vector<FileAction>{FileAction::kReplace, FileAction::kNew}));
  EXPECT_EQ(plan.next.loaded.at("s1"), "raw_data/copy.csv");
  EXPECT_EQ(plan.next.loaded.at("s2"), "raw_data/a.csv");
}

TEST(Bookmark, LegacyEntriesAreAdoptedByEtagThenTrackedByContent) {
  auto b = Bookmark::Parse(R"({"raw_data/a.csv":"E1","raw_data/b.csv":"E2"})");
  ASSERT_TRUE(b.ok());
  auto plan = PlanLoad(*b,
                       {File("raw_data/a.csv", "s1", "E1"),   // same etag: adopted
                        File("raw_data/b.csv", "s2", "E3"),   // changed, untagged rows: refused
                        File("raw_data/c.csv", "", "E4")},    // not hashed yet: old rule
                       {}, false);
  EXPECT_EQ(Actions(plan), (std::vector<FileAction>{FileAction::kUnchanged, FileAction::kRefuse, FileAction::kNew}));
  EXPECT_EQ(plan.next.loaded.at("s1"), "raw_data/a.csv");
  EXPECT_FALSE(plan.next.legacy.count("raw_data/a.csv"));
  EXPECT_EQ(plan.next.legacy.at("raw_data/c.csv"), "E4");
  EXPECT_EQ(plan.count(FileAction::kNew), 1u);
}

}  // namespace
}  // namespace saleslake::etl::internal
