#include "common/shared_library.h"

#include <gtest/gtest.h>

#include <cstring>

namespace saleslake {
namespace {

TEST(SharedLibraryTest, OpensALibraryAndBindsItsFunctions) {
  auto lib = SharedLibrary::Open("libc.so.6", "the test", "libc6");
  ASSERT_TRUE(lib.ok()) << lib.status().ToString();
  decltype(&std::strlen) fn = nullptr;
  ASSERT_TRUE(lib->Bind("strlen", fn).ok());
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(fn("four"), 4u);
}

TEST(SharedLibraryTest, AMissingLibrarySaysWhatNeedsItAndWhichPackage) {
  auto lib = SharedLibrary::Open("libsaleslake-no-such.so.7", "the frobnicator", "libfrob7");
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), StatusCode::kNotFound);
  const std::string& m = lib.status().message();
  EXPECT_EQ(m.rfind("libsaleslake-no-such.so.7 is needed for the frobnicator but cannot be loaded "
                    "(install the libfrob7 package): ",
                    0),
            0u)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(SharedLibraryTest, AMissingFunctionIsNotFound) {
  auto lib = SharedLibrary::Open("libc.so.6", "the test", "libc6");
  ASSERT_TRUE(lib.ok());
  void (*fn)() = nullptr;
  Status s = lib->Bind("saleslake_no_such_function", fn);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("libc.so.6 has no saleslake_no_such_function (needed for the test"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(fn, nullptr);
}

}  // namespace
}  // namespace saleslake
