// Helpers shared by the SQL unit tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/parquet/parquet.h"
#include "io/object_store.h"
#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/internal/memory_writer.h"

#include "sql/result_format.h"
#include "sql/sql.h"

namespace saleslake::sql::testutil {

// Runs `sql`; its rows as "a|b" lines in result order (NULL as "NULL"), or "ERROR: message".
inline std::string RowsText(const Engine& engine, const std::string& sql) {
  auto r = engine.Execute(sql);
  if (!r.ok()) return "ERROR: " + r.status().message();
  std::string out;
  for (const auto& b : r->result.batches)
    for (size_t i = 0; i < b.num_rows; ++i) {
      for (size_t c = 0; c < b.columns.size(); ++c) out += (c ? "|" : "") + CellText(b.columns[c], i);
      out += "\n";
    }
  return out;
}

// An engine over `catalog` whose CREATE TABLE AS and INSERT write into it.
inline std::unique_ptr<Engine> OpenMemoryEngine(const std::shared_ptr<MemoryCatalog>& catalog) {
  auto engine = Engine::Open({.catalog = catalog, .writer = MakeMemoryCatalogWriter(catalog)});
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(*engine) : nullptr;
}

// A Parquet file as an in-memory table (dictionary columns flattened), cut in morsels of
// `morsel_rows` rows.
inline std::shared_ptr<MemoryTable> LoadParquet(const std::string& name, const std::string& path,
                                                size_t morsel_rows = 700) {
  auto file = io::OpenLocalFile(path);
  EXPECT_TRUE(file.ok()) << path;
  std::shared_ptr<const io::RandomAccessFile> shared(std::move(*file));
  auto reader = parquet::ParquetReader::Open(shared);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<Batch> batches;
  std::vector<int> cols;
  for (size_t i = 0; i < (*reader)->schema().size(); ++i) cols.push_back(static_cast<int>(i));
  for (int rg = 0; rg < (*reader)->num_row_groups(); ++rg) {
    Status s = (*reader)->ReadRowGroup(rg, cols, [&](Batch& b) {
      for (auto& c : b.columns)
        if (c.encoding() == VectorEncoding::kDictionary) c.Flatten();
      batches.push_back(std::move(b));
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  // Small morsels so that parallel pipelines and partial-aggregate merges are exercised.
  return MemoryTable::Make(name, (*reader)->schema(), std::move(batches), morsel_rows);
}

// One CSV line (RFC 4180 quoting, no embedded newlines) as its fields.
inline std::vector<std::string> ParseCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace saleslake::sql::testutil
