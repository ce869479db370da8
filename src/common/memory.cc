#include "common/memory.h"

#include <malloc.h>

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
