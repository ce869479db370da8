// A small JSON parser that keeps every value's byte offset, so a policy error can say where it
// is ("line 4, column 17 (byte 93)"). nlohmann::json reports positions of syntax errors only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace saleslake::auth::internal {

struct JsonMember;

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  size_t offset = 0;     // byte offset of the value's first character
  std::string text;      // kString: the decoded string; kNumber: the literal; kBool: true/false
  std::vector<JsonValue> items;  // kArray
  // kObject: keys in document order (duplicates refused by the parser) with the key's offset.
  std::vector<JsonMember> members;

  const JsonValue* Find(std::string_view key) const;
  std::string_view KindName() const;
};

struct JsonMember {
  std::string key;
  size_t key_offset = 0;
  JsonValue value;
};

// "line L, column C (byte B)" of `offset` in `text` (1-based line and column).
std::string JsonPosition(std::string_view text, size_t offset);

// InvalidArgument "line L, column C (byte B): reason" on a syntax error, a duplicate key, or
// nesting deeper than 64.
Result<JsonValue> ParseJson(std::string_view text);

}  // namespace saleslake::auth::internal
