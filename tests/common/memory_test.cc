#include "common/memory.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SL_UNDER_ASAN 1
#endif

namespace saleslake {
namespace {

TEST(MemoryTest, ConfiguresGlibcMallocAndLargeBlocksStillWork) {
#if defined(__GLIBC__) && !defined(SL_UNDER_ASAN)
  EXPECT_TRUE(ConfigureAllocator());
  EXPECT_TRUE(ConfigureAllocator());  // idempotent
#else
  (void)ConfigureAllocator();  // sanitizer allocators ignore mallopt
#endif
  for (int i = 0; i < 50; ++i) {
    size_t n = (size_t{1} << 20) + static_cast<size_t>(i) * 4096;  // above glibc's default mmap threshold
    std::unique_ptr<char[]> block(new char[n]);
    std::memset(block.get(), i, n);
    EXPECT_EQ(block[n - 1], static_cast<char>(i));
  }
}

// The second image of RestartWithHugePages (SALESLAKE_SAVED_TUNABLES set by the first) does not
// exec again and restores GLIBC_TUNABLES as the user had it, so child processes inherit that.
TEST(MemoryTest, TheRestartedImagePutsTheEnvironmentBack) {
#if defined(__GLIBC__) && !defined(SL_UNDER_ASAN)
  char arg0[] = "memory_test";
  char* argv[] = {arg0, nullptr};
  setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=4:glibc.malloc.hugetlb=1", 1);
  setenv("SALESLAKE_SAVED_TUNABLES", "=glibc.malloc.arena_max=4", 1);
  RestartWithHugePages(argv);
  ASSERT_NE(getenv("GLIBC_TUNABLES"), nullptr);
  EXPECT_STREQ(getenv("GLIBC_TUNABLES"), "glibc.malloc.arena_max=4");
  EXPECT_EQ(getenv("SALESLAKE_SAVED_TUNABLES"), nullptr);
  setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
  setenv("SALESLAKE_SAVED_TUNABLES", "-", 1);  // it was unset
  RestartWithHugePages(argv);
  EXPECT_EQ(getenv("GLIBC_TUNABLES"), nullptr);
  EXPECT_EQ(getenv("SALESLAKE_SAVED_TUNABLES"), nullptr);
  // A user's own hugetlb setting: no exec either, nothing changed.
  setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0", 1);
  RestartWithHugePages(argv);
  EXPECT_STREQ(getenv("GLIBC_TUNABLES"), "glibc.malloc.hugetlb=0");
  unsetenv("GLIBC_TUNABLES");
#else
  GTEST_SKIP() << "sanitizer build: RestartWithHugePages does nothing";
#endif
}

}  // namespace
}  // namespace saleslake
