#include "common/memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace saleslake {
namespace {

TEST(MemoryTest, ConfiguredAllocatorServesAndReusesLargeBlocks) {
  ConfigureAllocator();
  ConfigureAllocator();  // idempotent
  for (int i = 0; i < 50; ++i) {
    size_t n = (size_t{1} << 20) + static_cast<size_t>(i) * 4096;  // above glibc's default mmap threshold
    std::unique_ptr<char[]> block(new char[n]);
    std::memset(block.get(), i, n);
    EXPECT_EQ(block[n - 1], static_cast<char>(i));
  }
}

}  // namespace
}  // namespace saleslake
