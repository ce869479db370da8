#include "server/internal/cbor.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "server/internal/util.h"

namespace saleslake::server::internal {

namespace {

constexpr int kMaxDepth = 64;
constexpr uint8_t kIndefinite = 31;

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  Result<nlohmann::json> Document() {
    if (in_.empty()) return nlohmann::json::object();  // an empty body, as in JSON 1.1
    nlohmann::json out;
    SL_RETURN_IF_ERROR(Item(0, &out));
    if (pos_ != in_.size()) return Fail("trailing bytes after the document");
    return out;
  }

 private:
  Status Fail(const std::string& why) const {
    return Status::InvalidArgument("CBOR body: " + why + " at byte " + std::to_string(pos_));
  }

  Status Byte(uint8_t* b) {
    if (pos_ >= in_.size()) return Fail("unexpected end of input");
    *b = static_cast<uint8_t>(in_[pos_++]);
    return Status::OK();
  }

  // The argument of a head whose additional information is `info` (RFC 8949 3.1).
  Status Argument(uint8_t info, uint64_t* value) {
    if (info < 24) {
      *value = info;
      return Status::OK();
    }
    if (info > 27) return Fail("reserved additional information " + std::to_string(info));
    const size_t n = size_t{1} << (info - 24);
    if (in_.size() - pos_ < n) return Fail("unexpected end of input");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += n;
    *value = v;
    return Status::OK();
  }

  // Each element of an array or map takes at least one byte: a count beyond the rest of the
  // input is refused before anything is allocated for it.
  Status CheckCount(uint64_t count, uint64_t bytes_each) {
    if (count > (in_.size() - pos_) / bytes_each) return Fail("a length beyond the end of the input");
    return Status::OK();
  }

  // A byte or text string, definite or made of definite chunks of the same major type.
  Status String(uint8_t major, uint8_t info, std::string* out) {
    if (info != kIndefinite) {
      uint64_t n = 0;
      SL_RETURN_IF_ERROR(Argument(info, &n));
      SL_RETURN_IF_ERROR(CheckCount(n, 1));
      out->append(in_.substr(pos_, n));
      pos_ += n;
      return Status::OK();
    }
    for (;;) {
      uint8_t head = 0;
      SL_RETURN_IF_ERROR(Byte(&head));
      if (head == 0xff) return Status::OK();
      if ((head >> 5) != major || (head & 31) == kIndefinite) return Fail("a bad chunk in an indefinite string");
      SL_RETURN_IF_ERROR(String(major, head & 31, out));
    }
  }

  static double HalfToDouble(uint16_t h) {
    const int exp = (h >> 10) & 0x1f;
    const int mant = h & 0x3ff;
    double v = exp == 0 ? std::ldexp(mant, -24)
               : exp != 31 ? std::ldexp(mant + 1024, exp - 25)
               : (mant == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN());
    return (h & 0x8000) ? -v : v;
  }

  Status Item(int depth, nlohmann::json* out) {
    if (depth > kMaxDepth) return Fail("nesting deeper than " + std::to_string(kMaxDepth));
    uint8_t head = 0;
    SL_RETURN_IF_ERROR(Byte(&head));
    const uint8_t major = head >> 5;
    const uint8_t info = head & 31;
    uint64_t arg = 0;
    switch (major) {
      case 0:
        SL_RETURN_IF_ERROR(Argument(info, &arg));
        *out = arg;
        return Status::OK();
      case 1:
        SL_RETURN_IF_ERROR(Argument(info, &arg));
        if (arg > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Fail("a negative integer too large");
        *out = -1 - static_cast<int64_t>(arg);
        return Status::OK();
      case 2:
      case 3: {
        std::string s;
        SL_RETURN_IF_ERROR(String(major, info, &s));
        *out = major == 2 ? Base64Encode(s) : std::move(s);
        return Status::OK();
      }
      case 4:
      case 5: {
        *out = major == 4 ? nlohmann::json::array() : nlohmann::json::object();
        const bool indefinite = info == kIndefinite;
        if (!indefinite) {
          SL_RETURN_IF_ERROR(Argument(info, &arg));
          SL_RETURN_IF_ERROR(CheckCount(arg, major == 4 ? 1 : 2));
        }
        for (uint64_t i = 0; indefinite || i < arg; ++i) {
          if (indefinite) {
            if (pos_ >= in_.size()) return Fail("unexpected end of input");
            if (static_cast<uint8_t>(in_[pos_]) == 0xff) {
              ++pos_;
              break;
            }
          }
          if (major == 4) {
            nlohmann::json element;
            SL_RETURN_IF_ERROR(Item(depth + 1, &element));
            out->push_back(std::move(element));
            continue;
          }
          nlohmann::json key, value;
          SL_RETURN_IF_ERROR(Item(depth + 1, &key));
          if (!key.is_string()) return Fail("a map key that is not text");
          SL_RETURN_IF_ERROR(Item(depth + 1, &value));
          (*out)[key.get<std::string>()] = std::move(value);
        }
        return Status::OK();
      }
      case 6: {
        SL_RETURN_IF_ERROR(Argument(info, &arg));
        SL_RETURN_IF_ERROR(Item(depth + 1, out));
        if (arg == 1) {  // a timestamp: AWS writes epoch milliseconds
          if (!out->is_number()) return Fail("a timestamp (tag 1) that is not a number");
          *out = out->get<double>() / 1000.0;
        }
        return Status::OK();  // other tags carry no meaning for these APIs: their content is kept
      }
      default:  // 7: simple values and floats
        switch (info) {
          case 20: *out = false; return Status::OK();
          case 21: *out = true; return Status::OK();
          case 22:
          case 23: *out = nullptr; return Status::OK();
          case 25:
          case 26:
          case 27: {
            SL_RETURN_IF_ERROR(Argument(info, &arg));
            double v = info == 25 ? HalfToDouble(static_cast<uint16_t>(arg))
                       : info == 26 ? static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(arg)))
                                    : std::bit_cast<double>(arg);
            if (!std::isfinite(v)) return Fail("a number that is not finite");
            *out = v;
            return Status::OK();
          }
          case 31: return Fail("a break outside an indefinite-length item");
          default: return Fail("an unsupported simple value " + std::to_string(info));
        }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

void Head(std::string* out, uint8_t major, uint64_t arg) {
  const uint8_t m = static_cast<uint8_t>(major << 5);
  int bytes = 0;
  if (arg < 24) {
    out->push_back(static_cast<char>(m | arg));
    return;
  }
  if (arg <= 0xff) {
    out->push_back(static_cast<char>(m | 24));
    bytes = 1;
  } else if (arg <= 0xffff) {
    out->push_back(static_cast<char>(m | 25));
    bytes = 2;
  } else if (arg <= 0xffffffffull) {
    out->push_back(static_cast<char>(m | 26));
    bytes = 4;
  } else {
    out->push_back(static_cast<char>(m | 27));
    bytes = 8;
  }
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((arg >> (8 * i)) & 0xff));
}

void Integer(std::string* out, int64_t v) {
  if (v >= 0) {
    Head(out, 0, static_cast<uint64_t>(v));
  } else {
    Head(out, 1, static_cast<uint64_t>(-(v + 1)));
  }
}

void Encode(const nlohmann::json& j, std::string_view member, std::string* out) {
  const bool timestamp = member.size() >= 9 && member.substr(member.size() - 9) == "Timestamp";
  if (timestamp && j.is_number()) {
    Head(out, 6, 1);
    Integer(out, static_cast<int64_t>(std::llround(j.get<double>() * 1000.0)));
    return;
  }
  switch (j.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      out->push_back(static_cast<char>(0xf6));
      return;
    case nlohmann::json::value_t::boolean:
      out->push_back(static_cast<char>(j.get<bool>() ? 0xf5 : 0xf4));
      return;
    case nlohmann::json::value_t::number_unsigned:
      Head(out, 0, j.get<uint64_t>());
      return;
    case nlohmann::json::value_t::number_integer:
      Integer(out, j.get<int64_t>());
      return;
    case nlohmann::json::value_t::number_float: {
      out->push_back(static_cast<char>(0xfb));
      const uint64_t bits = std::bit_cast<uint64_t>(j.get<double>());
      for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
      return;
    }
    case nlohmann::json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      if (member == "Data") {
        if (auto bytes = Base64Decode(s)) {
          Head(out, 2, bytes->size());
          out->append(*bytes);
          return;
        }
      }
      Head(out, 3, s.size());
      out->append(s);
      return;
    }
    case nlohmann::json::value_t::binary: {
      const auto& b = j.get_binary();
      Head(out, 2, b.size());
      out->append(reinterpret_cast<const char*>(b.data()), b.size());
      return;
    }
    case nlohmann::json::value_t::array:
      Head(out, 4, j.size());
      for (const auto& e : j) Encode(e, member, out);
      return;
    case nlohmann::json::value_t::object:
      Head(out, 5, j.size());
      for (const auto& [k, v] : j.items()) {
        Head(out, 3, k.size());
        out->append(k);
        Encode(v, k, out);
      }
      return;
  }
}

}  // namespace

Result<nlohmann::json> DecodeAwsCbor(std::string_view bytes) { return Decoder(bytes).Document(); }

std::string EncodeAwsCbor(const nlohmann::json& doc) {
  std::string out;
  Encode(doc, "", &out);
  return out;
}

}  // namespace saleslake::server::internal
