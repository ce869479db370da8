// PII redaction (the Detect-PII transform): keyed tokenization of declared PII columns, and
// detection + masking/tokenizing of e-mail addresses, phone numbers, payment card numbers
// (Luhn-checked), IBANs (mod-97 checked) and US social security numbers inside free text.
//
// Tokens are "tok_" + the first 128 bits of HMAC-SHA-256(key, value) in hex: deterministic for a
// lake's key (so joins and count(DISTINCT) keep working), irreversible without the key, and the
// key never appears in the output.
// Thread safety: Tokenizer is immutable after creation and safe to share; PiiScanner keeps no
// state between calls and is safe to share.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "etl/job_spec.h"  // PiiEntity, PiiAction, PiiCounts

namespace saleslake::etl::internal {

class Tokenizer {
 public:
  // `key_hex`: the lake secret (_system/secret.key), 32..128 hex digits, surrounding whitespace
  // ignored. kInvalidArgument when it is not hex or too short.
  static Result<Tokenizer> FromKeyHex(std::string_view key_hex);

  // "tok_" + 32 hex digits.
  std::string Token(std::string_view value) const;
  // Writes the 36-byte token into out (no allocation; for hot loops).
  void TokenInto(std::string_view value, char out[36]) const;
  // The tokens of values[0..n) into out[36 * i ..] (no allocation). Faster than n TokenInto
  // calls: with the SHA extensions two short values are hashed at once.
  void TokensInto(const std::string_view* values, size_t n, char* out) const;
  static constexpr size_t kTokenSize = 36;

 private:
  // SHA-256 states after absorbing the key's inner and outer pad blocks (RFC 2104), computed
  // once: a token then costs two short digests instead of a full HMAC set-up per value.
  struct Pads;
  explicit Tokenizer(std::shared_ptr<const Pads> pads) : pads_(std::move(pads)) {}
  std::shared_ptr<const Pads> pads_;
};

struct PiiMatch {
  PiiEntity entity;
  size_t begin;  // byte offsets into the scanned text
  size_t end;
};

class PiiScanner {
 public:
  // Appends every non-overlapping match in `text`, left to right.
  static void Find(std::string_view text, std::vector<PiiMatch>* out);
  // True when `text` contains at least one match (cheap pre-filter first).
  static bool Contains(std::string_view text);
  // Replaces every match: kMask -> "[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[SSN]";
  // kTokenize -> tokenizer.Token(match). Returns false (and leaves *out untouched) when nothing
  // matched, so callers keep the original without copying. Counts matches into *counts.
  static bool Redact(std::string_view text, PiiAction action, const Tokenizer* tokenizer,
                     std::string* out, PiiCounts* counts);
};

// Luhn checksum over the digits of s (non-digits ignored). Exposed for tests.
bool LuhnValid(std::string_view digits);
// IBAN mod-97 check of a compact IBAN (letters and digits only). Exposed for tests.
bool IbanValid(std::string_view compact);

}  // namespace saleslake::etl::internal
