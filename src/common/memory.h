// Process-wide allocator settings, applied once at the start of main() by the binaries.
#pragma once

namespace saleslake {

// Batches allocate and free the same large buffers (decompressed pages, 2048-row vectors,
// string heaps) over and over. glibc's defaults serve blocks of 128 KB and more with mmap and
// give freed heap tops back to the kernel, so each batch pays page faults and zero-filling of
// fresh pages again (a quarter of a short scan's time, measured with perf). Keeping blocks up
// to 64 MB in the heap and trimming only past 256 MB of free memory turns those into reuse.
// Returns whether the settings took (false where the allocator is not glibc's, e.g. under
// AddressSanitizer, whose allocator ignores them).
bool ConfigureAllocator();

}  // namespace saleslake
