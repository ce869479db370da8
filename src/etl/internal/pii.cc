#include "etl/internal/pii.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <cctype>

#include "common/encoding.h"
#include "etl/internal/sha256.h"

namespace saleslake::etl::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool EmailLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool EmailDomainChar(char c) { return IsAlnum(c) || c == '.' || c == '-'; }

// local@domain.tld around the '@' at `at`; [begin, end) on success.
bool MatchEmail(std::string_view s, size_t at, size_t* begin, size_t* end) {
  size_t b = at;
  while (b > 0 && EmailLocalChar(s[b - 1])) --b;
  while (b < at && (s[b] == '.' || s[b] == '-')) ++b;  // a local part does not start with '.'
  if (b == at) return false;
  size_t e = at + 1;
  while (e < s.size() && EmailDomainChar(s[e])) ++e;
  while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) --e;  // trailing punctuation
  std::string_view domain = s.substr(at + 1, e - at - 1);
  size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  std::string_view tld = domain.substr(dot + 1);
  if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), [](char c) {
        return std::isalpha(static_cast<unsigned char>(c)) != 0;
      }))
    return false;
  if (domain.find("..") != std::string_view::npos) return false;
  *begin = b;
  *end = e;
  return true;
}

bool BoundaryBefore(std::string_view s, size_t i) { return i == 0 || !IsAlnum(s[i - 1]); }
bool BoundaryAfter(std::string_view s, size_t i) { return i >= s.size() || !IsAlnum(s[i]); }

// ddd-dd-dddd with the SSA's never-issued ranges excluded.
bool MatchSsn(std::string_view s, size_t i, size_t* end) {
  if (i + 11 > s.size() || !BoundaryBefore(s, i)) return false;
  static constexpr char kShape[] = "ddd-dd-dddd";
  for (size_t k = 0; k < 11; ++k) {
    char c = s[i + k];
    if (kShape[k] == 'd' ? !IsDigit(c) : c != '-') return false;
  }
  if (!BoundaryAfter(s, i + 11)) return false;
  std::string_view area = s.substr(i, 3), group = s.substr(i + 4, 2), serial = s.substr(i + 7, 4);
  if (area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000")
    return false;
  *end = i + 11;
  return true;
}

// Digits with single ' ' or '-' separators: 13..19 digits, Luhn-valid.
bool MatchCard(std::string_view s, size_t i, size_t* end) {
  if (!IsDigit(s[i]) || !BoundaryBefore(s, i)) return false;
  size_t digits = 0, k = i, last_digit_end = i;
  while (k < s.size()) {
    if (IsDigit(s[k])) {
      ++digits;
      last_digit_end = ++k;
      if (digits > 19) return false;
    } else if ((s[k] == ' ' || s[k] == '-') && k + 1 < s.size() && IsDigit(s[k + 1])) {
      ++k;
    } else {
      break;
    }
  }
  if (digits < 13 || !BoundaryAfter(s, last_digit_end)) return false;
  if (!LuhnValid(s.substr(i, last_digit_end - i))) return false;
  *end = last_digit_end;
  return true;
}

// Phone numbers: "+" and 8..15 digits, or 10..11 digits written with phone punctuation
// ("(555) 123-4567", "555-123-4567", "555.123.4567"). Plain digit runs, and runs split only by
// spaces, are not phones: they are far more often ids, amounts or parts of account numbers.
bool MatchPhone(std::string_view s, size_t i, size_t* end) {
  if (!BoundaryBefore(s, i)) return false;
  bool plus = s[i] == '+';
  if (!plus && !IsDigit(s[i]) && s[i] != '(') return false;
  size_t k = plus ? i + 1 : i, digits = 0, separators = 0, last_digit_end = 0;
  int parens = 0;
  while (k < s.size()) {
    char c = s[k];
    if (IsDigit(c)) {
      ++digits;
      last_digit_end = k + 1;
    } else if (c == ' ' || c == '-' || c == '.') {
      if (k + 1 >= s.size() || !(IsDigit(s[k + 1]) || s[k + 1] == '(')) break;
      if (c != ' ') ++separators;
    } else if (c == '(') {
      if (parens != 0) break;
      parens = 1;
      ++separators;
    } else if (c == ')') {
      if (parens != 1) break;
      parens = 2;
      ++separators;
    } else {
      break;
    }
    ++k;
    if (digits > 15) return false;
  }
  if (last_digit_end == 0 || parens == 1 || !BoundaryAfter(s, last_digit_end)) return false;
  bool ok = plus ? digits >= 8 && digits <= 15 : digits >= 10 && digits <= 11 && separators >= 2;
  if (!ok) return false;
  *end = last_digit_end;
  return true;
}

// Two capital letters, two check digits, then 11..30 capital letters/digits, optionally in
// space-separated groups of four; mod-97 valid.
bool MatchIban(std::string_view s, size_t i, size_t* end) {
  if (i + 15 > s.size() || !BoundaryBefore(s, i)) return false;
  if (!IsUpper(s[i]) || !IsUpper(s[i + 1]) || !IsDigit(s[i + 2]) || !IsDigit(s[i + 3]))
    return false;
  std::string compact;
  size_t k = i, last = i;
  while (k < s.size() && compact.size() < 34) {
    char c = s[k];
    if (IsDigit(c) || IsUpper(c)) {
      compact += c;
      last = ++k;
    } else if (c == ' ' && k + 1 < s.size() && (IsDigit(s[k + 1]) || IsUpper(s[k + 1])) &&
               compact.size() % 4 == 0) {
      ++k;
    } else {
      break;
    }
  }
  if (compact.size() < 15 || !BoundaryAfter(s, last) || !IbanValid(compact)) return false;
  *end = last;
  return true;
}

// Cheap test: can the text hold any entity at all? Emails need '@'; the rest need digits.
// Every string column of every row passes here, so eight bytes are tested at a time: a byte is
// '@' when it XORs to zero with 0x40, a digit when 0x30 <= b < 0x3A (the high bit of each lane
// after the biased subtractions, for 7-bit bytes only).
bool MightContain(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  int digits = 0;
  // Whether the eight lanes of w hold an '@', else adds its digits to `digits`.
  auto word = [&](uint64_t w) {
    uint64_t at = w ^ (0x40 * kOnes);
    if ((at - kOnes) & ~at & kHigh) return true;
    uint64_t ascii = ~w & kHigh;
    uint64_t ge0 = ((w | kHigh) - 0x30 * kOnes) & kHigh;  // lane >= '0'
    uint64_t ge10 = ((w | kHigh) - 0x3A * kOnes) & kHigh;  // lane > '9'
    // Lanes holding a digit have only their 0x80 bit set: move it to bit 0 and let the multiply
    // add the eight lanes up into the top byte (std::popcount is a libgcc call without -mpopcnt).
    digits += static_cast<int>((((ge0 & ~ge10 & ascii) >> 7) * kOnes) >> 56);
    return false;
  };
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (word(w) || digits >= 8) return true;
  }
  const size_t tail = s.size() - i;
  if (tail == 0) return false;
  // The last 1-7 bytes as one more word: zero lanes are neither '@' nor digits. Strings of 8
  // bytes or more reload their last eight and clear the lanes already counted (low lanes on a
  // little-endian machine); shorter ones are copied into a zeroed word.
  uint64_t w = 0;
  if (s.size() >= 8) {
    std::memcpy(&w, s.data() + s.size() - 8, 8);
    if constexpr (std::endian::native == std::endian::little) w &= ~uint64_t{0} << (8 * (8 - tail));
    else w &= ~uint64_t{0} >> (8 * (8 - tail));
  } else {
    std::memcpy(&w, s.data(), tail);
  }
  return word(w) || digits >= 8;
}

std::string_view MaskText(PiiEntity e) {
  switch (e) {
    case PiiEntity::kEmail: return "[EMAIL]";
    case PiiEntity::kPhone: return "[PHONE]";
    case PiiEntity::kCard: return "[CARD]";
    case PiiEntity::kIban: return "[IBAN]";
    case PiiEntity::kSsn: return "[SSN]";
  }
  return "[PII]";
}

}  // namespace

bool LuhnValid(std::string_view s) {
  int sum = 0, n = 0;
  for (size_t k = s.size(); k-- > 0;) {
    if (!IsDigit(s[k])) continue;
    int d = s[k] - '0';
    if (n++ % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return n > 0 && sum % 10 == 0;
}

bool IbanValid(std::string_view compact) {
  if (compact.size() < 15 || compact.size() > 34) return false;
  int rem = 0;
  auto feed = [&](char c) {
    if (IsDigit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else if (IsUpper(c)) {
      int v = c - 'A' + 10;
      rem = (rem * 100 + v) % 97;
    } else {
      rem = -1000;
    }
  };
  for (char c : compact.substr(4)) feed(c);
  for (char c : compact.substr(0, 4)) feed(c);
  return rem == 1;
}

void PiiScanner::Find(std::string_view s, std::vector<PiiMatch>* out) {
  if (!MightContain(s)) return;
  // E-mails first (they may contain digits that look like other entities), then one left-to-
  // right pass for the digit-based entities outside the e-mails.
  std::vector<PiiMatch> emails;
  for (size_t at = s.find('@'); at != std::string_view::npos; at = s.find('@', at + 1)) {
    size_t b, e;
    if (MatchEmail(s, at, &b, &e) && (emails.empty() || b >= emails.back().end))
      emails.push_back({PiiEntity::kEmail, b, e});
  }
  size_t next_email = 0;
  for (size_t i = 0; i < s.size();) {
    if (next_email < emails.size() && i >= emails[next_email].begin) {
      out->push_back(emails[next_email]);
      i = emails[next_email++].end;
      continue;
    }
    size_t limit = next_email < emails.size() ? emails[next_email].begin : s.size();
    size_t end = 0;
    PiiEntity kind = PiiEntity::kEmail;
    if (MatchSsn(s, i, &end)) kind = PiiEntity::kSsn;
    else if (MatchCard(s, i, &end)) kind = PiiEntity::kCard;
    else if (MatchIban(s, i, &end)) kind = PiiEntity::kIban;
    else if (MatchPhone(s, i, &end)) kind = PiiEntity::kPhone;
    if (end != 0 && end <= limit) {
      out->push_back({kind, i, end});
      i = end;
    } else {
      ++i;
    }
  }
}

bool PiiScanner::Contains(std::string_view text) {
  if (!MightContain(text)) return false;
  std::vector<PiiMatch> m;
  Find(text, &m);
  return !m.empty();
}

bool PiiScanner::Redact(std::string_view text, PiiAction action, const Tokenizer* tokenizer,
                        std::string* out, PiiCounts* counts) {
  if (action == PiiAction::kOff || !MightContain(text)) return false;
  std::vector<PiiMatch> matches;
  Find(text, &matches);
  if (matches.empty()) return false;
  std::string r;
  size_t pos = 0;
  for (const PiiMatch& m : matches) {
    r.append(text.substr(pos, m.begin - pos));
    if (action == PiiAction::kTokenize && tokenizer != nullptr) {
      r += tokenizer->Token(text.substr(m.begin, m.end - m.begin));
    } else {
      r += MaskText(m.entity);
    }
    if (counts) counts->by_entity[static_cast<int>(m.entity)]++;
    pos = m.end;
  }
  r.append(text.substr(pos));
  *out = std::move(r);
  return true;
}

struct Tokenizer::Pads {
  // SHA-256 states after the 64-byte inner and outer pad blocks.
  uint32_t inner[8];
  uint32_t outer[8];
  internal::Sha256BlocksFn blocks;
};

Result<Tokenizer> Tokenizer::FromKeyHex(std::string_view hex) {
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.remove_suffix(1);
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.front()))) hex.remove_prefix(1);
  if (hex.size() < 32 || hex.size() > 128 || hex.size() % 2 != 0)
    return Status::InvalidArgument("PII secret key must be 32..128 hex digits (got " +
                                   std::to_string(hex.size()) + " characters)");
  // HMAC-SHA-256: keys longer than the 64-byte block are hashed first; at most 64 bytes here.
  constexpr size_t kBlock = 64;
  std::array<uint8_t, kBlock> ipad{}, opad{};
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    int hi = HexDigitValue(hex[2 * i]), lo = HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("PII secret key is not hexadecimal");
    ipad[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  opad = ipad;
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] ^= 0x36;
    opad[i] ^= 0x5c;
  }
  auto pads = std::make_shared<Pads>();
  pads->blocks = internal::BestSha256Blocks();
  internal::Sha256Init(pads->inner);
  pads->blocks(pads->inner, ipad.data(), 1);
  internal::Sha256Init(pads->outer);
  pads->blocks(pads->outer, opad.data(), 1);
  return Tokenizer(std::move(pads));
}

namespace {

void FormatToken(const uint8_t mac[32], char out[36]) {
  static constexpr char kHex[] = "0123456789abcdef";
  out[0] = 't';
  out[1] = 'o';
  out[2] = 'k';
  out[3] = '_';
  for (int i = 0; i < 16; ++i) {
    out[4 + 2 * i] = kHex[mac[i] >> 4];
    out[5 + 2 * i] = kHex[mac[i] & 15];
  }
}

}  // namespace

void Tokenizer::TokenInto(std::string_view value, char out[36]) const {
  uint8_t inner[32], mac[32];
  internal::Sha256Finish(pads_->blocks, pads_->inner, 64, value, inner);
  internal::Sha256Finish(pads_->blocks, pads_->outer, 64,
                         std::string_view(reinterpret_cast<const char*>(inner), sizeof inner), mac);
  FormatToken(mac, out);
}

void Tokenizer::TokensInto(const std::string_view* values, size_t n, char* out) const {
  size_t i = 0;
  if (pads_->blocks == &internal::Sha256BlocksShaNi) {
    for (; i + 2 <= n; i += 2) {
      std::string_view a = values[i], b = values[i + 1];
      if (a.size() > internal::kSha256MaxShortTail || b.size() > internal::kSha256MaxShortTail) {
        TokenInto(a, out + kTokenSize * i);
        TokenInto(b, out + kTokenSize * (i + 1));
        continue;
      }
      uint8_t inner_a[32], inner_b[32], mac_a[32], mac_b[32];
      internal::Sha256FinishTwoShaNi(pads_->inner, pads_->inner, 64, a, b, inner_a, inner_b);
      internal::Sha256FinishTwoShaNi(
          pads_->outer, pads_->outer, 64, std::string_view(reinterpret_cast<char*>(inner_a), 32),
          std::string_view(reinterpret_cast<char*>(inner_b), 32), mac_a, mac_b);
      FormatToken(mac_a, out + kTokenSize * i);
      FormatToken(mac_b, out + kTokenSize * (i + 1));
    }
  }
  for (; i < n; ++i) TokenInto(values[i], out + kTokenSize * i);
}

std::string Tokenizer::Token(std::string_view value) const {
  std::string t(kTokenSize, '\0');
  TokenInto(value, t.data());
  return t;
}

}  // namespace saleslake::etl::internal
