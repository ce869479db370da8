// internal::Tokenizer: field spans of records wider than its initial field array, and records
// of different widths one after another (the array is reused, never shrunk).
#include "formats/csv/internal/tokenizer.h"

#include <gtest/gtest.h>

#include <string>

namespace saleslake::csv::internal {
namespace {

std::string Record(size_t fields, bool quote_last) {
  std::string r;
  for (size_t i = 0; i < fields; ++i) {
    if (i) r += ',';
    if (quote_last && i + 1 == fields) r += "\"q,\"\"" + std::to_string(i) + "\"";
    else r += "f" + std::to_string(i);
  }
  return r + "\n";
}

TEST(TokenizerTest, WideAndNarrowRecordsInTurn) {
  Tokenizer t{Dialect{}};
  for (size_t width : {3, 33, 100, 1, 257, 64, 2}) {
    SCOPED_TRACE(width);
    std::string text = Record(width, width % 2 == 1);
    const char* next = nullptr;
    ASSERT_EQ(t.Next(text.data(), text.data() + text.size(), true, &next), Tokenizer::Outcome::kRecord);
    EXPECT_EQ(next, text.data() + text.size());
    ASSERT_EQ(t.num_fields(), width);
    EXPECT_FALSE(t.has_error());
    for (size_t i = 0; i + 1 < width; ++i) EXPECT_EQ(t.Text(i), "f" + std::to_string(i));
    std::string last = width % 2 == 1 ? "q,\"" + std::to_string(width - 1) : "f" + std::to_string(width - 1);
    EXPECT_EQ(t.Text(width - 1), last);
    EXPECT_EQ(t.field(width - 1).quoted, width % 2 == 1);
  }
}

TEST(TokenizerTest, TextAfterAClosingQuoteInAFarColumn) {
  // The error names the column, and the field keeps the stray text, past the 32nd field too.
  Tokenizer t{Dialect{}};
  std::string text;
  for (int i = 0; i < 40; ++i) text += "a,";
  text += "\"b\"x,c\n";
  const char* next = nullptr;
  ASSERT_EQ(t.Next(text.data(), text.data() + text.size(), true, &next), Tokenizer::Outcome::kRecord);
  ASSERT_EQ(t.num_fields(), 42u);
  EXPECT_TRUE(t.has_error());
  EXPECT_EQ(t.error_column(), 41u);
  EXPECT_EQ(std::string_view(t.field(40).begin, t.field(40).end - t.field(40).begin), "b\"x");
  EXPECT_EQ(t.Text(41), "c");
}

}  // namespace
}  // namespace saleslake::csv::internal
