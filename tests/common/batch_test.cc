#include "common/batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

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

// A vector over a borrowed buffer reads and writes that buffer, keeps its owner alive, copies
// into its own buffer when it grows, and a moved-from vector no longer points at the buffer.
TEST(BatchTest, BorrowedBufferSlices) {
  auto buf = std::shared_ptr<uint64_t[]>(new uint64_t[8]);
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<uint64_t>(100 + i);
  std::weak_ptr<uint64_t[]> watch = buf;
  {
    ColumnVector a(DataType::Int64(), buf, buf.get() + 4, 4);  // the second half
    EXPECT_EQ(a.size(), 4u);
    EXPECT_EQ(a.data<int64_t>()[0], 104);
    a.data<int64_t>()[1] = -1;
    EXPECT_EQ(buf[5], static_cast<uint64_t>(-1));  // writes land in the borrowed slice
    buf.reset();
    EXPECT_FALSE(watch.expired());  // the vector keeps its owner alive
    ColumnVector b = std::move(a);
    EXPECT_EQ(a.data<int64_t>(), nullptr);
    EXPECT_EQ(b.data<int64_t>()[3], 107);
    b.Resize(100);  // grows into a buffer of its own, values kept
    EXPECT_EQ(b.data<int64_t>()[0], 104);
    EXPECT_EQ(b.data<int64_t>()[1], -1);
    EXPECT_EQ(b.data<int64_t>()[3], 107);
    b.data<int64_t>()[99] = 7;
    EXPECT_TRUE(watch.expired());  // nothing holds the old buffer any more
  }
  // A borrowed slice of dictionary indices.
  auto dict = std::make_shared<ColumnVector>(DataType::Varchar(), 2);
  dict->Resize(2);
  dict->SetString(0, "north");
  dict->SetString(1, "south");
  auto idx = std::shared_ptr<uint64_t[]>(new uint64_t[1]);
  const uint32_t codes[2] = {1, 0};
  std::memcpy(idx.get(), codes, sizeof codes);
  ColumnVector d(DataType::Varchar(), idx, idx.get(), 2);
  d.MakeDictionary(dict, 2);
  EXPECT_EQ(d.GetValue<std::string_view>(0), "south");
  d.Flatten();
  EXPECT_EQ(d.data<std::string_view>()[1], "north");
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
