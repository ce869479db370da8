#include "etl/internal/pii.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <thread>

namespace saleslake::etl::internal {
namespace {

std::string Masked(std::string_view text, PiiCounts* counts = nullptr) {
  std::string out;
  return PiiScanner::Redact(text, PiiAction::kMask, nullptr, &out, counts) ? out : std::string(text);
}

TEST(TokenizerTest, MatchesHmacSha256TestVector) {
  // RFC 4231 test case 1: key = 20 bytes of 0x0b, data "Hi There".
  auto t = Tokenizer::FromKeyHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->Token("Hi There"), "tok_b0344c61d8db38535ca8afceaf0bf12b");
  EXPECT_EQ(t->Token("Hi There"), t->Token("Hi There"));  // deterministic
  EXPECT_NE(t->Token("Hi There"), t->Token("Hi there"));
  auto other = Tokenizer::FromKeyHex(std::string(64, 'a'));
  EXPECT_NE(other->Token("Hi There"), t->Token("Hi There"));  // keyed
}

TEST(TokenizerTest, EqualsOneShotHmacForEveryKeyLengthAndThread) {
  // The precomputed pads must give OpenSSL's HMAC for keys up to the 64-byte block, for empty
  // and long values, from any thread.
  for (size_t key_bytes : {16, 33, 63, 64}) {
    std::string hex;
    std::vector<unsigned char> key;
    for (size_t i = 0; i < key_bytes; ++i) {
      key.push_back(static_cast<unsigned char>(i * 37 + 11));
      char b[3];
      std::snprintf(b, sizeof b, "%02x", key.back());
      hex += b;
    }
    auto t = Tokenizer::FromKeyHex(hex);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    for (std::string value : {std::string(), std::string("CUST-1"), std::string(200, 'x')}) {
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac, &len);
      std::string want = "tok_";
      for (int i = 0; i < 16; ++i) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", mac[i]);
        want += b;
      }
      EXPECT_EQ(t->Token(value), want) << key_bytes << " byte key, value of " << value.size();
      std::string from_thread;
      std::thread([&] { from_thread = t->Token(value); }).join();
      EXPECT_EQ(from_thread, want);
    }
  }
}

TEST(PiiScannerTest, FindsEntitiesAtEveryAlignment) {
  // The pre-check reads eight bytes at a time: entities must be found wherever they start,
  // after multi-byte UTF-8 too, and eight digits spread over words still count.
  for (size_t pad = 0; pad < 17; ++pad) {
    for (std::string prefix : {std::string(pad, 'x'), std::string(pad, 'x') + "\xc3\xa9"}) {
      EXPECT_EQ(Masked(prefix + " jane.doe@example.com"), prefix + " [EMAIL]") << pad;
      EXPECT_EQ(Masked(prefix + " 555-123-4567"), prefix + " [PHONE]") << pad;
      EXPECT_EQ(Masked(prefix + " 4111 1111 1111 1111"), prefix + " [CARD]") << pad;
      std::string few = prefix + " SKU-12345-X 67";  // seven digits: nothing to find
      EXPECT_EQ(Masked(few), few) << pad;
      EXPECT_FALSE(PiiScanner::Contains(few));
    }
  }
}

TEST(TokenizerTest, RejectsBadKeys) {
  EXPECT_FALSE(Tokenizer::FromKeyHex("").ok());
  EXPECT_FALSE(Tokenizer::FromKeyHex("abcd").ok());
  EXPECT_FALSE(Tokenizer::FromKeyHex(std::string(64, 'g')).ok());
  EXPECT_FALSE(Tokenizer::FromKeyHex(std::string(63, 'a')).ok());
}

TEST(PiiScannerTest, FindsEachEntity) {
  PiiCounts counts;
  EXPECT_EQ(Masked("mail anna.b+x@mail.example.com now", &counts), "mail [EMAIL] now");
  EXPECT_EQ(Masked("call +1 (555) 123-4567 or 555-123-4567.", &counts), "call [PHONE] or [PHONE].");
  EXPECT_EQ(Masked("+44 20 7946 0958", &counts), "[PHONE]");
  EXPECT_EQ(Masked("card 4111 1111 1111 1111 ok", &counts), "card [CARD] ok");
  EXPECT_EQ(Masked("card 4111-1111-1111-1111", &counts), "card [CARD]");
  EXPECT_EQ(Masked("iban GB82 WEST 1234 5698 7654 32", &counts), "iban [IBAN]");
  EXPECT_EQ(Masked("DE89370400440532013000", &counts), "[IBAN]");
  EXPECT_EQ(Masked("ssn 123-45-6789", &counts), "ssn [SSN]");
  EXPECT_EQ(counts.by_entity[static_cast<int>(PiiEntity::kEmail)], 1u);
  EXPECT_EQ(counts.by_entity[static_cast<int>(PiiEntity::kPhone)], 3u);
  EXPECT_EQ(counts.by_entity[static_cast<int>(PiiEntity::kCard)], 2u);
  EXPECT_EQ(counts.by_entity[static_cast<int>(PiiEntity::kIban)], 2u);
  EXPECT_EQ(counts.by_entity[static_cast<int>(PiiEntity::kSsn)], 1u);
  EXPECT_EQ(counts.total(), 9u);
}

TEST(PiiScannerTest, LeavesSalesDataAlone) {
  for (const char* clean :
       {"2025-03-14", "2025/03/14", "1,234.50", "$12.50", "-12.50", "North America", "COMPLETED",
        "SKU-07283-SPORTS-WIRELESS-HEADPHONES-BLU-XL", "CUST-1a0c2dba-8967-444c-a055-f6de14b00cea",
        "4111 1111 1111 1112" /* Luhn fails */, "666-12-3456" /* never issued */,
        "GB82 WEST 1234 5698 7654 33" /* mod 97 fails */, "1234567890" /* bare id */,
        "order 20250314123456", "user@localhost", "@handle", "a@b.c"}) {
    SCOPED_TRACE(clean);
    EXPECT_FALSE(PiiScanner::Contains(clean));
    EXPECT_EQ(Masked(clean), clean);
  }
}

TEST(PiiScannerTest, TokenizeKeepsJoinsWorking) {
  auto t = Tokenizer::FromKeyHex(std::string(64, '1'));
  std::string a, b;
  ASSERT_TRUE(PiiScanner::Redact("x anna@example.com", PiiAction::kTokenize, &*t, &a, nullptr));
  ASSERT_TRUE(PiiScanner::Redact("anna@example.com y", PiiAction::kTokenize, &*t, &b, nullptr));
  std::string tok = t->Token("anna@example.com");
  EXPECT_EQ(a, "x " + tok);
  EXPECT_EQ(b, tok + " y");
  std::string untouched = "keep";
  EXPECT_FALSE(PiiScanner::Redact("nothing here", PiiAction::kMask, nullptr, &untouched, nullptr));
  EXPECT_EQ(untouched, "keep");
  EXPECT_FALSE(PiiScanner::Redact("anna@example.com", PiiAction::kOff, nullptr, &untouched, nullptr));
}

TEST(PiiScannerTest, Checksums) {
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_TRUE(IbanValid("GB82WEST12345698765432"));
  EXPECT_FALSE(IbanValid("GB82WEST12345698765433"));
  EXPECT_FALSE(IbanValid("GB82"));
}

}  // namespace
}  // namespace saleslake::etl::internal
