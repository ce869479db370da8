#include "server/internal/kinesis_records.h"

#include <openssl/evp.h>

#include <array>
#include <nlohmann/json.hpp>

namespace saleslake::server::internal {
namespace {

// -1 for a byte outside the base64 alphabet ('=' included: padding is handled apart).
constexpr std::array<int8_t, 256> kBase64 = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}();

// Strict base64 (length a multiple of 4, padding only at the end) appended to *out; false for
// anything else, which the generic path then judges (OpenSSL's decoder tolerates more).
bool DecodeBase64(std::string_view in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  if (in.empty()) return true;
  size_t pad = in.back() == '=' ? (in[in.size() - 2] == '=' ? 2 : 1) : 0;
  const size_t full = in.size() / 4 - (pad ? 1 : 0);
  const size_t at = out->size();
  out->resize(at + in.size() / 4 * 3 - pad);
  auto* o = reinterpret_cast<unsigned char*>(out->data() + at);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  for (size_t q = 0; q < full; ++q, p += 4, o += 3) {
    int a = kBase64[p[0]], b = kBase64[p[1]], c = kBase64[p[2]], d = kBase64[p[3]];
    if ((a | b | c | d) < 0) return false;
    uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
    o[0] = static_cast<unsigned char>(v >> 16);
    o[1] = static_cast<unsigned char>(v >> 8);
    o[2] = static_cast<unsigned char>(v);
  }
  if (pad) {
    int a = kBase64[p[0]], b = kBase64[p[1]], c = pad == 1 ? kBase64[p[2]] : 0;
    if ((a | b | c) < 0) return false;
    uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6);
    o[0] = static_cast<unsigned char>(v >> 16);
    if (pad == 1) o[1] = static_cast<unsigned char>(v >> 8);
  }
  return true;
}

// A cursor over the body; every method returns false where the fast path declines.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  // A string of printable ASCII without escapes: its bytes are exactly its value.
  bool String(std::string_view* out) {
    if (!Consume('"')) return false;
    const size_t start = pos_;
    for (; pos_ < text_.size(); ++pos_) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        *out = text_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// One element of Records: its members, validated as kinesis_api.cc's DecodeEntry does.
bool ScanRecord(Scanner& s, stream::PutEntryRef* rec, size_t* data_at, size_t* data_len, std::string* data) {
  if (!s.Consume('{')) return false;
  bool have_data = false, have_key = false, have_hash = false;
  if (!s.Peek('}')) {
    do {
      std::string_view name, value;
      if (!s.String(&name) || !s.Consume(':') || !s.String(&value)) return false;
      if (name == "Data" && !have_data) {
        have_data = true;
        *data_at = data->size();
        if (!DecodeBase64(value, data)) return false;
        *data_len = data->size() - *data_at;
        if (*data_len > stream::kMaxRecordBytes) return false;
      } else if (name == "PartitionKey" && !have_key) {
        have_key = true;
        if (value.empty() || value.size() > 256) return false;
        rec->partition_key = value;
      } else if (name == "ExplicitHashKey" && !have_hash) {
        have_hash = true;
        rec->explicit_hash_key = value;
      } else {
        return false;  // unknown or repeated: the generic path knows what to do
      }
    } while (s.Consume(','));
  }
  return s.Consume('}') && have_data && have_key;
}

}  // namespace

bool ScanPutRecords(std::string_view body, PutRecordsInput* out) {
  Scanner s(body);
  out->stream.clear();
  out->records.clear();
  out->data.clear();
  // Every record's data fits: base64 is 4/3 of it.
  out->data.reserve(body.size() / 4 * 3);
  std::vector<std::pair<size_t, size_t>> spans;  // each record's data in out->data
  std::string_view name, arn;
  bool have_name = false, have_arn = false, have_records = false;
  if (!s.Consume('{') || s.Peek('}')) return false;
  do {
    std::string_view member;
    if (!s.String(&member) || !s.Consume(':')) return false;
    if (member == "StreamName" && !have_name) {
      have_name = true;
      if (!s.String(&name)) return false;
    } else if (member == "StreamARN" && !have_arn) {
      have_arn = true;
      if (!s.String(&arn)) return false;
    } else if (member == "Records" && !have_records) {
      have_records = true;
      if (!s.Consume('[') || s.Peek(']')) return false;
      do {
        if (out->records.size() == stream::kMaxPutRecordsCount) return false;
        stream::PutEntryRef rec;
        size_t at = 0, len = 0;
        if (!ScanRecord(s, &rec, &at, &len, &out->data)) return false;
        out->records.push_back(rec);
        spans.emplace_back(at, len);
      } while (s.Consume(','));
      if (!s.Consume(']')) return false;
    } else {
      return false;
    }
  } while (s.Consume(','));
  if (!s.Consume('}') || !s.AtEnd() || !have_records) return false;
  if (have_name) {
    out->stream.assign(name);
  } else if (have_arn) {
    auto p = arn.find(":stream/");
    if (p == std::string_view::npos) return false;
    out->stream.assign(arn.substr(p + 8));
  }
  if (out->stream.empty() || out->stream.size() > 128) return false;
  size_t total = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    out->records[i].data = std::string_view(out->data).substr(spans[i].first, spans[i].second);
    total += spans[i].second + out->records[i].partition_key.size();
  }
  return total <= stream::kMaxPutRecordsBytes;
}

std::string PutRecordsReply(std::span<const stream::PutPlacement> placed) {
  std::string out;
  out.reserve(64 + placed.size() * 72);
  size_t failed = 0;
  for (const auto& p : placed) failed += p.status.ok() ? 0 : 1;
  out += R"({"EncryptionType":"NONE","FailedRecordCount":)";
  out += std::to_string(failed);
  out += R"(,"Records":[)";
  std::vector<std::string> shard_ids;  // per shard, made once
  for (size_t i = 0; i < placed.size(); ++i) {
    const stream::PutPlacement& p = placed[i];
    if (i) out += ',';
    if (p.status.ok()) {
      out += R"({"SequenceNumber":")";
      stream::AppendSequenceNumber(&out, p.ordinal);
      out += R"(","ShardId":")";
      const auto shard = static_cast<size_t>(p.shard);
      if (shard >= shard_ids.size()) shard_ids.resize(shard + 1);
      if (shard_ids[shard].empty()) shard_ids[shard] = stream::ShardIdOf(p.shard);
      out += shard_ids[shard];
      out += "\"}";
    } else {
      std::string type = stream::KinesisErrorOf(p.status);
      if (type != "ProvisionedThroughputExceededException") type = "InternalFailure";
      out += R"({"ErrorCode":")";
      out += type;
      out += R"(","ErrorMessage":)";
      out += nlohmann::json(p.status.message()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out += '}';
    }
  }
  out += "]}";
  return out;
}

namespace {

// `text` as a JSON string the way nlohmann renders it: printable ASCII as is, the rest through
// nlohmann's own escaping.
void AppendJsonString(std::string* out, std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      *out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  *out += '"';
  *out += text;
  *out += '"';
}

}  // namespace

std::string GetRecordsReply(const stream::GetRecordsResult& result) {
  size_t size = 128 + result.next_iterator.size();
  for (const auto& r : result.records) size += 128 + r.partition_key.size() + (r.data.size() + 2) / 3 * 4;
  std::string out;
  out.reserve(size);
  out += R"({"MillisBehindLatest":)";
  out += std::to_string(result.millis_behind_latest);
  out += R"(,"NextShardIterator":)";
  AppendJsonString(&out, result.next_iterator);
  out += R"(,"Records":[)";
  int64_t last_ms = -1;
  std::string arrival;  // consecutive records mostly share their millisecond: rendered once
  for (size_t i = 0; i < result.records.size(); ++i) {
    const stream::StreamRecord& r = result.records[i];
    if (r.arrival_ms != last_ms) {
      last_ms = r.arrival_ms;
      arrival = nlohmann::json(static_cast<double>(r.arrival_ms) / 1000.0).dump();
    }
    if (i) out += ',';
    out += R"({"ApproximateArrivalTimestamp":)";
    out += arrival;
    out += R"(,"Data":")";
    const size_t at = out.size();
    out.resize(at + (r.data.size() + 2) / 3 * 4 + 1);  // EVP_EncodeBlock adds a NUL
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                  reinterpret_cast<const unsigned char*>(r.data.data()), static_cast<int>(r.data.size()));
    out.resize(at + static_cast<size_t>(n > 0 ? n : 0));
    out += R"(","PartitionKey":)";
    AppendJsonString(&out, r.partition_key);
    out += R"(,"SequenceNumber":")";
    out += r.sequence_number;
    out += "\"}";
  }
  out += "]}";
  return out;
}

}  // namespace saleslake::server::internal
