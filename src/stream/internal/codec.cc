#include "stream/internal/codec.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include <array>
#include <cstring>

namespace saleslake::stream::internal {
namespace {

// The reflected Castagnoli polynomial's table, built once.
const std::array<uint32_t, 256>& CrcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

#if defined(__x86_64__)
// SSE 4.2's crc32 instruction computes exactly CRC-32C, eight bytes at a time: the log frames
// every record with it, on the put path (the byte-at-a-time table was a tenth of a busy server's
// time). Chosen at run time; the table serves CPUs without it.
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(const unsigned char* p, size_t n, uint32_t crc) {
  uint64_t c = crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  crc = static_cast<uint32_t>(c);
  for (; n > 0; ++p, --n) crc = __builtin_ia32_crc32qi(crc, *p);
  return crc;
}
bool HaveCrcInstruction() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

constexpr char kHex[] = "0123456789abcdef";

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

uint32_t Crc32c(std::string_view bytes, uint32_t crc) {
  crc = ~crc;
#if defined(__x86_64__)
  if (HaveCrcInstruction()) {
    return ~Crc32cHardware(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), crc);
  }
#endif
  const auto& table = CrcTable();
  for (unsigned char b : bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

HashKey HashKeyOf(std::string_view partition_key) {
  // EVP_Digest fetches the algorithm and makes a context on every call, which cost more than
  // the MD5 of a short key; every put hashes each record's key, so both are kept per thread.
  struct Md5Context {
    EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Md5Context() {
      EVP_MD_CTX_free(ctx);
      EVP_MD_free(md);
    }
  };
  thread_local Md5Context md5;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md5.md || !md5.ctx || EVP_DigestInit_ex2(md5.ctx, md5.md, nullptr) != 1 ||
      EVP_DigestUpdate(md5.ctx, partition_key.data(), partition_key.size()) != 1 ||
      EVP_DigestFinal_ex(md5.ctx, digest, &len) != 1) {
    EVP_Digest(partition_key.data(), partition_key.size(), digest, &len, EVP_md5(), nullptr);
  }
  HashKey key = 0;
  for (unsigned int i = 0; i < 16 && i < len; ++i) key = (key << 8) | digest[i];
  return key;
}

std::optional<HashKey> ParseHashKey(std::string_view decimal) {
  if (decimal.empty() || decimal.size() > 39) return std::nullopt;
  HashKey v = 0;
  const HashKey max = ~HashKey{0};
  for (char c : decimal) {
    if (c < '0' || c > '9') return std::nullopt;
    HashKey d = static_cast<HashKey>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;  // beyond 2^128 - 1
    v = v * 10 + d;
  }
  return v;
}

std::string FormatHashKey(HashKey key) {
  if (key == 0) return "0";
  std::string s;
  while (key > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(key % 10)));
    key /= 10;
  }
  return std::string(s.rbegin(), s.rend());
}

HashKey ShardStart(int shard, int shards) {
  HashKey step = ~HashKey{0} / static_cast<HashKey>(shards);
  // floor((2^128 - 1) / n) equals floor(2^128 / n) unless n divides 2^128 (a power of two),
  // where it is one less.
  if ((shards & (shards - 1)) == 0 && shards > 1) step += 1;
  if (shards == 1) return 0;
  return step * static_cast<HashKey>(shard);
}

HashKey ShardEnd(int shard, int shards) {
  if (shard + 1 >= shards) return ~HashKey{0};
  return ShardStart(shard + 1, shards) - 1;
}

int ShardOf(HashKey key, int shards) {
  if (shards <= 1) return 0;
  HashKey step = ShardStart(1, shards);
  auto i = static_cast<int>(key / step);
  return i >= shards ? shards - 1 : i;
}

void AppendSequence(std::string* out, uint64_t ordinal) {
  char text[21];
  text[0] = '1';
  for (int i = 20; i >= 1; --i, ordinal /= 10) text[i] = static_cast<char>('0' + ordinal % 10);
  out->append(text, sizeof text);
}

std::string FormatSequence(uint64_t ordinal) {
  std::string out;
  AppendSequence(&out, ordinal);
  return out;
}

std::optional<uint64_t> ParseSequence(std::string_view text) {
  if (text.size() != 21 || text[0] != '1') return std::nullopt;
  uint64_t v = 0;
  for (char c : text.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

namespace {
std::string Mac(std::string_view payload, std::string_view key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}
}  // namespace

std::string EncodeIterator(const IteratorState& s, std::string_view key) {
  std::string payload;
  payload.push_back(1);  // format version
  PutU64(&payload, static_cast<uint64_t>(s.stream_epoch_ms));
  PutU64(&payload, static_cast<uint64_t>(s.shard));
  PutU64(&payload, s.ordinal);
  PutU64(&payload, static_cast<uint64_t>(s.issued_ms));
  payload += s.stream;
  payload += Mac(payload, key);
  std::string hex;
  hex.reserve(payload.size() * 2);
  for (unsigned char c : payload) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return hex;
}

std::optional<IteratorState> DecodeIterator(std::string_view text, std::string_view key) {
  if (text.size() % 2 != 0 || text.size() > 1024) return std::nullopt;
  std::string raw;
  for (size_t i = 0; i < text.size(); i += 2) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nib(text[i]), lo = nib(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>(hi << 4 | lo));
  }
  constexpr size_t kFixed = 1 + 4 * 8, kMac = 32;
  if (raw.size() < kFixed + kMac || raw[0] != 1) return std::nullopt;
  std::string_view payload(raw.data(), raw.size() - kMac);
  std::string expected = Mac(payload, key);
  if (CRYPTO_memcmp(expected.data(), raw.data() + payload.size(), kMac) != 0) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data()) + 1;
  IteratorState s;
  s.stream_epoch_ms = static_cast<int64_t>(GetU64(p));
  s.shard = static_cast<int>(GetU64(p + 8));
  s.ordinal = GetU64(p + 16);
  s.issued_ms = static_cast<int64_t>(GetU64(p + 24));
  s.stream.assign(payload.substr(kFixed));
  return s;
}

}  // namespace saleslake::stream::internal
