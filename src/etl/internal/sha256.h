// SHA-256 (FIPS 180-4) block compression for the keyed tokens of PII columns.
//
// Why not OpenSSL: a token is HMAC-SHA-256 of a short value (an id of 10-60 bytes), i.e. two
// compressions starting from precomputed pad states. Going through EVP costs a context copy, an
// update, a final and a cleanse per digest, about as much as the compressions themselves; here a
// digest is the compressions plus padding on the stack. With the x86 SHA extensions (SHA-NI) a
// compression is a few dozen instructions.
//
// Thread safety: stateless functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace saleslake::etl::internal {

// Chaining state H0..H7 of FIPS 180-4 section 6.2.
using Sha256State = uint32_t[8];

// Absorbs `count` 64-byte blocks into `state`.
using Sha256BlocksFn = void (*)(uint32_t* state, const uint8_t* blocks, size_t count);

// Plain C++; runs everywhere.
void Sha256BlocksPortable(uint32_t* state, const uint8_t* blocks, size_t count);

// True when the CPU has the SHA extensions (and SSSE3/SSE4.1, which the code also uses).
bool CpuHasShaExtensions();

// SHA-NI version. REQUIRES: CpuHasShaExtensions(). On non-x86 builds it is the portable one.
void Sha256BlocksShaNi(uint32_t* state, const uint8_t* blocks, size_t count);

// One block into each of two independent states: the rounds of one message fill the latency
// gaps of the other (SHA256RNDS2 has a latency of several cycles). REQUIRES:
// CpuHasShaExtensions(). On non-x86 builds it is the portable one twice.
void Sha256TwoBlocksShaNi(uint32_t* state_a, const uint8_t* block_a, uint32_t* state_b,
                          const uint8_t* block_b);

// The fastest of the two for this CPU (decided once per process).
Sha256BlocksFn BestSha256Blocks();

// The initial state (FIPS 180-4 section 5.3.3).
void Sha256Init(uint32_t* state);

// Digest of a message whose first `absorbed` bytes (a multiple of 64) are already in `state`,
// followed by `tail`. `state` is not modified.
void Sha256Finish(Sha256BlocksFn blocks, const uint32_t* state, uint64_t absorbed,
                  std::string_view tail, uint8_t digest[32]);

// The longest tail Sha256FinishTwoShaNi takes: it and its padding fill one block.
constexpr size_t kSha256MaxShortTail = 55;

// Sha256Finish of two messages at once with Sha256TwoBlocksShaNi. REQUIRES:
// CpuHasShaExtensions(), both tails at most kSha256MaxShortTail bytes.
void Sha256FinishTwoShaNi(const uint32_t* state_a, const uint32_t* state_b, uint64_t absorbed,
                          std::string_view tail_a, std::string_view tail_b, uint8_t digest_a[32],
                          uint8_t digest_b[32]);

}  // namespace saleslake::etl::internal
