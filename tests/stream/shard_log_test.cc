#include "stream/internal/shard_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "stream/internal/codec.h"
#include "support/test_support.h"

namespace saleslake::stream::internal {
namespace {

using saleslake::testing::TempDir;

std::vector<LogEntry> Entries(int n, const std::string& tag, int64_t at = 1000) {
  std::vector<LogEntry> out;
  for (int i = 0; i < n; ++i) out.push_back({"pk" + std::to_string(i), tag + std::to_string(i), at + i});
  return out;
}

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("6789", Crc32c("12345")), 0xE3069283u);
  // RFC 3720 (iSCSI) B.4: 32 zero bytes, 32 0xFF bytes (the 8-byte instruction path).
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 7 + 3);
  for (size_t cut : {1u, 7u, 8u, 9u, 500u, 999u}) {
    EXPECT_EQ(Crc32c(text.substr(cut), Crc32c(text.substr(0, cut))), Crc32c(text)) << cut;
  }
}

TEST(HashKeyTest, SplitsLikeKinesis) {
  // Kinesis's ranges for 4 and 3 shards, as DescribeStream shows them.
  EXPECT_EQ(FormatHashKey(ShardStart(1, 4)), "85070591730234615865843651857942052864");
  EXPECT_EQ(FormatHashKey(ShardEnd(0, 4)), "85070591730234615865843651857942052863");
  EXPECT_EQ(FormatHashKey(ShardEnd(3, 4)), "340282366920938463463374607431768211455");
  EXPECT_EQ(FormatHashKey(ShardStart(1, 3)), "113427455640312821154458202477256070485");
  EXPECT_EQ(FormatHashKey(ShardStart(2, 3)), "226854911280625642308916404954512140970");
  EXPECT_EQ(FormatHashKey(ShardStart(0, 1)), "0");
  EXPECT_EQ(FormatHashKey(ShardEnd(0, 1)), "340282366920938463463374607431768211455");
  for (int n : {1, 2, 3, 4, 7}) {
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(ShardOf(ShardStart(i, n), n), i);
      EXPECT_EQ(ShardOf(ShardEnd(i, n), n), i);
    }
  }
  // MD5("a") = 0cc175b9c0f1b6a831c399e269772661.
  EXPECT_EQ(HashKeyOf("a") >> 120, 0x0c);
  EXPECT_EQ(ParseHashKey("340282366920938463463374607431768211455"), ~HashKey{0});
  EXPECT_FALSE(ParseHashKey("340282366920938463463374607431768211456"));
  EXPECT_FALSE(ParseHashKey("-1"));
  EXPECT_FALSE(ParseHashKey(""));
}

TEST(SequenceTest, DecimalAndIncreasing) {
  EXPECT_EQ(FormatSequence(0), "100000000000000000000");
  EXPECT_LT(FormatSequence(9), FormatSequence(10));
  EXPECT_EQ(ParseSequence(FormatSequence(123456789)), 123456789u);
  EXPECT_FALSE(ParseSequence("12"));
  EXPECT_FALSE(ParseSequence("20000000000000000000x"));
}

TEST(IteratorTest, TamperProof) {
  IteratorState s{"orders", 42, 3, 77, 1000};
  std::string it = EncodeIterator(s, "key-one");
  auto back = DecodeIterator(it, "key-one");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stream, "orders");
  EXPECT_EQ(back->shard, 3);
  EXPECT_EQ(back->ordinal, 77u);
  EXPECT_FALSE(DecodeIterator(it, "key-two"));
  std::string flipped = it;
  flipped[20] = flipped[20] == '0' ? '1' : '0';
  EXPECT_FALSE(DecodeIterator(flipped, "key-one"));
  EXPECT_FALSE(DecodeIterator(it.substr(0, it.size() - 2), "key-one"));
  EXPECT_FALSE(DecodeIterator("zz", "key-one"));
}

TEST(ShardLogTest, AppendReadReopen) {
  TempDir dir;
  {
    auto log = ShardLog::Open(dir.Join("s"), 1 << 10);  // small segments: several files
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    auto a = (*log)->Append(Entries(50, "x"));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a, 0u);
    auto b = (*log)->Append(Entries(50, "y", 5000));
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, 50u);
    EXPECT_EQ((*log)->end_ordinal(), 100u);
    auto r = (*log)->Read(45, 10, 1 << 20);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 10u);
    EXPECT_EQ((*r)[0].data, "x45");
    EXPECT_EQ((*r)[5].data, "y0");
    EXPECT_EQ((*r)[5].partition_key, "pk0");
    EXPECT_EQ((*r)[5].arrival_ms, 5000);
    EXPECT_EQ((*log)->FindByTime(5000), 50u);
  }
  auto log = ShardLog::Open(dir.Join("s"), 1 << 10);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->end_ordinal(), 100u);
  auto all = (*log)->Read(0, 1000, 1 << 20);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 100u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].ordinal, i);
  EXPECT_GT(std::distance(std::filesystem::directory_iterator(dir.Join("s")),
                          std::filesystem::directory_iterator()), 1);  // read across segments
  auto c = (*log)->Append(Entries(1, "z"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, 100u);
}

// The newest segment file of a shard directory.
std::string NewestSegment(const std::string& dir) {
  std::string best;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().string() > best) best = e.path().string();
  }
  return best;
}

TEST(ShardLogTest, TornTailIsTruncated) {
  TempDir dir;
  {
    auto log = ShardLog::Open(dir.Join("s"), 1 << 20);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append(Entries(10, "x")).ok());
  }
  std::string seg = NewestSegment(dir.Join("s"));
  const auto good = std::filesystem::file_size(seg);
  // A crash mid-write: half a frame, then garbage.
  {
    int fd = ::open(seg.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    std::string torn = "\x40\x00\x00\x00\x12\x34";
    ASSERT_EQ(::write(fd, torn.data(), torn.size()), static_cast<ssize_t>(torn.size()));
    ::close(fd);
  }
  {
    auto log = ShardLog::Open(dir.Join("s"), 1 << 20);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->end_ordinal(), 10u);
    EXPECT_EQ(std::filesystem::file_size(seg), good);
    auto next = (*log)->Append(Entries(1, "after"));
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, 10u);
  }
  // A flipped byte inside the last record: its CRC fails, so it is cut as a torn tail.
  {
    int fd = ::open(seg.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const auto size = std::filesystem::file_size(seg);
    char c;
    ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(size - 1)), 1);
    c ^= 0x55;
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(size - 1)), 1);
    ::close(fd);
  }
  auto log = ShardLog::Open(dir.Join("s"), 1 << 20);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->end_ordinal(), 10u);
  auto all = (*log)->Read(0, 100, 1 << 20);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 10u);
  EXPECT_EQ(all->back().data, "x9");
}

TEST(ShardLogTest, DamageBeforeTheTailIsCorruption) {
  TempDir dir;
  {
    auto log = ShardLog::Open(dir.Join("s"), 256);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*log)->Append(Entries(5, "x")).ok());
  }
  std::string first = dir.Join("s/00000000000000000000.log");
  int fd = ::open(first.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c = 0x7f;
  ASSERT_EQ(::pwrite(fd, &c, 1, 12), 1);
  ::close(fd);
  auto log = ShardLog::Open(dir.Join("s"), 256);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
}

TEST(ShardLogTest, ConcurrentAppendsShareOrderAndLoseNothing) {
  TempDir dir;
  auto log = ShardLog::Open(dir.Join("s"), 1 << 16);
  ASSERT_TRUE(log.ok());
  constexpr int kThreads = 8, kCalls = 40, kPer = 5;
  std::vector<std::vector<uint64_t>> firsts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        auto r = (*log)->Append(Entries(kPer, "t" + std::to_string(t) + "-" + std::to_string(c) + "-"));
        if (r.ok()) firsts[t].push_back(*r);
      }
    });
  }
  for (auto& th : threads) th.join();
  auto all = (*log)->Read(0, 100000, 64 << 20);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(kThreads * kCalls * kPer));
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(firsts[t].size(), static_cast<size_t>(kCalls));
    for (int c = 0; c < kCalls; ++c) {
      for (int k = 0; k < kPer; ++k) {
        EXPECT_EQ((*all)[firsts[t][c] + k].data,
                  "t" + std::to_string(t) + "-" + std::to_string(c) + "-" + std::to_string(k));
      }
    }
  }
}

TEST(ShardLogTest, RetentionDropsWholeOldSegments) {
  TempDir dir;
  auto log = ShardLog::Open(dir.Join("s"), 200);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(Entries(10, "old", 1000)).ok());
  ASSERT_TRUE((*log)->Append(Entries(10, "new", 900000)).ok());
  ASSERT_TRUE((*log)->TrimBefore(500000).ok());
  EXPECT_GT((*log)->first_ordinal(), 0u);
  EXPECT_LE((*log)->first_ordinal(), 10u);
  auto r = (*log)->Read(0, 100, 1 << 20);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->empty());
  EXPECT_EQ(r->front().ordinal, (*log)->first_ordinal());
  EXPECT_EQ(r->back().data, "new9");
}

}  // namespace
}  // namespace saleslake::stream::internal
