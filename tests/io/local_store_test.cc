#include "io/local_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "io/internal/local_file.h"
#include "support/test_support.h"

namespace saleslake::io {
namespace {

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = LocalStore::Open(dir_.Join("lake"), /*create=*/true);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  saleslake::testing::TempDir dir_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, PutGetRangeStatDelete) {
  ASSERT_TRUE(store_->Put("raw_data/a.csv", "hello world").ok());
  EXPECT_EQ(*store_->Get("raw_data/a.csv"), "hello world");
  EXPECT_EQ(*store_->GetRange("raw_data/a.csv", 6, 100), "world");
  EXPECT_EQ(*store_->GetRange("raw_data/a.csv", 0, 5), "hello");
  auto info = store_->Stat("raw_data/a.csv");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 11u);
  EXPECT_TRUE(*store_->Exists("raw_data/a.csv"));
  ASSERT_TRUE(store_->Put("raw_data/a.csv", "v2").ok());  // replace
  EXPECT_EQ(*store_->Get("raw_data/a.csv"), "v2");
  EXPECT_NE(store_->Stat("raw_data/a.csv")->etag, info->etag);
  ASSERT_TRUE(store_->Delete("raw_data/a.csv").ok());
  EXPECT_FALSE(*store_->Exists("raw_data/a.csv"));
  EXPECT_EQ(store_->Get("raw_data/a.csv").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("raw_data/a.csv").code(), StatusCode::kNotFound);
}

TEST_F(LocalStoreTest, ListIsRecursiveSortedAndFiltered) {
  for (const char* k : {"b/2", "a/x/1", "a/1", "a/0", "ab", "c"}) ASSERT_TRUE(store_->Put(k, k).ok());
  auto all = store_->List("");
  ASSERT_TRUE(all.ok());
  std::vector<std::string> keys;
  for (auto& o : *all) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a/0", "a/1", "a/x/1", "ab", "b/2", "c"}));
  auto under_a = store_->List("a/");
  ASSERT_TRUE(under_a.ok());
  ASSERT_EQ(under_a->size(), 3u);
  EXPECT_EQ((*under_a)[2].key, "a/x/1");
  auto prefix_a = store_->List("a");  // a plain prefix matches "ab" too
  EXPECT_EQ(prefix_a->size(), 4u);
  EXPECT_TRUE(store_->List("nothing/")->empty());
}

TEST_F(LocalStoreTest, EveryEscapeIsRefused) {
  for (std::string bad : {std::string("../x"), std::string("a/../../x"), std::string("/etc/passwd"),
                          std::string("a//b"), std::string("./a"), std::string("a/./b"),
                          std::string("a\\..\\b"), std::string("a\0b", 3), std::string(""),
                          std::string("dir/"), std::string(".tmp-123-x")}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(store_->Put(bad, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Get(bad).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store_->Delete(bad).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(store_->List("../").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List("/").status().code(), StatusCode::kInvalidArgument);
  // A symlink planted inside the lake is not an object and cannot be read through.
  ASSERT_EQ(symlink("/etc/passwd", store_->PathOf("link").c_str()), 0);
  EXPECT_EQ(store_->Get("link").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->List("")->empty());
  EXPECT_NE(ValidateKey("../x").message().find("escape"), std::string::npos);
}

TEST_F(LocalStoreTest, PutIfAbsentHasExactlyOneWinner) {
  constexpr int kThreads = 8;
  std::atomic<int> winners{0}, losers{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Status s = store_->PutIfAbsent("catalog/v1", "writer " + std::to_string(t));
      if (s.ok()) winners++;
      else if (s.code() == StatusCode::kAlreadyExists) losers++;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(losers.load(), kThreads - 1);
  EXPECT_EQ(store_->Get("catalog/v1")->rfind("writer ", 0), 0u);
}

TEST_F(LocalStoreTest, GroupCommitWritesEveryObjectWholeAndLeavesNoTemporary) {
  // Many writers share each syncfs; every Put still returns only after its object is complete
  // under its name, PutIfAbsent keeps exactly one winner, and no temporary stays behind.
  ASSERT_TRUE(store_->EnableGroupCommit().ok());
  ASSERT_TRUE(store_->EnableGroupCommit().ok());  // idempotent
  constexpr int kThreads = 8, kPerThread = 40;
  std::atomic<int> failures{0}, winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "objects/t" + std::to_string(t) + "/o" + std::to_string(i);
        if (!store_->Put(key, key + std::string(static_cast<size_t>(i) * 97, 'x')).ok()) failures++;
      }
      if (store_->PutIfAbsent("catalog/pointer", "writer " + std::to_string(t)).ok()) winners++;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(winners.load(), 1);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string key = "objects/t" + std::to_string(t) + "/o" + std::to_string(i);
      auto got = store_->Get(key);
      ASSERT_TRUE(got.ok()) << key;
      EXPECT_EQ(*got, key + std::string(static_cast<size_t>(i) * 97, 'x'));
    }
  }
  auto listed = store_->List("objects/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), static_cast<size_t>(kThreads * kPerThread));
  for (int t = 0; t < kThreads; ++t) {
    std::string dir = dir_.Join("lake/objects/t" + std::to_string(t));
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
    EXPECT_EQ(entries, static_cast<size_t>(kPerThread)) << dir;
  }
}

TEST_F(LocalStoreTest, OpenReadWithInfoDescribesTheFileItOpened) {
  ASSERT_TRUE(store_->Put("raw_data/a.csv", "abc").ok());
  auto opened = store_->OpenReadWithInfo("raw_data/a.csv");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto stat = store_->Stat("raw_data/a.csv");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(opened->info.key, "raw_data/a.csv");
  EXPECT_EQ(opened->info.size, 3u);
  EXPECT_EQ(opened->info.mtime_ns, stat->mtime_ns);
  EXPECT_EQ(opened->info.etag, stat->etag);
  EXPECT_EQ(opened->file->ReadString(0, 3).value(), "abc");
  // Replaced after the open: the info still matches the bytes the open file reads.
  ASSERT_TRUE(store_->Put("raw_data/a.csv", "longer content").ok());
  EXPECT_EQ(opened->info.size, opened->file->size());
  EXPECT_EQ(opened->file->ReadString(0, 3).value(), "abc");
  // What OpenRead refuses, this refuses too, as NotFound: a folder, a symbolic link (even to a
  // file of the lake), a FIFO (without blocking on it), a missing key, a path through a file.
  ASSERT_TRUE(store_->MakeDir("raw_data/sub/").ok());
  ASSERT_EQ(symlink(dir_.Join("lake/raw_data/a.csv").c_str(), dir_.Join("lake/raw_data/link.csv").c_str()), 0);
  ASSERT_EQ(mkfifo(dir_.Join("lake/raw_data/fifo").c_str(), 0600), 0);
  for (const char* key : {"raw_data/sub", "raw_data/link.csv", "raw_data/fifo", "raw_data/none",
                          "raw_data/a.csv/x"}) {
    EXPECT_EQ(store_->OpenReadWithInfo(key).status().code(), StatusCode::kNotFound) << key;
    EXPECT_EQ(store_->OpenRead(key).status().code(), StatusCode::kNotFound) << key;
  }
  EXPECT_EQ(store_->OpenReadWithInfo("../x").status().code(), StatusCode::kInvalidArgument);
}

// A GET leaves the object's access time alone: under relatime the first read after a write
// would move it (and dirty the inode for the next sync).
TEST_F(LocalStoreTest, OpenReadWithInfoLeavesTheAccessTime) {
  ASSERT_TRUE(store_->Put("raw_data/t.csv", "abc").ok());
  const std::string path = dir_.Join("lake/raw_data/t.csv");
  // An access time a day before the modification: relatime updates it on the next read.
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  struct timespec times[2] = {st.st_mtim, st.st_mtim};
  times[0].tv_sec -= 86400;
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  auto opened = store_->OpenReadWithInfo("raw_data/t.csv");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->file->ReadString(0, 3).value(), "abc");
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, times[0].tv_sec);
  EXPECT_EQ(st.st_atim.tv_nsec, times[0].tv_nsec);
}

// The server's GETs send a range of a file once: a large file is read with pread, not mapped
// (a mapping's munmap interrupts every core running the server's threads), while OpenRead
// still maps it for the engine's scans.
TEST_F(LocalStoreTest, OpenReadWithInfoReadsALargeFileWithoutMappingIt) {
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 4096);
  ASSERT_TRUE(store_->Put("processed_data/big.parquet", data).ok());
  auto opened = store_->OpenReadWithInfo("processed_data/big.parquet");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->file->mapped_data(), nullptr);
  EXPECT_EQ(opened->info.size, data.size());
  EXPECT_EQ(opened->file->ReadString(300000, 5000).value(), data.substr(300000, 5000));
  EXPECT_EQ(opened->file->ReadString(0, data.size()).value(), data);
  auto mapped = store_->OpenRead("processed_data/big.parquet");
  ASSERT_TRUE(mapped.ok());
  EXPECT_NE((*mapped)->mapped_data(), nullptr);
}

TEST_F(LocalStoreTest, UncommittedStreamLeavesNothing) {
  {
    auto out = store_->OpenWrite("processed_data/part-1.parquet");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Append(std::string(3 << 20, 'x')).ok());
    EXPECT_TRUE(store_->List("")->empty());  // temporaries are never listed
  }  // destroyed without Commit
  EXPECT_FALSE(*store_->Exists("processed_data/part-1.parquet"));
  auto out = store_->OpenWrite("processed_data/part-1.parquet");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Append("abc").ok());
  ASSERT_TRUE((*out)->Append("def").ok());
  EXPECT_EQ((*out)->bytes_written(), 6u);
  ASSERT_TRUE((*out)->Commit().ok());
  EXPECT_EQ(*store_->Get("processed_data/part-1.parquet"), "abcdef");
}

TEST_F(LocalStoreTest, UnsyncedWriteIsAtomicAndSyncsNothing) {
  // A synced stream pays for its file and its folder; an unsynced one for neither, yet appears
  // only at Commit, whole, and leaves no temporary behind.
  const uint64_t before = internal::SyncCalls();
  {
    auto out = store_->OpenWrite("athena_results/a.csv");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Append("x").ok());
    ASSERT_TRUE((*out)->Commit().ok());
  }
  EXPECT_GE(internal::SyncCalls() - before, 2u);
  const uint64_t synced = internal::SyncCalls();
  auto out = store_->OpenWriteUnsynced("athena_results/b.csv");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Append("\"a\"\n").ok());
  EXPECT_FALSE(*store_->Exists("athena_results/b.csv"));
  ASSERT_TRUE((*out)->Commit().ok());
  EXPECT_EQ(internal::SyncCalls(), synced);
  EXPECT_EQ(*store_->Get("athena_results/b.csv"), "\"a\"\n");
  auto listed = store_->List("athena_results/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
  // Keys are checked as for every write.
  EXPECT_EQ(store_->OpenWriteUnsynced("../escape").status().code(), StatusCode::kInvalidArgument);
}

// A write that makes folders (a new partition) syncs each new folder into its parent once:
// the commit syncs the file and its own folder only, so after a machine crash the new folder,
// and the committed file in it, could be gone.
TEST_F(LocalStoreTest, ANewFolderIsSyncedIntoItsParent) {
  auto write = [&](const std::string& key) {
    const uint64_t before = internal::SyncCalls();
    auto out = store_->OpenWrite(key);
    EXPECT_TRUE(out.ok());
    if (!out.ok()) return uint64_t{0};
    EXPECT_TRUE((*out)->Append("x").ok());
    EXPECT_TRUE((*out)->Commit().ok());
    return internal::SyncCalls() - before;
  };
  const uint64_t first = write("processed_data/t/month=2025-03/part-1.parquet");  // makes three folders
  const uint64_t second = write("processed_data/t/month=2025-03/part-2.parquet");
  EXPECT_EQ(first - second, 3u) << first << " syncs, then " << second;
}

TEST_F(LocalStoreTest, SyncMakesAnUnsyncedObjectDurableLater) {
  // Sync pays the file's and the folder's fsync that the unsynced write skipped; the content is
  // untouched. Absent keys are kNotFound, bad keys kInvalidArgument, as for every call.
  auto out = store_->OpenWriteUnsynced("processed_data/t/part-1.parquet");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Append("data").ok());
  ASSERT_TRUE((*out)->Commit().ok());
  const uint64_t before = internal::SyncCalls();
  ASSERT_TRUE(store_->Sync("processed_data/t/part-1.parquet").ok());
  EXPECT_EQ(internal::SyncCalls() - before, 2u);
  EXPECT_EQ(*store_->Get("processed_data/t/part-1.parquet"), "data");
  EXPECT_EQ(store_->Sync("processed_data/t/none.parquet").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Sync("../escape").code(), StatusCode::kInvalidArgument);
}

TEST_F(LocalStoreTest, ConcurrentReaderNeverSeesAPartialObject) {
  // Two distinct 4 MB objects alternate under one key while a reader polls it: every read must
  // be one of the two, whole.
  const std::string a(4 << 20, 'a'), b(4 << 20, 'b');
  ASSERT_TRUE(store_->Put("k", a).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread reader([&] {
    while (!stop) {
      auto v = store_->Get("k");
      if (!v.ok() || (*v != a && *v != b)) bad++;
      reads++;
    }
  });
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(store_->Put("k", i % 2 ? a : b).ok());
  while (reads.load() < 5) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(LocalStoreTest, CleanupRemovesOnlyOldTemporaries) {
  std::string tmp = store_->PathOf("raw_data/.tmp-dead-file");
  ASSERT_TRUE(store_->MakeDir("raw_data/").ok());
  saleslake::testing::WriteFile(tmp, "partial");
  ASSERT_TRUE(store_->Put("raw_data/kept.csv", "x").ok());
  ASSERT_TRUE(store_->RemoveTemporaries("", 3600).ok());
  struct stat st;
  EXPECT_EQ(stat(tmp.c_str(), &st), 0);  // too young
  ASSERT_TRUE(store_->RemoveTemporaries("raw_data/", -10).ok());
  EXPECT_NE(stat(tmp.c_str(), &st), 0);
  EXPECT_TRUE(*store_->Exists("raw_data/kept.csv"));
}

TEST(LocalStoreOpenTest, MissingLakeIsAClearError) {
  saleslake::testing::TempDir dir;
  auto s = LocalStore::Open(dir.Join("nope"), /*create=*/false);
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("saleslake init"), std::string::npos);
  saleslake::testing::WriteFile(dir.Join("file"), "x");
  EXPECT_FALSE(LocalStore::Open(dir.Join("file"), false).ok());
}

TEST(LocalFileTest, ReadsAndBounds) {
  saleslake::testing::TempDir dir;
  ASSERT_TRUE(WriteLocalFileAtomic(dir.Join("f"), "0123456789").ok());
  auto f = OpenLocalFile(dir.Join("f"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->size(), 10u);
  EXPECT_EQ(*(*f)->ReadString(3, 4), "3456");
  EXPECT_EQ((*f)->ReadString(8, 4).status().code(), StatusCode::kIOError);
  EXPECT_EQ(OpenLocalFile(dir.Join("missing")).status().code(), StatusCode::kNotFound);
  auto m = MakeMemoryFile("abc");
  EXPECT_EQ(*m->ReadString(1, 2), "bc");
  EXPECT_FALSE(m->ReadString(2, 5).ok());
}

// `query --output /dev/null` once replaced the machine's /dev/null with a regular file (a temp
// file renamed over it). A FIFO stands in for the device here: written in place, it stays a FIFO,
// and no temp file is left beside it.
TEST(LocalFileTest, AnOutputThatIsNotARegularFileIsWrittenInPlace) {
  saleslake::testing::TempDir dir;
  const std::string fifo = dir.Join("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // The read end opened first, without blocking, so that the writer's open does not wait; what
  // was written is read after the writer closed (a few bytes: the pipe's buffer holds them).
  const int read_end = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(read_end, 0);
  {
    auto out = OpenLocalWrite(fifo);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE((*out)->Append("rows ").ok());
    ASSERT_TRUE((*out)->Append("through a pipe\n").ok());
    ASSERT_TRUE((*out)->Commit().ok());
  }
  std::string got;
  char buf[256];
  for (ssize_t n; (n = read(read_end, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(read_end);
  EXPECT_EQ(got, "rows through a pipe\n");
  struct stat st;
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

// Through a symbolic link the file it names is replaced; the link stays a link.
TEST(LocalFileTest, AnOutputThroughALinkReplacesTheFileItNames) {
  saleslake::testing::TempDir dir;
  saleslake::testing::WriteFile(dir.Join("real.csv"), "old");
  ASSERT_EQ(symlink(dir.Join("real.csv").c_str(), dir.Join("link.csv").c_str()), 0);
  ASSERT_TRUE(WriteLocalFileAtomic(dir.Join("link.csv"), "new").ok());
  EXPECT_TRUE(std::filesystem::is_symlink(dir.Join("link.csv")));
  EXPECT_EQ(*ReadLocalFile(dir.Join("real.csv")), "new");
}

TEST_F(LocalStoreTest, ConcurrentAppendsKeepEveryLineWholeAndOnce) {
  // Group commit: the threads' lines share writes, but each line lands whole, exactly once.
  constexpr int kThreads = 8, kLines = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLines; ++i) {
        std::string line = "t" + std::to_string(t) + "-" + std::to_string(i) + std::string(t * 7, 'x') + "\n";
        if (!store_->Append("_system/log/j.jsonl", line).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto text = store_->Get("_system/log/j.jsonl");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  std::map<std::string, int> seen;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << "the file ends inside a line";
    seen[text->substr(pos, nl - pos)]++;
    pos = nl + 1;
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kThreads * kLines));
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kLines; ++i)
      EXPECT_EQ(seen["t" + std::to_string(t) + "-" + std::to_string(i) + std::string(t * 7, 'x')], 1);
}

TEST_F(LocalStoreTest, AppendClosesATornLastLineFirst) {
  // A crash mid-write left half a line: the next line must not be glued to it.
  ASSERT_TRUE(store_->Append("j.jsonl", "{\"a\":1}\n").ok());
  std::string path = store_->PathOf("j.jsonl");
  FILE* f = std::fopen(path.c_str(), "a");
  ASSERT_NE(f, nullptr);
  std::fputs("{\"torn", f);
  std::fclose(f);
  ASSERT_TRUE(store_->Append("j.jsonl", "{\"b\":2}\n").ok());
  EXPECT_EQ(*store_->Get("j.jsonl"), "{\"a\":1}\n{\"torn\n{\"b\":2}\n");
  // Bytes that are not lines are appended as they are.
  ASSERT_TRUE(store_->Append("raw.bin", "ab").ok());
  ASSERT_TRUE(store_->Append("raw.bin", "cd").ok());
  EXPECT_EQ(*store_->Get("raw.bin"), "abcd");
}

TEST_F(LocalStoreTest, AnAppendThatFailsHalfWayIsCutOffAgain) {
  // The disk fills in the middle of a batch: the caller gets the error, and none of its bytes
  // stay behind to be read later as records (the caller's retry would add them twice).
  ASSERT_TRUE(store_->Append("j.jsonl", "{\"a\":1}\n").ok());
  Status failed;
  {
    saleslake::testing::FileSizeLimit limit(12);  // 4 bytes of the next line fit
    failed = store_->Append("j.jsonl", "{\"b\":2,\"pad\":\"xxxxxxxx\"}\n");
  }
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(*store_->Get("j.jsonl"), "{\"a\":1}\n");
  ASSERT_TRUE(store_->Append("j.jsonl", "{\"c\":3}\n").ok());
  EXPECT_EQ(*store_->Get("j.jsonl"), "{\"a\":1}\n{\"c\":3}\n");
}

TEST_F(LocalStoreTest, ManyConcurrentAppendersCloseATornLineOnceAndKeepTheirOrder) {
  // A crash left half a line; then 32 threads append at once (batches of many callers, each
  // led by one of them). The torn line is closed exactly once, every line lands whole and once,
  // and each thread's lines keep the order it appended them in.
  std::string path = store_->PathOf("j.jsonl");
  saleslake::testing::WriteFile(path, "{\"a\":1}\n{\"torn");
  constexpr int kThreads = 32, kLines = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLines; ++i)
        if (!store_->Append("j.jsonl", "t" + std::to_string(t) + " " + std::to_string(i) + "\n").ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto text = store_->Get("j.jsonl");
  ASSERT_TRUE(text.ok());
  std::string head = "{\"a\":1}\n{\"torn\n";
  ASSERT_EQ(text->substr(0, head.size()), head);
  std::vector<int> next(kThreads, 0);
  size_t pos = head.size(), lines = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << "the file ends inside a line";
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(text->c_str() + pos, "t%d %d", &t, &i), 2) << text->substr(pos, nl - pos);
    ASSERT_TRUE(t >= 0 && t < kThreads);
    EXPECT_EQ(i, next[t]++) << "thread " << t;
    pos = nl + 1;
    ++lines;
  }
  EXPECT_EQ(lines, static_cast<size_t>(kThreads * kLines));
}

TEST(LocalFileTest, SmallFilesAreReadWholeAndLargeOnesMapped) {
  // Both kinds answer the same reads; only the way they are read differs (no mapping for a few
  // pages, whose munmap would interrupt every core).
  saleslake::testing::TempDir dir;
  // Files up to 256 KiB (the files of an incremental load: 18-115 KB) are not mapped.
  for (size_t size : {size_t{0}, size_t{1}, (size_t{64} << 10) + 1, size_t{256} << 10, (size_t{256} << 10) + 1}) {
    std::string content(size, '\0');
    for (size_t i = 0; i < size; ++i) content[i] = static_cast<char>('a' + i % 23);
    ASSERT_TRUE(WriteLocalFileAtomic(dir.Join("f"), content).ok());
    const uint64_t maps = internal::MapCalls();
    auto f = OpenLocalFile(dir.Join("f"));
    ASSERT_TRUE(f.ok()) << size;
    EXPECT_EQ(internal::MapCalls() - maps, size > (size_t{256} << 10) ? 1u : 0u) << size;
    ASSERT_EQ((*f)->size(), size);
    EXPECT_EQ(*(*f)->ReadString(0, size), content);
    if (size > 0) {
      ASSERT_NE((*f)->mapped_data(), nullptr);
      EXPECT_EQ(std::string_view(reinterpret_cast<const char*>((*f)->mapped_data()), size), content);
    }
    EXPECT_FALSE((*f)->ReadString(size, 1).ok());
  }
}

TEST(LocalFileTest, DoneWithKeepsMappedBytesReadable) {
  // Dropping pages of a read-only mapping is only a hint: the bytes read back unchanged.
  saleslake::testing::TempDir dir;
  std::string content;
  for (int i = 0; i < 100000; ++i) content += static_cast<char>('a' + i % 26);
  ASSERT_TRUE(WriteLocalFileAtomic(dir.Join("big"), content).ok());
  auto f = OpenLocalFile(dir.Join("big"));
  ASSERT_TRUE(f.ok());
  ASSERT_NE((*f)->mapped_data(), nullptr);
  std::string_view mapped(reinterpret_cast<const char*>((*f)->mapped_data()), (*f)->size());
  EXPECT_EQ(mapped, content);
  (*f)->DoneWith(0, content.size());
  (*f)->DoneWith(5000, 1);
  (*f)->DoneWith(content.size() + 10, 10);  // past the end: ignored
  EXPECT_EQ(mapped, content);
  EXPECT_EQ(*(*f)->ReadString(70000, 26), content.substr(70000, 26));
}

uint64_t RssFileKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("RssFile:", 0) == 0) return std::strtoull(line.c_str() + 8, nullptr, 10);
  }
  return 0;
}

TEST(LocalFileTest, ReadAtOfAMappedFileLeavesItsPagesUnmapped) {
  // ReadAt copies with pread: reading a mapped file whole through it does not fault the mapping's
  // pages into the process (a Parquet scan reads compressed column chunks this way, so a warm
  // repeat neither keeps them resident nor faults them in again).
  if (RssFileKb() == 0) GTEST_SKIP() << "no RssFile in /proc/self/status";
  saleslake::testing::TempDir dir;
  std::string content(size_t{16} << 20, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + (i * 7919) % 26);
  ASSERT_TRUE(WriteLocalFileAtomic(dir.Join("big"), content).ok());
  auto f = OpenLocalFile(dir.Join("big"));
  ASSERT_TRUE(f.ok());
  ASSERT_NE((*f)->mapped_data(), nullptr);
  std::string buf(size_t{1} << 20, '\0');
  const uint64_t before = RssFileKb();
  for (size_t off = 0; off < content.size(); off += buf.size()) {
    ASSERT_TRUE((*f)->ReadAt(off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), buf.size())).ok());
    ASSERT_EQ(buf, content.substr(off, buf.size())) << off;
  }
  const uint64_t after = RssFileKb();
  EXPECT_LT(after > before ? after - before : 0, (content.size() >> 10) / 4) << "RssFile " << before << " -> " << after << " KB";
}

}  // namespace
}  // namespace saleslake::io
