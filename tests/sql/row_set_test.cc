// RowSet: the set a materialized view's refresh streams side-table rows past. Rows are found by
// value whatever their encoding (flat, dictionary), NULL equals NULL, ids are dense in insertion
// order, and many threads may probe at once.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "sql/exec/row_set.h"

namespace saleslake::sql {
namespace {

ColumnVector Strings(const std::vector<std::string>& v, const std::vector<bool>& valid = {}) {
  ColumnVector c(DataType::Varchar(), v.size());
  c.Resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    c.SetString(i, v[i]);
    if (!valid.empty() && !valid[i]) c.SetNull(i);
  }
  return c;
}

ColumnVector Ints(const std::vector<int64_t>& v, const std::vector<bool>& valid = {}) {
  ColumnVector c(DataType::Int64(), v.size());
  c.Resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    c.data<int64_t>()[i] = v[i];
    if (!valid.empty() && !valid[i]) c.SetNull(i);
  }
  return c;
}

Batch Rows(ColumnVector a, ColumnVector b) {
  Batch out;
  out.num_rows = a.size();
  out.columns.push_back(std::move(a));
  out.columns.push_back(std::move(b));
  return out;
}

TEST(RowSetTest, FindsRowsByValueWithNullsEqual) {
  RowSet set({DataType::Varchar(), DataType::Int64()});
  std::vector<uint32_t> ids;
  // (N, 1) twice, a NULL key, a NULL value, both NULL.
  set.Insert(Rows(Strings({"N", "S", "N", "", "E", ""}, {true, true, true, false, true, false}),
                  Ints({1, 2, 1, 3, 0, 0}, {true, true, true, true, false, false})),
             ids);
  EXPECT_EQ(ids, (std::vector<uint32_t>{0, 1, 0, 2, 3, 4}));
  EXPECT_EQ(set.size(), 5u);
  std::vector<uint64_t> hashes;
  set.Find(Rows(Strings({"", "N", "N", "E", "", "S", "E"}, {false, true, true, true, false, true, true}),
                Ints({3, 1, 2, 0, 0, 2, 5}, {true, true, true, false, false, true, true})),
           ids, hashes);
  const uint32_t no = RowSet::kAbsent;
  EXPECT_EQ(ids, (std::vector<uint32_t>{2, 0, no, 3, 4, 1, no}));
}

// Stored rows arrive dictionary-encoded (a Parquet chunk's strings); they hash and compare as
// their values, and a second dictionary (the next file) is met afresh.
TEST(RowSetTest, DictionaryColumnsAreFoundByValue) {
  RowSet set({DataType::Varchar(), DataType::Int64()});
  std::vector<uint32_t> ids;
  set.Insert(Rows(Strings({"x", "y", "z"}), Ints({7, 8, 9})), ids);
  std::vector<uint64_t> hashes;
  for (const std::vector<std::string>& entries :
       {std::vector<std::string>{"z", "y", "x", "w"}, std::vector<std::string>{"w", "x"}}) {
    auto dict = std::make_shared<ColumnVector>(Strings(entries));
    ColumnVector keys(DataType::Varchar(), 4);
    keys.MakeDictionary(dict, 4);
    std::vector<uint32_t> codes = entries.size() == 4 ? std::vector<uint32_t>{2, 1, 0, 3}
                                                      : std::vector<uint32_t>{1, 1, 0, 1};
    std::copy(codes.begin(), codes.end(), keys.data<uint32_t>());
    set.Find(Rows(std::move(keys), Ints({7, 8, 9, 7})), ids, hashes);
    const uint32_t no = RowSet::kAbsent;
    if (entries.size() == 4) {
      EXPECT_EQ(ids, (std::vector<uint32_t>{0, 1, 2, no}));  // x7 y8 z9 w7
    } else {
      EXPECT_EQ(ids, (std::vector<uint32_t>{0, no, no, 0}));  // x7 x8 w9 x7
    }
  }
}

TEST(RowSetTest, ManyThreadsProbeAtOnce) {
  constexpr int64_t kSet = 5000, kProbe = 40000;
  RowSet set({DataType::Int64()});
  std::vector<int64_t> evens;
  for (int64_t i = 0; i < kSet; ++i) evens.push_back(2 * i);
  Batch in;
  in.num_rows = evens.size();
  in.columns.push_back(Ints(evens));
  std::vector<uint32_t> ids;
  set.Insert(in, ids);
  ASSERT_EQ(set.size(), static_cast<size_t>(kSet));
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::vector<uint32_t> found;
      std::vector<uint64_t> hashes;
      for (int64_t from = t; from < kProbe; from += 4 * 2048) {
        std::vector<int64_t> v;
        for (int64_t x = from; x < std::min(kProbe, from + 2048); ++x) v.push_back(x);
        Batch b;
        b.num_rows = v.size();
        b.columns.push_back(Ints(v));
        set.Find(b, found, hashes);
        for (size_t i = 0; i < v.size(); ++i) {
          bool in_set = v[i] % 2 == 0 && v[i] < 2 * kSet;
          uint32_t want = in_set ? static_cast<uint32_t>(v[i] / 2) : RowSet::kAbsent;
          wrong[static_cast<size_t>(t)] += found[i] != want;
        }
      }
    });
  for (auto& th : threads) th.join();
  for (int w : wrong) EXPECT_EQ(w, 0);
}

}  // namespace
}  // namespace saleslake::sql
