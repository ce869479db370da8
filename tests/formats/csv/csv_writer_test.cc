#include "formats/csv/csv_writer.h"

#include <gtest/gtest.h>

#include <random>

#include "csv_test_util.h"

namespace saleslake::csv {
namespace {

ReadOptions TextOptions(const Dialect& d, size_t columns) {
  ReadOptions o;
  o.dialect = d;
  o.dialect.null_tokens = {};
  for (size_t c = 0; c < columns; ++c) o.schema.fields.push_back({"c" + std::to_string(c), DataType::Varchar(), true});
  return o;
}

TEST(CsvWriterTest, QuotesOnlyWhatNeedsQuoting) {
  std::string out;
  CsvWriter w(&out, {"plain", "with,comma", "q\"uote"});
  w.AddField("x");
  w.AddField("a\nb");
  w.AddField("say \"hi\"");
  ASSERT_TRUE(w.EndRow().ok());
  w.AddField("");
  w.AddNull();
  w.AddField("cr\r");
  ASSERT_TRUE(w.EndRow().ok());
  EXPECT_EQ(out, "plain,\"with,comma\",\"q\"\"uote\"\nx,\"a\nb\",\"say \"\"hi\"\"\"\n,,\"cr\r\"\n");
  EXPECT_EQ(w.rows(), 2u);
}

TEST(CsvWriterTest, DialectDelimiterNoHeaderNullTextAndQuotedEmpty) {
  std::string out;
  WriteOptions o;
  o.dialect.delimiter = ';';
  o.dialect.header = false;
  o.null_text = "NULL";
  o.quote_empty = true;
  CsvWriter w(&out, {"a", "b", "c"}, o);
  w.AddField("1,5");
  w.AddField("x;y");
  w.AddField("");
  ASSERT_TRUE(w.EndRow().ok());
  w.AddNull();
  w.AddField("z");
  w.AddField("k");
  ASSERT_TRUE(w.EndRow().ok());
  EXPECT_EQ(out, "1,5;\"x;y\";\"\"\nNULL;z;k\n");
}

// Whatever bytes a field holds, the reader gives back the same fields.
TEST(CsvWriterTest, RoundTripsThroughTheReader) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab,;\"\n\r x";
  for (char delim : {',', ';', '\t'}) {
    Dialect d;
    d.delimiter = delim;
    std::string text;
    CsvWriter w(&text, {"c0", "c1", "c2"}, {.dialect = d, .quote_empty = true});
    std::vector<std::string> expect;
    for (int row = 0; row < 200; ++row) {
      std::string joined;
      for (int c = 0; c < 3; ++c) {
        std::string f;
        const int n = static_cast<int>(rng() % 6) + (c == 0 ? 1 : 0);
        for (int k = 0; k < n; ++k) f.push_back(alphabet[rng() % alphabet.size()]);
        w.AddField(f);
        joined += (c ? "|" : "") + f;
      }
      ASSERT_TRUE(w.EndRow().ok());
      expect.push_back(joined);
    }
    auto out = testutil::ReadText(text, TextOptions(d, 3));
    ASSERT_TRUE(out.status.ok()) << out.status.ToString();
    EXPECT_EQ(out.rows, expect) << "delimiter " << delim;
  }
}

class StringStream : public io::OutputStream {
 public:
  Status Append(std::string_view data) override {
    text += data;
    ++appends;
    return Status::OK();
  }
  uint64_t bytes_written() const override { return text.size(); }
  Status Commit() override { return Status::OK(); }
  std::string text;
  int appends = 0;
};

TEST(CsvWriterTest, StreamsInLargePiecesAndFinishWritesTheRest) {
  StringStream s;
  CsvWriter w(&s, {"v"});
  const std::string big(300000, 'x');
  for (int i = 0; i < 5; ++i) {
    w.AddField(big);
    ASSERT_TRUE(w.EndRow().ok());
  }
  EXPECT_EQ(s.appends, 1);  // 4 rows pass 1 MiB
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(s.appends, 2);
  EXPECT_EQ(s.text.size(), 2 + 5 * (big.size() + 1));
}

}  // namespace
}  // namespace saleslake::csv
