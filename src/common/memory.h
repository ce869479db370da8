// Process-wide allocator settings, applied once at the start of main() by the binaries.
#pragma once

namespace saleslake {

// A new process faults in every heap page it touches, and on a virtualised MMU a 4 KB fault
// costs microseconds: a query process of a few hundred MB spent a third of its CPU there (TPC-H
// q07 at SF1: 0.64 s as a new process against 0.28 s warm in one). glibc's malloc asks the kernel
// for transparent huge pages (2 MB, ~500x fewer faults) only when the tunable
// glibc.malloc.hugetlb=1 is in the environment when a process starts, so main() calls this
// first: without the tunable it re-executes the binary (/proc/self/exe, the same argv, the same
// pid) with it added, and the new image puts the environment back as the user gave it, so
// child processes do not inherit it. It returns without re-executing when the tunable is
// already set (the user's value wins), when SALESLAKE_HUGE_PAGES=off, when the kernel has
// transparent huge pages disabled, under a sanitizer (its allocator is not glibc's), or when the
// exec fails. jemalloc with huge pages was measured too: the same CPU, 10-100% more peak RSS.
void RestartWithHugePages(char** argv);

// Batches allocate and free the same large buffers (decompressed pages, 2048-row vectors,
// string heaps) over and over. glibc's defaults serve blocks of 128 KB and more with mmap and
// give freed heap tops back to the kernel, so each batch pays page faults and zero-filling of
// fresh pages again (a quarter of a short scan's time, measured with perf). Keeping blocks up
// to 64 MB in the heap and trimming only past 256 MB of free memory turns those into reuse.
// Returns whether the settings took (false where the allocator is not glibc's, e.g. under
// AddressSanitizer, whose allocator ignores them).
bool ConfigureAllocator();

}  // namespace saleslake
