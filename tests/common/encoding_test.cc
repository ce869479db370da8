#include "common/encoding.h"

#include <gtest/gtest.h>

#include <array>

namespace saleslake {
namespace {

TEST(EncodingTest, HexRoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string hex = HexEncode(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 6), "000102");
  EXPECT_EQ(hex.substr(506), "fdfeff");
  std::string back;
  ASSERT_TRUE(HexDecode(hex, &back));
  EXPECT_EQ(back, all);
  EXPECT_EQ(HexEncode(""), "");
}

TEST(EncodingTest, HexOfBytesSpan) {
  std::array<uint8_t, 3> d{0xde, 0xad, 0x01};
  EXPECT_EQ(HexEncode(d), "dead01");
}

TEST(EncodingTest, HexDecodeTakesEitherCaseAndRefusesJunk) {
  std::string out;
  ASSERT_TRUE(HexDecode("DeAdBeEf", &out));
  EXPECT_EQ(out, "\xde\xad\xbe\xef");
  EXPECT_FALSE(HexDecode("abc", &out));  // odd length
  EXPECT_FALSE(HexDecode("zz", &out));
  EXPECT_FALSE(HexDecode("0g", &out));
  EXPECT_EQ(HexDigitValue('7'), 7);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
}

TEST(EncodingTest, IsLowerHexChecksLengthAndCase) {
  EXPECT_TRUE(IsLowerHex("0a1b", 4));
  EXPECT_FALSE(IsLowerHex("0A1B", 4));
  EXPECT_FALSE(IsLowerHex("0a1", 4));
  EXPECT_FALSE(IsLowerHex("0a1x", 4));
}

TEST(EncodingTest, Sha256HexKnownAnswers) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(EncodingTest, PercentEncodeKeepsUnreservedOnly) {
  EXPECT_EQ(PercentEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(PercentEncode("a b/c+d=&"), "a%20b%2Fc%2Bd%3D%26");
  EXPECT_EQ(PercentEncode("a b/c", /*keep_slash=*/true), "a%20b/c");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");  // bytes, upper-case hex
  EXPECT_EQ(PercentEncode(std::string("\0", 1)), "%00");
}

TEST(EncodingTest, PercentDecodeStrictEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2f%2F"), "a b//");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", /*plus_is_space=*/true), "a b");
  EXPECT_FALSE(PercentDecode("%").has_value());
  EXPECT_FALSE(PercentDecode("a%2").has_value());
  EXPECT_FALSE(PercentDecode("%zz").has_value());
  EXPECT_EQ(PercentDecode(""), "");
}

TEST(EncodingTest, PercentRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(PercentDecode(PercentEncode(all)), all);
  EXPECT_EQ(PercentDecode(PercentEncode(all, true)), all);
}

}  // namespace
}  // namespace saleslake
