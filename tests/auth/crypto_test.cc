// The digests under SigV4: HMAC-SHA256 against RFC 4231's test vectors (keys shorter than, equal
// to and longer than SHA-256's 64-byte block), as HmacSha256 implements RFC 2104 itself.
#include "auth/internal/crypto.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/encoding.h"

namespace saleslake::auth::internal {
namespace {

std::string Hmac(const std::string& key, const std::string& data) {
  return HexEncode(HmacSha256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()), data));
}

TEST(CryptoTest, HmacSha256Rfc4231Vectors) {
  // Test case 1: a 20-byte key.
  EXPECT_EQ(Hmac(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the output.
  EXPECT_EQ(Hmac("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a 131-byte key, hashed first.
  EXPECT_EQ(Hmac(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Test case 7: a long key and a message longer than a block.
  EXPECT_EQ(Hmac(std::string(131, '\xaa'),
                 "This is a test using a larger than block-size key and a larger than block-size "
                 "data. The key needs to be hashed before being used by the HMAC algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  // A key of exactly one block is used as it is (not hashed), and the empty key is zeros.
  EXPECT_EQ(Hmac(std::string(64, 'k'), "m"),
            "3b7a8d453e76edb519238a515105a57508d0f169f480ebeee120a9e7803289fa");
  EXPECT_EQ(Hmac("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(CryptoTest, Sha256OfPartsIsTheHashOfTheirConcatenation) {
  uint8_t a[32], b[32];
  Sha256Of({"ab", "", "c"}, a);
  Sha256Of({"abc"}, b);
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(a, 32)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(b, 32)), HexEncode(std::span<const uint8_t>(a, 32)));
  EXPECT_EQ(HexEncode(Sha256("abc")), HexEncode(std::span<const uint8_t>(a, 32)));
}

TEST(CryptoTest, EachThreadsContextGivesTheSameDigests) {
  // Each thread reuses its own digest context: interleaved calls on many threads must not mix.
  std::vector<std::string> want;
  for (int i = 0; i < 500; ++i) want.push_back(Sha256Hex(std::string(static_cast<size_t>(i), 'x')));
  std::vector<std::thread> threads;
  std::vector<int> bad(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &bad, &want] {
      for (int i = 0; i < 500; ++i) {
        if (Hmac("Jefe", "what do ya want for nothing?") !=
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") {
          ++bad[t];
        }
        if (Sha256Hex(std::string(static_cast<size_t>(i), 'x')) != want[static_cast<size_t>(i)]) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(bad[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace saleslake::auth::internal
