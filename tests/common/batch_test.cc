#include "common/batch.h"

#include <gtest/gtest.h>

#include <atomic>

#include "common/thread_pool.h"

namespace saleslake {
namespace {

TEST(BatchTest, FlatValidityAndStrings) {
  Schema schema{{{"a", DataType::Int64()}, {"s", DataType::Varchar()}}};
  Batch b(schema);
  b.SetRows(3);
  auto* a = b.columns[0].data<int64_t>();
  a[0] = 1; a[1] = 2; a[2] = 3;
  b.columns[0].SetNull(1);
  b.columns[1].SetString(0, "hello");
  b.columns[1].SetString(1, "");
  b.columns[1].SetString(2, std::string(100000, 'x'));
  EXPECT_EQ(b.columns[0].CountNulls(), 1u);
  EXPECT_FALSE(b.columns[0].IsValid(1));
  EXPECT_EQ(b.columns[1].GetValue<std::string_view>(0), "hello");
  EXPECT_EQ(b.columns[1].GetValue<std::string_view>(2).size(), 100000u);
  b.SetRows(5000);  // grows past capacity, keeps contents
  EXPECT_EQ(b.columns[0].data<int64_t>()[2], 3);
  EXPECT_FALSE(b.columns[0].IsValid(1));
  EXPECT_TRUE(b.columns[0].IsValid(4999));
}

TEST(BatchTest, ConstantAndDictionaryFlatten) {
  ColumnVector c(DataType::Int32());
  c.data<int32_t>()[0] = 7;
  c.MakeConstant(10);
  EXPECT_EQ(c.GetValue<int32_t>(9), 7);
  c.Flatten();
  EXPECT_EQ(c.encoding(), VectorEncoding::kFlat);
  EXPECT_EQ(c.data<int32_t>()[9], 7);

  auto dict = std::make_shared<ColumnVector>(DataType::Varchar(), 2);
  dict->Resize(2);
  dict->SetString(0, "North");
  dict->SetString(1, "South America");
  ColumnVector d(DataType::Varchar());
  d.MakeDictionary(dict, 3);
  d.data<uint32_t>()[0] = 1; d.data<uint32_t>()[1] = 0; d.data<uint32_t>()[2] = 1;
  d.SetNull(1);
  dict.reset();  // the vector keeps its dictionary alive
  ColumnVector out(DataType::Varchar());
  for (size_t i = 0; i < 3; ++i) out.AppendFrom(d, i);
  d.Flatten();
  EXPECT_EQ(d.data<std::string_view>()[0], "South America");
  EXPECT_FALSE(d.IsValid(1));
  EXPECT_EQ(out.data<std::string_view>()[2], "South America");
  EXPECT_FALSE(out.IsValid(1));
}

TEST(ThreadPoolTest, ParallelForVisitsEveryIndexOnceEvenNested) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(1000);
  pool.ParallelFor(10, [&](size_t outer) {
    pool.ParallelFor(100, [&](size_t inner) { hits[outer * 100 + inner]++; });
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

}  // namespace
}  // namespace saleslake
