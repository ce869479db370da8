#include "common/json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace saleslake {
namespace {

TEST(JsonTest, QuotesRunsAndEscapesAsAJsonParserReadsThem) {
  EXPECT_EQ(JsonQuote(""), "\"\"");
  EXPECT_EQ(JsonQuote("plain text"), "\"plain text\"");
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\re\tf"), "\"a\\\"b\\\\c\\nd\\re\\tf\"");
  EXPECT_EQ(JsonQuote(std::string("\x01x\x1f", 3)), "\"\\u0001x\\u001f\"");
  EXPECT_EQ(JsonQuote("\"leading and trailing\""), "\"\\\"leading and trailing\\\"\"");
  // Every byte below 0x80 in every position round-trips through a real parser.
  for (int c = 0; c < 0x80; ++c) {
    std::string s = "ab" + std::string(1, static_cast<char>(c)) + "cd" + std::string(1, static_cast<char>(c));
    auto parsed = nlohmann::json::parse(JsonQuote(s), nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << c;
    EXPECT_EQ(parsed.get<std::string>(), s) << c;
  }
  // UTF-8 passes through unchanged.
  EXPECT_EQ(JsonQuote("Zürich €"), "\"Zürich €\"");
}

// What ReadJsonString reads, where it stops, and why it refuses.
struct Read {
  std::string value;
  size_t pos;
  std::string why;  // empty: read
};
Read ReadAt(std::string_view text, size_t at) {
  Read r{"", at, ""};
  if (const char* why = ReadJsonString(text, &r.pos, &r.value)) r.why = why;
  return r;
}

TEST(JsonTest, ReadsAStringLiteralAndStopsPastItsQuote) {
  Read r = ReadAt(R"(x"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00",1)", 1);
  EXPECT_EQ(r.why, "");
  EXPECT_EQ(r.value, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(r.pos, 41u);  // the ',' after the closing quote
  EXPECT_EQ(ReadAt(R"("")", 0).value, "");
  EXPECT_EQ(ReadAt("\"Z\xc3\xbcrich\"", 0).value, "Z\xc3\xbcrich");  // UTF-8 copied as is
  // What the escaper writes reads back, every byte below 0x80 included.
  for (int c = 0; c < 0x80; ++c) {
    const std::string s = "ab" + std::string(1, static_cast<char>(c)) + "cd";
    Read back = ReadAt(JsonQuote(s), 0);
    EXPECT_EQ(back.why, "") << c;
    EXPECT_EQ(back.value, s) << c;
  }
}

TEST(JsonTest, RefusesAMalformedLiteralSayingWhereAndWhy) {
  const struct {
    std::string text;
    size_t at;
    const char* why;
  } bad[] = {
      {R"("abc)", 0, "unterminated string"},
      {"\"a\nb\"", 2, "control character in a string"},
      {R"("ab\)", 3, "unterminated escape"},
      {R"("a\qb")", 2, "unknown escape"},
      {R"("a\u12g4")", 2, "malformed \\u escape"},
      {R"("a\u12")", 2, "malformed \\u escape"},
      {R"("\ud800x")", 1, "unpaired UTF-16 surrogate"},
      {R"("\ud800\u0041")", 1, "unpaired UTF-16 surrogate"},
      {R"("\udc00")", 1, "unpaired UTF-16 surrogate"},
  };
  for (const auto& b : bad) {
    Read r = ReadAt(b.text, 0);
    EXPECT_EQ(r.why, b.why) << b.text;
    EXPECT_EQ(r.pos, b.at) << b.text;
  }
}

}  // namespace
}  // namespace saleslake
