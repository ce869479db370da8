#include "auth/internal/json.h"

#include "common/json.h"
#include "common/text_position.h"

namespace saleslake::auth::internal {

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& m : members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

std::string_view JsonValue::KindName() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "a boolean";
    case Kind::kNumber: return "a number";
    case Kind::kString: return "a string";
    case Kind::kArray: return "an array";
    case Kind::kObject: return "an object";
  }
  return "?";
}

std::string JsonPosition(std::string_view text, size_t offset) {
  TextPosition p = PositionOf(text, offset);
  return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column) + " (byte " +
         std::to_string(offset) + ")";
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  Result<JsonValue> Run() {
    JsonValue v;
    SL_RETURN_IF_ERROR(Value(&v, 0));
    SkipSpace();
    if (pos_ != t_.size()) return Error(pos_, "unexpected text after the document");
    return v;
  }

 private:
  Status Error(size_t at, std::string_view why) const {
    return Status::InvalidArgument(JsonPosition(t_, at) + ": " + std::string(why));
  }
  void SkipSpace() {
    while (pos_ < t_.size() &&
           (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r')) {
      ++pos_;
    }
  }

  Status Value(JsonValue* v, int depth) {
    if (depth > 64) return Error(pos_, "nesting deeper than 64 levels");
    SkipSpace();
    if (pos_ >= t_.size()) return Error(pos_, "unexpected end of document, expected a value");
    v->offset = pos_;
    char c = t_[pos_];
    if (c == '{') return Object(v, depth);
    if (c == '[') return Array(v, depth);
    if (c == '"') {
      v->kind = JsonValue::Kind::kString;
      return String(&v->text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return Number(v);
    for (std::string_view lit : {"true", "false", "null"}) {
      if (t_.substr(pos_, lit.size()) == lit) {
        v->kind = lit == "null" ? JsonValue::Kind::kNull : JsonValue::Kind::kBool;
        v->text = std::string(lit);
        pos_ += lit.size();
        return Status::OK();
      }
    }
    return Error(pos_, std::string("unexpected character '") + c + "', expected a value");
  }

  Status Object(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (pos_ < t_.size() && t_[pos_] == '}') {
      ++pos_;
      return Status::OK();
    }
    while (true) {
      SkipSpace();
      if (pos_ >= t_.size() || t_[pos_] != '"') return Error(pos_, "expected a quoted member name");
      JsonMember m;
      m.key_offset = pos_;
      SL_RETURN_IF_ERROR(String(&m.key));
      for (const auto& other : v->members) {
        if (other.key == m.key) return Error(m.key_offset, "duplicate member \"" + m.key + "\"");
      }
      SkipSpace();
      if (pos_ >= t_.size() || t_[pos_] != ':') return Error(pos_, "expected ':' after a member name");
      ++pos_;
      SL_RETURN_IF_ERROR(Value(&m.value, depth + 1));
      v->members.push_back(std::move(m));
      SkipSpace();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < t_.size() && t_[pos_] == '}') {
        ++pos_;
        return Status::OK();
      }
      return Error(pos_, "expected ',' or '}' in an object");
    }
  }

  Status Array(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (pos_ < t_.size() && t_[pos_] == ']') {
      ++pos_;
      return Status::OK();
    }
    while (true) {
      JsonValue item;
      SL_RETURN_IF_ERROR(Value(&item, depth + 1));
      v->items.push_back(std::move(item));
      SkipSpace();
      if (pos_ < t_.size() && t_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < t_.size() && t_[pos_] == ']') {
        ++pos_;
        return Status::OK();
      }
      return Error(pos_, "expected ',' or ']' in an array");
    }
  }

  Status Number(JsonValue* v) {
    size_t start = pos_;
    if (t_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t s = pos_;
      while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9') ++pos_;
      return pos_ > s;
    };
    if (!digits()) return Error(pos_, "malformed number");
    if (pos_ < t_.size() && t_[pos_] == '.') {
      ++pos_;
      if (!digits()) return Error(pos_, "malformed number: digits expected after '.'");
    }
    if (pos_ < t_.size() && (t_[pos_] == 'e' || t_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < t_.size() && (t_[pos_] == '+' || t_[pos_] == '-')) ++pos_;
      if (!digits()) return Error(pos_, "malformed number: digits expected in the exponent");
    }
    v->kind = JsonValue::Kind::kNumber;
    v->text = std::string(t_.substr(start, pos_ - start));
    return Status::OK();
  }

  Status String(std::string* out) {
    out->clear();
    if (const char* why = ReadJsonString(t_, &pos_, out)) return Error(pos_, why);
    return Status::OK();
  }

  std::string_view t_;
  size_t pos_ = 0;
};

}  // namespace

Result<JsonValue> ParseJson(std::string_view text) { return Parser(text).Run(); }

}  // namespace saleslake::auth::internal
