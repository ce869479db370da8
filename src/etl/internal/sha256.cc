#include "etl/internal/sha256.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SL_SHA_X86 1
#endif

namespace saleslake::etl::internal {
namespace {

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
alignas(16) constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

uint32_t LoadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

void Sha256Init(uint32_t* state) {
  // Section 5.3.3: fractional parts of the square roots of the first eight primes.
  static constexpr uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::memcpy(state, kInit, sizeof kInit);
}

void Sha256BlocksPortable(uint32_t* state, const uint8_t* blocks, size_t count) {
  for (; count > 0; --count, blocks += 64) {
    uint32_t w[64];
    for (int t = 0; t < 16; ++t) w[t] = LoadBigEndian32(blocks + 4 * t);
    for (int t = 16; t < 64; ++t) {
      uint32_t s0 = Rotr(w[t - 15], 7) ^ Rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      uint32_t s1 = Rotr(w[t - 2], 17) ^ Rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; ++t) {
      uint32_t t1 = h + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                    kRound[t] + w[t];
      uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

#ifdef SL_SHA_X86

bool CpuHasShaExtensions() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  const bool ssse3 = (ecx & (1u << 9)) != 0, sse41 = (ecx & (1u << 19)) != 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool sha = (ebx & (1u << 29)) != 0;
  return ssse3 && sse41 && sha;
}

// SHA256RNDS2 runs two rounds on the state split as {A,B,E,F} and {C,D,G,H} (A and C in the top
// lanes), taking W[t]+K[t] for the two rounds from the low lanes of its third operand. After two
// rounds the old {A,B,E,F} is the new {C,D,G,H}, so the two registers swap roles each call.
// SHA256MSG1/MSG2 compute the schedule four words at a time:
//   W[t..t+3] = MSG2(MSG1(W[t-16..t-13], W[t-12..t-9]) + W[t-7..t-4], W[t-4..t-1]).
#define SL_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline

namespace {

struct ShaNiState {
  __m128i abef, cdgh;
};

SL_SHA_TARGET ShaNiState LoadShaNiState(const uint32_t* state) {
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));      // D C B A
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));  // H G F E
  abcd = _mm_shuffle_epi32(abcd, 0xB1);                                         // C D A B
  efgh = _mm_shuffle_epi32(efgh, 0x1B);                                         // E F G H
  return {_mm_alignr_epi8(abcd, efgh, 8),                                       // A B E F
          _mm_blend_epi16(efgh, abcd, 0xF0)};                                   // C D G H
}

SL_SHA_TARGET void StoreShaNiState(const ShaNiState& s, uint32_t* state) {
  __m128i t = _mm_shuffle_epi32(s.abef, 0x1B);     // F E B A
  __m128i cdgh = _mm_shuffle_epi32(s.cdgh, 0xB1);  // D C H G
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(t, cdgh, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(cdgh, t, 8));
}

// Rounds 4i..4i+3 of one block; w holds the schedule groups i-4..i-1 (slot k & 3 for group k).
SL_SHA_TARGET void ShaNiQuad(int i, const uint8_t* block, __m128i* w, ShaNiState& s) {
  __m128i m;
  if (i < 4) {
    // Big-endian words: reverse the bytes of each 32-bit lane.
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    m = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i)),
                         byte_swap);
  } else {
    __m128i t = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);               // W[t-16..], W[t-12..]
    t = _mm_add_epi32(t, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));  // + W[t-7..]
    m = _mm_sha256msg2_epu32(t, w[(i + 3) & 3]);                                // W[t-4..]
  }
  w[i & 3] = m;
  const __m128i wk =
      _mm_add_epi32(m, _mm_load_si128(reinterpret_cast<const __m128i*>(kRound + 4 * i)));
  s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);  // now holds A B E F
  s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

}  // namespace

__attribute__((target("sha,sse4.1,ssse3"))) void Sha256BlocksShaNi(uint32_t* state,
                                                                   const uint8_t* blocks,
                                                                   size_t count) {
  ShaNiState s = LoadShaNiState(state);
  for (; count > 0; --count, blocks += 64) {
    const ShaNiState in = s;
    __m128i w[4];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) ShaNiQuad(i, blocks, w, s);
    s.abef = _mm_add_epi32(s.abef, in.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, in.cdgh);
  }
  StoreShaNiState(s, state);
}

__attribute__((target("sha,sse4.1,ssse3"))) void Sha256TwoBlocksShaNi(uint32_t* state_a,
                                                                      const uint8_t* block_a,
                                                                      uint32_t* state_b,
                                                                      const uint8_t* block_b) {
  ShaNiState a = LoadShaNiState(state_a), b = LoadShaNiState(state_b);
  const ShaNiState a_in = a, b_in = b;
  __m128i wa[4], wb[4];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    ShaNiQuad(i, block_a, wa, a);
    ShaNiQuad(i, block_b, wb, b);
  }
  a.abef = _mm_add_epi32(a.abef, a_in.abef);
  a.cdgh = _mm_add_epi32(a.cdgh, a_in.cdgh);
  b.abef = _mm_add_epi32(b.abef, b_in.abef);
  b.cdgh = _mm_add_epi32(b.cdgh, b_in.cdgh);
  StoreShaNiState(a, state_a);
  StoreShaNiState(b, state_b);
}

#else

bool CpuHasShaExtensions() { return false; }

void Sha256BlocksShaNi(uint32_t* state, const uint8_t* blocks, size_t count) {
  Sha256BlocksPortable(state, blocks, count);
}

void Sha256TwoBlocksShaNi(uint32_t* state_a, const uint8_t* block_a, uint32_t* state_b,
                          const uint8_t* block_b) {
  Sha256BlocksPortable(state_a, block_a, 1);
  Sha256BlocksPortable(state_b, block_b, 1);
}

#endif

Sha256BlocksFn BestSha256Blocks() {
  static const Sha256BlocksFn best =
      CpuHasShaExtensions() ? &Sha256BlocksShaNi : &Sha256BlocksPortable;
  return best;
}

namespace {

// Copies a tail of at most 55 bytes into `block` with its padding (section 5.1.1).
void PadShortTail(std::string_view tail, uint64_t absorbed, uint8_t block[64]) {
  std::memset(block, 0, 64);
  if (!tail.empty()) std::memcpy(block, tail.data(), tail.size());
  block[tail.size()] = 0x80;
  const uint64_t bits = (absorbed + tail.size()) * 8;
  for (int i = 0; i < 8; ++i) block[63 - i] = static_cast<uint8_t>(bits >> (8 * i));
}

void StoreDigest(const uint32_t* h, uint8_t digest[32]) {
  for (int i = 0; i < 8; ++i) {
    digest[4 * i] = static_cast<uint8_t>(h[i] >> 24);
    digest[4 * i + 1] = static_cast<uint8_t>(h[i] >> 16);
    digest[4 * i + 2] = static_cast<uint8_t>(h[i] >> 8);
    digest[4 * i + 3] = static_cast<uint8_t>(h[i]);
  }
}

}  // namespace

void Sha256Finish(Sha256BlocksFn blocks, const uint32_t* state, uint64_t absorbed,
                  std::string_view tail, uint8_t digest[32]) {
  uint32_t h[8];
  std::memcpy(h, state, sizeof h);
  const size_t full = tail.size() / 64;
  if (full > 0) blocks(h, reinterpret_cast<const uint8_t*>(tail.data()), full);
  // The rest, the 0x80 marker, zeros and the bit length fill one block, or two when fewer than
  // nine bytes are left in the first (section 5.1.1).
  const std::string_view rest = tail.substr(full * 64);
  if (rest.size() <= kSha256MaxShortTail) {
    uint8_t last[64];
    PadShortTail(rest, absorbed + full * 64, last);
    blocks(h, last, 1);
  } else {
    uint8_t last[128] = {};
    std::memcpy(last, rest.data(), rest.size());
    last[rest.size()] = 0x80;
    const uint64_t bits = (absorbed + tail.size()) * 8;
    for (int i = 0; i < 8; ++i) last[127 - i] = static_cast<uint8_t>(bits >> (8 * i));
    blocks(h, last, 2);
  }
  StoreDigest(h, digest);
}

void Sha256FinishTwoShaNi(const uint32_t* state_a, const uint32_t* state_b, uint64_t absorbed,
                          std::string_view tail_a, std::string_view tail_b, uint8_t digest_a[32],
                          uint8_t digest_b[32]) {
  uint32_t ha[8], hb[8];
  std::memcpy(ha, state_a, sizeof ha);
  std::memcpy(hb, state_b, sizeof hb);
  uint8_t block_a[64], block_b[64];
  PadShortTail(tail_a, absorbed, block_a);
  PadShortTail(tail_b, absorbed, block_b);
  Sha256TwoBlocksShaNi(ha, block_a, hb, block_b);
  StoreDigest(ha, digest_a);
  StoreDigest(hb, digest_b);
}

}  // namespace saleslake::etl::internal
