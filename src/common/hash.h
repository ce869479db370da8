// Small hashing helpers shared by the hash tables of several modules.
#pragma once

#include <cstdint>

namespace saleslake {

// A 64-bit finalizer (MurmurHash3's fmix64): spreads every input bit over every output bit, so
// integer keys can index power-of-two tables and sketches that read the top bits (HyperLogLog).
inline uint64_t MixBits64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace saleslake
