// Helpers shared by the Parquet tests: in-memory output, random batches, full reads.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "formats/parquet/parquet.h"
#include "io/object_store.h"

namespace saleslake::parquet::testutil {

class StringOutputStream : public io::OutputStream {
 public:
  Status Append(std::string_view data) override {
    data_.append(data);
    return Status::OK();
  }
  uint64_t bytes_written() const override { return data_.size(); }
  Status Commit() override { return Status::OK(); }
  std::string& data() { return data_; }

 private:
  std::string data_;
};

// One cell as a Value (NULL when invalid), whatever the vector encoding.
inline Value CellValue(const ColumnVector& v, size_t row) {
  const DataType& t = v.type();
  if (!v.IsValid(row)) return Value::Null(t);
  switch (t.id) {
    case TypeId::kBoolean: return Value::Boolean(v.GetValue<uint8_t>(row) != 0);
    case TypeId::kInt32: return Value::Int32(v.GetValue<int32_t>(row));
    case TypeId::kInt64: return Value::Int64(v.GetValue<int64_t>(row));
    case TypeId::kFloat: return Value::Float(v.GetValue<float>(row));
    case TypeId::kDouble: return Value::Double(v.GetValue<double>(row));
    case TypeId::kDate: return Value::Date(v.GetValue<int32_t>(row));
    case TypeId::kTimestamp: return Value::Timestamp(v.GetValue<int64_t>(row));
    case TypeId::kVarchar: return Value::Varchar(std::string(v.GetValue<std::string_view>(row)));
    case TypeId::kDecimal: {
      if (!t.is_wide_decimal()) return Value::Decimal(v.GetValue<int64_t>(row), t.precision, t.scale);
      __int128 x;
      const uint8_t* src;
      if (v.encoding() == VectorEncoding::kFlat) src = v.data<uint8_t>() + row * 16;
      else if (v.encoding() == VectorEncoding::kConstant) src = v.data<uint8_t>();
      else src = v.dictionary()->data<uint8_t>() + v.data<uint32_t>()[row] * 16;
      std::memcpy(&x, src, 16);
      return Value::Decimal(x, t.precision, t.scale);
    }
    default: return Value();
  }
}

// Rows of a file as Values, row-major.
inline Result<std::vector<std::vector<Value>>> ReadAll(const std::string& bytes) {
  std::shared_ptr<const io::RandomAccessFile> f(io::MakeMemoryFile(bytes, "mem.parquet"));
  SL_ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(f));
  std::vector<int> cols;
  for (size_t i = 0; i < reader->schema().size(); ++i) cols.push_back(static_cast<int>(i));
  std::vector<std::vector<Value>> rows;
  for (int g = 0; g < reader->num_row_groups(); ++g) {
    SL_RETURN_IF_ERROR(reader->ReadRowGroup(g, cols, [&](Batch& b) {
      for (size_t r = 0; r < b.num_rows; ++r) {
        std::vector<Value> row;
        for (auto& c : b.columns) row.push_back(CellValue(c, r));
        rows.push_back(std::move(row));
      }
      return Status::OK();
    }));
  }
  return rows;
}

}  // namespace saleslake::parquet::testutil
