#include "common/memory.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace saleslake
