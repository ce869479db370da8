#include "common/memory.h"

#include <malloc.h>

// Read by jemalloc, which the saleslake binary links (CMakeLists.txt, SALESLAKE_JEMALLOC). A new
// process faults in every heap page it touches, and on a virtualised MMU a 4 KB fault costs
// microseconds: a query process of a few hundred MB spent a third of its CPU there (TPC-H q07 at
// SF1: 0.64 s as a new process against 0.28 s warm in one). Huge pages for the heap take ~500x
// fewer faults (q07 0.33 s); the price is resident memory rounded up to 2 MB regions (peak RSS
// +10-40% on most TPC-H queries, q19 2x). glibc's malloc does the same only when
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1 is in a starting process's environment, and then less
// well (q07 0.42 s). Other binaries (tests) carry this variable unused.
extern "C" {
const char* malloc_conf = "thp:always";
}

namespace saleslake {

bool ConfigureAllocator() {
#if defined(__GLIBC__)
  // mallopt returns 1 on success.
  return mallopt(M_MMAP_THRESHOLD, 64 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
#else
  return false;
#endif
}

}  // namespace saleslake
