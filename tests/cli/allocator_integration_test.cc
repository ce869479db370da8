// The saleslake binary restarts itself once with glibc's huge-page tunable (src/common/memory.h
// says why) and gives child processes the environment back as it was. Sanitizer builds keep
// their own allocator and skip.
#include <gtest/gtest.h>

#include <string>

#include "server/server_test_util.h"
#include "support/test_support.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SL_UNDER_ASAN 1
#endif

namespace saleslake::testing {
namespace {

// The environment a process image started with (/proc/PID/environ, NUL-separated).
std::string StartEnvironment(int pid) { return ReadFile("/proc/" + std::to_string(pid) + "/environ"); }

bool HasVar(const std::string& environ, const std::string& entry) {
  return ('\0' + environ).find('\0' + entry + '\0') != std::string::npos;
}

class AllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef SL_UNDER_ASAN
    GTEST_SKIP() << "sanitizer build: its allocator is not glibc's";
#endif
    if (ReadFile("/sys/kernel/mm/transparent_hugepage/enabled").find("[never]") != std::string::npos) {
      GTEST_SKIP() << "transparent huge pages are disabled on this machine";
    }
    ASSERT_EQ(RunSaleslakeIn(lake_, {"init"}).exit_code, 0);
  }
  TempDir dir_;
  std::string lake_ = dir_.Join("lake");
};

TEST_F(AllocatorTest, TheServerRunsWithHugePageMalloc) {
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(lake_, {}, &error, {"GLIBC_TUNABLES=glibc.malloc.arena_max=4"})) << error;
  // The image that serves started with the user's tunables plus hugetlb (same pid: exec).
  const std::string env = StartEnvironment(server.pid());
  // (glibc's start-up rewrites the variable's bytes in place, so look for the part that matters.)
  EXPECT_NE(env.find("glibc.malloc.hugetlb=1"), std::string::npos) << env;
  EXPECT_TRUE(HasVar(env, "SALESLAKE_SAVED_TUNABLES==glibc.malloc.arena_max=4")) << env;
  // (That the new image puts the environment back is MemoryTest.TheRestartedImagePutsTheEnvironmentBack.)
}

TEST_F(AllocatorTest, TheUsersOwnHugePageSettingAndTheOptOutAreKept) {
  for (const std::string& var : {std::string("GLIBC_TUNABLES=glibc.malloc.hugetlb=0"),
                                 std::string("SALESLAKE_HUGE_PAGES=off")}) {
    ServerProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(lake_, {}, &error, {var})) << error;
    const std::string env = StartEnvironment(server.pid());
    EXPECT_EQ(env.find("glibc.malloc.hugetlb=1"), std::string::npos) << var;
    EXPECT_TRUE(HasVar(env, var)) << env;
    EXPECT_EQ(env.find("SALESLAKE_SAVED_TUNABLES"), std::string::npos) << env;
  }
}

}  // namespace
}  // namespace saleslake::testing
