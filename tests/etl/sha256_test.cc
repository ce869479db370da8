#include "etl/internal/sha256.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <random>
#include <string>

#include "etl/internal/pii.h"

namespace saleslake::etl::internal {
namespace {

std::string Hex(const uint8_t* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string OpenSslSha256(std::string_view m) {
  uint8_t d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(m.data()), m.size(), d);
  return Hex(d, sizeof d);
}

std::string OurSha256(Sha256BlocksFn fn, std::string_view m) {
  uint32_t state[8];
  Sha256Init(state);
  uint8_t d[32];
  Sha256Finish(fn, state, 0, m, d);
  return Hex(d, sizeof d);
}

std::vector<std::pair<const char*, Sha256BlocksFn>> Implementations() {
  std::vector<std::pair<const char*, Sha256BlocksFn>> fns = {{"portable", &Sha256BlocksPortable}};
  if (CpuHasShaExtensions()) fns.emplace_back("sha-ni", &Sha256BlocksShaNi);
  return fns;
}

TEST(Sha256Test, KnownAnswers) {
  // FIPS 180-4 examples (one block, two blocks) and the empty message.
  for (const auto& [name, fn] : Implementations()) {
    EXPECT_EQ(OurSha256(fn, "abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        << name;
    EXPECT_EQ(OurSha256(fn, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        << name;
    EXPECT_EQ(OurSha256(fn, ""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        << name;
  }
}

TEST(Sha256Test, EqualsOpenSslForEveryLengthAroundTheBlockBoundaries) {
  // 0..300 bytes covers one, two, three and four padded blocks, and every split of the length
  // field across the block end (55, 56, 63, 64, 119, 120 ...).
  std::mt19937_64 rng(42);
  for (size_t n = 0; n <= 300; ++n) {
    std::string m = RandomBytes(rng, n);
    std::string want = OpenSslSha256(m);
    for (const auto& [name, fn] : Implementations()) EXPECT_EQ(OurSha256(fn, m), want) << name << " " << n;
  }
}

TEST(Sha256Test, FinishFromAMidstate) {
  // A state that absorbed k whole blocks, finished with the rest, is the digest of the whole.
  std::mt19937_64 rng(7);
  for (const auto& [name, fn] : Implementations()) {
    for (size_t prefix_blocks : {1, 2, 3}) {
      for (size_t n : {0, 1, 41, 55, 56, 64, 100, 200}) {
        std::string m = RandomBytes(rng, prefix_blocks * 64 + n);
        uint32_t state[8];
        Sha256Init(state);
        fn(state, reinterpret_cast<const uint8_t*>(m.data()), prefix_blocks);
        uint8_t d[32];
        Sha256Finish(fn, state, prefix_blocks * 64, std::string_view(m).substr(prefix_blocks * 64), d);
        EXPECT_EQ(Hex(d, 32), OpenSslSha256(m)) << name << " " << prefix_blocks << " " << n;
      }
    }
  }
}

TEST(Sha256Test, TokensEqualOpenSslHmacForLengthsUpTo200) {
  // The tokens of existing lakes must not change: every value length 0..200 (one to four inner
  // blocks), random bytes, against OpenSSL's HMAC.
  std::mt19937_64 rng(2024);
  std::string key = RandomBytes(rng, 32);
  auto t = Tokenizer::FromKeyHex(Hex(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (size_t n = 0; n <= 200; ++n) {
    std::string value = RandomBytes(rng, n);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const uint8_t*>(value.data()), value.size(), mac, &len);
    EXPECT_EQ(t->Token(value), "tok_" + Hex(mac, 16)) << n;
  }
}

TEST(Sha256Test, FinishTwoEqualsOpenSsl) {
  if (!CpuHasShaExtensions()) GTEST_SKIP() << "no SHA extensions on this CPU";
  std::mt19937_64 rng(11);
  uint32_t init[8];
  Sha256Init(init);
  for (size_t na = 0; na <= kSha256MaxShortTail; ++na) {
    size_t nb = kSha256MaxShortTail - na;
    std::string a = RandomBytes(rng, na), b = RandomBytes(rng, nb);
    uint8_t da[32], db[32];
    Sha256FinishTwoShaNi(init, init, 0, a, b, da, db);
    EXPECT_EQ(Hex(da, 32), OpenSslSha256(a)) << na;
    EXPECT_EQ(Hex(db, 32), OpenSslSha256(b)) << nb;
  }
}

TEST(Sha256Test, TokensIntoEqualsOpenSslHmac) {
  // The batch call pairs values; a pair with a value longer than one block, and an odd count,
  // take the one-at-a-time path. Every mix must give OpenSSL's HMAC.
  std::mt19937_64 rng(99);
  std::string key = RandomBytes(rng, 48);
  auto t = Tokenizer::FromKeyHex(Hex(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::vector<std::string> values;
  for (size_t n = 0; n <= 200; ++n) values.push_back(RandomBytes(rng, n));
  std::shuffle(values.begin(), values.end(), rng);
  for (size_t i = 0; i < 300; ++i) values.push_back(RandomBytes(rng, 41));  // customer-id sized
  std::vector<std::string_view> views(values.begin(), values.end());
  std::vector<char> out(views.size() * Tokenizer::kTokenSize);
  t->TokensInto(views.data(), views.size(), out.data());
  for (size_t i = 0; i < views.size(); ++i) {
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const uint8_t*>(views[i].data()), views[i].size(), mac, &len);
    EXPECT_EQ(std::string_view(out.data() + i * Tokenizer::kTokenSize, Tokenizer::kTokenSize),
              "tok_" + Hex(mac, 16))
        << i << ": " << views[i].size() << " bytes";
  }
}

}  // namespace
}  // namespace saleslake::etl::internal
