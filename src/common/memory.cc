#include "common/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_SANITIZED_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SL_SANITIZED_MALLOC 1
#endif

namespace saleslake {

#if defined(__GLIBC__) && !defined(SL_SANITIZED_MALLOC)
namespace {

constexpr const char* kTunables = "GLIBC_TUNABLES";
constexpr const char* kHugeTlb = "glibc.malloc.hugetlb";
// Set across the re-exec: "-" when GLIBC_TUNABLES was unset, else "=" and its value.
constexpr const char* kSaved = "SALESLAKE_SAVED_TUNABLES";

bool KernelOffersHugePages() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return std::getline(in, line) && line.find("[never]") == std::string::npos;
}

void PutBack(const char* saved) {
  if (saved[0] == '=') {
    setenv(kTunables, saved + 1, 1);
  } else {
    unsetenv(kTunables);
  }
  unsetenv(kSaved);
}

}  // namespace
#endif

void RestartWithHugePages(char** argv) {
#if defined(__GLIBC__) && !defined(SL_SANITIZED_MALLOC)
  if (const char* saved = std::getenv(kSaved)) {  // the re-executed image: tunables took effect
    PutBack(saved);
    return;
  }
  const char* current = std::getenv(kTunables);
  if (current && std::string(current).find(kHugeTlb) != std::string::npos) return;
  if (const char* opt = std::getenv("SALESLAKE_HUGE_PAGES"); opt && std::string(opt) == "off") return;
  if (!KernelOffersHugePages()) return;
  const std::string saved = current ? std::string("=") + current : std::string("-");
  std::string tunables = current && *current ? std::string(current) + ":" : std::string();
  tunables += std::string(kHugeTlb) + "=1";
  setenv(kSaved, saved.c_str(), 1);
  setenv(kTunables, tunables.c_str(), 1);
  execv("/proc/self/exe", argv);
  PutBack(saved.c_str());  // no /proc or no exec: run on without
#else
  (void)argv;
#endif
}

bool ConfigureAllocator() {
#if defined(__GLIBC__)
  // mallopt returns 1 on success.
  return mallopt(M_MMAP_THRESHOLD, 64 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
#else
  return false;
#endif
}

}  // namespace saleslake
