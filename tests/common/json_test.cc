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
}  // namespace
}  // namespace saleslake
