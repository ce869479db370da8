// Dictionary-encoded scan columns (as Parquet dictionary pages give them) reach aggregations
// unflattened: expressions run once per dictionary entry, GROUP BY maps codes to groups. Every
// query here must return exactly what the same rows give as flat columns.
#include <gtest/gtest.h>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/result_format.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

// Three morsels; each has its own dictionaries for `status` and `code`, shared by its batches.
// `code`'s dictionary holds an entry no row uses ("oops", not an integer), and morsel 1 has
// NULL statuses in one batch.
class DictTable final : public Table {
 public:
  DictTable() {
    schema_.fields = {{"status", DataType::Varchar()}, {"amount", DataType::Int64()},
                      {"code", DataType::Varchar()}};
    for (size_t m = 0; m < 3; ++m) {
      std::vector<std::string> statuses = {"PAID", "refunded", "Paid", "PENDING"};
      if (m == 2) statuses = {"PENDING", "PAID"};  // other dictionary, other order
      status_dicts_.push_back(MakeDict(statuses));
      code_dicts_.push_back(MakeDict({"1", "22", "oops", "333"}));
      morsels_.push_back(Morsel{.index = m, .rows = -1, .file = "m" + std::to_string(m), .stats = {}});
    }
  }
  const std::string& name() const override { return name_; }
  const Schema& schema() const override { return schema_; }
  Result<std::vector<Morsel>> Morsels() const override { return morsels_; }

  Status ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                    const std::function<Status(Batch&)>& sink) const override {
    for (size_t b = 0; b < 2; ++b) {
      Batch batch;
      batch.num_rows = b == 0 ? 37 : 11;
      for (int c : columns) {
        batch.columns.push_back(Column(m.index, b, c, batch.num_rows));
      }
      SL_RETURN_IF_ERROR(sink(batch));
    }
    return Status::OK();
  }

  // Row r of batch b of morsel m, as a flat value (null statuses in morsel 1, batch 1).
  static bool StatusNull(size_t m, size_t b, size_t r) { return m == 1 && b == 1 && r % 3 == 0; }
  uint32_t StatusCode(size_t m, size_t b, size_t r) const {
    return static_cast<uint32_t>((r * 7 + b + m) % status_dicts_[m]->size());
  }
  static uint32_t CodeCode(size_t b, size_t r) {
    uint32_t c = static_cast<uint32_t>((r + b) % 3);
    return c == 2 ? 3 : c;  // never "oops"
  }
  static int64_t Amount(size_t m, size_t b, size_t r) {
    return static_cast<int64_t>(m * 1000 + b * 100 + r);
  }

  // The same rows with flat columns.
  std::vector<Batch> FlatRows() const {
    std::vector<Batch> out;
    for (size_t m = 0; m < 3; ++m)
      for (size_t b = 0; b < 2; ++b) {
        Batch batch;
        batch.num_rows = b == 0 ? 37 : 11;
        for (int c = 0; c < 3; ++c) {
          ColumnVector v = Column(m, b, c, batch.num_rows);
          v.Flatten();
          batch.columns.push_back(std::move(v));
        }
        out.push_back(std::move(batch));
      }
    return out;
  }

 private:
  static std::shared_ptr<const ColumnVector> MakeDict(const std::vector<std::string>& values) {
    auto d = std::make_shared<ColumnVector>(DataType::Varchar(), values.size());
    d->Resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) d->SetString(i, values[i]);
    return d;
  }

  ColumnVector Column(size_t m, size_t b, int c, size_t n) const {
    if (c == 1) {
      ColumnVector v(DataType::Int64(), n);
      v.Resize(n);
      for (size_t r = 0; r < n; ++r) v.data<int64_t>()[r] = Amount(m, b, r);
      return v;
    }
    ColumnVector v(DataType::Varchar(), n);
    v.MakeDictionary(c == 0 ? status_dicts_[m] : code_dicts_[m], n);
    for (size_t r = 0; r < n; ++r) {
      v.data<uint32_t>()[r] = c == 0 ? StatusCode(m, b, r) : CodeCode(b, r);
      if (c == 0 && StatusNull(m, b, r)) {
        v.data<uint32_t>()[r] = 0;
        v.SetNull(r);
      }
    }
    return v;
  }

  std::string name_ = "dict";
  Schema schema_;
  std::vector<std::shared_ptr<const ColumnVector>> status_dicts_, code_dicts_;
  std::vector<Morsel> morsels_;
};

class DictionaryScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto table = std::make_shared<DictTable>();
    auto dict_catalog = std::make_shared<MemoryCatalog>();
    dict_catalog->AddTable(table);
    auto flat_catalog = std::make_shared<MemoryCatalog>();
    flat_catalog->AddTable(MemoryTable::Make("dict", table->schema(), table->FlatRows(), 16));
    auto a = Engine::Open({.catalog = dict_catalog});
    auto b = Engine::Open({.catalog = flat_catalog});
    ASSERT_TRUE(a.ok() && b.ok());
    dict_ = std::move(*a);
    flat_ = std::move(*b);
  }

  static std::string Run(const Engine& engine, const std::string& sql) { return testutil::RowsText(engine, sql); }

  // Runs on both tables; returns the dictionary side's rows after checking they are the same.
  std::string Same(const std::string& sql) {
    std::string d = Run(*dict_, sql), f = Run(*flat_, sql);
    EXPECT_EQ(d, f) << sql;
    EXPECT_EQ(d.find("ERROR"), std::string::npos) << sql << "\n" << d;
    return d;
  }

  std::unique_ptr<Engine> dict_, flat_;
};

TEST_F(DictionaryScanTest, GroupByDictionaryColumn) {
  std::string rows = Same("SELECT status, count(*), sum(amount) FROM dict GROUP BY status ORDER BY status NULLS FIRST");
  EXPECT_EQ(rows.substr(0, 5), "NULL|") << rows;  // NULL statuses form their own group
  Same("SELECT status, code, count(*) FROM dict GROUP BY status, code ORDER BY 1 NULLS FIRST, 2");
  Same("SELECT 'k' AS k, status, max(amount) FROM dict GROUP BY 1, 2 ORDER BY 2 NULLS FIRST");
  Same("SELECT count(DISTINCT status), count(DISTINCT code) FROM dict");
}

TEST_F(DictionaryScanTest, ExpressionsPerDictionaryEntry) {
  Same("SELECT count_if(status = 'PAID'), count(*) FROM dict");
  Same("SELECT length(status) AS n, count(*) FROM dict GROUP BY 1 ORDER BY 1 NULLS FIRST");
  Same("SELECT lower(status) AS s, count(*) FROM dict GROUP BY 1 ORDER BY 1 NULLS FIRST");
  Same("SELECT status IS NULL, count(*) FROM dict GROUP BY 1 ORDER BY 1");
  Same("SELECT count(*) FROM dict WHERE status IN ('PAID', 'PENDING')");
  Same("SELECT sum(amount) FROM dict WHERE upper(status) = 'PAID' AND amount > 5");
  Same("SELECT status, amount FROM dict WHERE status = 'refunded' ORDER BY amount");
}

TEST_F(DictionaryScanTest, FilteredRowsKeepTheirDictionaries) {
  // A filter before the GROUP BY gathers codes (the dictionary shared); two dictionary keys map
  // their combinations of codes to groups (the batch of 11 rows has fewer rows than
  // combinations, and the NULL statuses of morsel 1 take the general path).
  Same("SELECT status, code, count(*), sum(amount) FROM dict WHERE amount % 3 <> 0 "
       "GROUP BY status, code ORDER BY 1 NULLS FIRST, 2");
  Same("SELECT code, status, min(amount) FROM dict WHERE amount > 1005 AND status <> 'Paid' "
       "GROUP BY code, status ORDER BY 1, 2 NULLS FIRST");
  Same("SELECT status, count(*) FROM dict WHERE code IN ('1', '333') GROUP BY status ORDER BY 1 NULLS FIRST");
}

TEST_F(DictionaryScanTest, UnusedEntryThatFailsDoesNotFailTheQuery) {
  // "oops" is in every dictionary of `code` but in no row: a cast per entry would fail on it.
  std::string rows = Same("SELECT sum(CAST(code AS INTEGER)), count(*) FROM dict");
  EXPECT_NE(rows, "");
  Same("SELECT CAST(code AS INTEGER) AS c, count(*) FROM dict GROUP BY 1 ORDER BY 1");
}

TEST_F(DictionaryScanTest, ScalarSubqueryValuePrunesMorsels) {
  // The flat table has per-morsel min/max; the subquery's value is known before the scan starts.
  const std::string q = "SELECT amount FROM dict WHERE amount = (SELECT max(amount) FROM dict)";
  EXPECT_EQ(Run(*flat_, q), "2110\n");
  std::string plan = Run(*flat_, "EXPLAIN ANALYZE " + q);
  EXPECT_EQ(plan.find("skipped: 0"), std::string::npos) << plan;
  EXPECT_NE(plan.find("skipped: "), std::string::npos) << plan;
}

}  // namespace
}  // namespace saleslake::sql
