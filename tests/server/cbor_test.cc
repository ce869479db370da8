#include "server/internal/cbor.h"

#include <gtest/gtest.h>

#include <string>

namespace saleslake::server::internal {
namespace {

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(CborTest, DecodesTheShapesAKinesisClientSends) {
  // {"StreamName":"s","Data":h'00ff',"Timestamp":1(1787036486712),"N":-2,"F":1.5,"B":true,"Z":null}
  std::string body = Bytes({0xa7, 0x6a}) + "StreamName" + Bytes({0x61}) + "s" + Bytes({0x64}) + "Data" +
                     Bytes({0x42, 0x00, 0xff, 0x69}) + "Timestamp" +
                     Bytes({0xc1, 0x1b, 0x00, 0x00, 0x01, 0xa0, 0x13, 0xac, 0xcc, 0x38, 0x61}) + "N" +
                     Bytes({0x21, 0x61}) + "F" + Bytes({0xf9, 0x3e, 0x00, 0x61}) + "B" + Bytes({0xf5, 0x61}) + "Z" +
                     Bytes({0xf6});
  auto j = DecodeAwsCbor(body);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["StreamName"], "s");
  EXPECT_EQ((*j)["Data"], "AP8=") << "a byte string becomes base64, as JSON 1.1 carries blobs";
  EXPECT_DOUBLE_EQ((*j)["Timestamp"].get<double>(), 1787036486.712) << "tag 1 holds milliseconds";
  EXPECT_EQ((*j)["N"], -2);
  EXPECT_DOUBLE_EQ((*j)["F"].get<double>(), 1.5);
  EXPECT_EQ((*j)["B"], true);
  EXPECT_TRUE((*j)["Z"].is_null());
}

TEST(CborTest, DecodesIndefiniteLengthsAndChunkedStrings) {
  // {_ "Records": [_ {"Data": (_ h'01', h'02')}], "K": (_ "a", "b")}
  std::string body = Bytes({0xbf, 0x67}) + "Records" + Bytes({0x9f, 0xa1, 0x64}) + "Data" +
                     Bytes({0x5f, 0x41, 0x01, 0x41, 0x02, 0xff, 0xff, 0x61}) + "K" +
                     Bytes({0x7f, 0x61, 'a', 0x61, 'b', 0xff, 0xff});
  auto j = DecodeAwsCbor(body);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["Records"][0]["Data"], "AQI=");
  EXPECT_EQ((*j)["K"], "ab");
}

TEST(CborTest, EncodesBlobsAndTimestampsAsAwsClientsReadThem) {
  nlohmann::json record = {{"Data", "AP8="}, {"ApproximateArrivalTimestamp", 1787036486.712}, {"SequenceNumber", "49"}};
  nlohmann::json doc = {{"Records", nlohmann::json::array({record})}, {"MillisBehindLatest", 0}};
  std::string cbor = EncodeAwsCbor(doc);
  // Data: byte string 0x42 00 ff; the timestamp: c1 (tag 1) 1b <8-byte milliseconds>.
  EXPECT_NE(Hex(cbor).find("6444617461" "4200ff"), std::string::npos) << Hex(cbor);
  EXPECT_NE(Hex(cbor).find("c11b000001a013accc38"), std::string::npos) << Hex(cbor);
  auto back = DecodeAwsCbor(cbor);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, doc);
}

TEST(CborTest, RefusesMalformedInputWithItsOffset) {
  struct Case {
    std::string body;
    std::string why;
  } cases[] = {
      {Bytes({0x19, 0x01}), "unexpected end of input"},
      {Bytes({0xa1, 0x64}) + "Da", "a length beyond the end"},
      {Bytes({0xa1, 0x01, 0x02}), "a map key that is not text"},
      {Bytes({0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "a length beyond the end"},
      {Bytes({0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "a length beyond the end"},
      {Bytes({0x1c}), "reserved additional information"},
      {Bytes({0xff}), "a break outside"},
      {Bytes({0xf7, 0x00}), "trailing bytes"},
      {Bytes({0x5f, 0x61, 'a', 0xff}), "a bad chunk"},
      {Bytes({0xc1, 0x61, 'x'}), "a timestamp (tag 1) that is not a number"},
      {Bytes({0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0}), "not finite"},
      {Bytes({0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "a negative integer too large"},
      {std::string(100, static_cast<char>(0x81)) + Bytes({0x00}), "nesting deeper than 64"},
  };
  for (const auto& c : cases) {
    auto j = DecodeAwsCbor(c.body);
    ASSERT_FALSE(j.ok()) << Hex(c.body);
    EXPECT_NE(j.status().message().find(c.why), std::string::npos) << j.status().message();
    EXPECT_NE(j.status().message().find("at byte "), std::string::npos) << j.status().message();
  }
}

}  // namespace
}  // namespace saleslake::server::internal
