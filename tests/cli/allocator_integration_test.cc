// The saleslake binary allocates through jemalloc with transparent huge pages (src/common/memory.cc
// says why); sanitizer builds keep their own allocator and skip.
#include <gtest/gtest.h>

#include <string>

#include "support/test_support.h"

namespace saleslake::testing {
namespace {

TEST(AllocatorTest, TheBinaryUsesJemallocWithHugePages) {
#ifndef SALESLAKE_WITH_JEMALLOC
  GTEST_SKIP() << "built without jemalloc (a sanitizer build or -DSALESLAKE_JEMALLOC=OFF)";
#endif
  // stats_print makes jemalloc print its options at exit; the compiled-in ones come first and
  // this environment only adds to them.
  auto r = RunSaleslake({"--version"}, "", {"MALLOC_CONF=stats_print:true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("opt.thp: \"always\""), std::string::npos) << r.err.substr(0, 2000);
}

}  // namespace
}  // namespace saleslake::testing
