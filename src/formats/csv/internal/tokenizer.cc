#include "formats/csv/internal/tokenizer.h"

#include <emmintrin.h>

#include <cstring>

namespace saleslake::csv::internal {
namespace {

// First byte in [p, end) equal to a or b, or end. SSE2 (baseline on x86-64) does 16 bytes a
// step; unquoted fields are the bulk of every CSV file.
inline const char* FindEither(const char* p, const char* end, char a, char b) {
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
  while (p < end && *p != a && *p != b) ++p;
  return p;
}

}  // namespace

Tokenizer::Tokenizer(const Dialect& dialect)
    : delim_(dialect.delimiter), quote_(dialect.quote), escape_(dialect.escape) {
  fields_.resize(32);
}

std::string FieldCountReason(size_t expected, size_t found) {
  return "expected " + std::to_string(expected) + " field" + (expected == 1 ? "" : "s") +
         ", found " + std::to_string(found);
}

Tokenizer::Outcome Tokenizer::Next(const char* p, const char* end, bool at_eof,
                                   const char** next) {
  num_fields_ = 0;
  newlines_ = 0;
  error_column_ = 0;
  const char* rec = p;
  if (p >= end) return at_eof ? Outcome::kEnd : Outcome::kNeedMore;
  // Blank line: LF, CRLF, or a lone CR at the very end of the input.
  raw_ = std::string_view();
  if (*p == '\n') {
    *next = p + 1;
    newlines_ = 1;
    return Outcome::kBlank;
  }
  if (*p == '\r') {
    if (p + 1 == end) {
      if (!at_eof) return Outcome::kNeedMore;
      *next = end;
      return Outcome::kBlank;
    }
    if (p[1] == '\n') {
      *next = p + 2;
      newlines_ = 1;
      return Outcome::kBlank;
    }
  }

  for (;;) {
    if (p < end && *p == quote_) {
      const char* q = p + 1;
      bool escaped = false;
      uint32_t nl = 0;
      bool unterminated = false;
      for (;;) {
        // Inside quotes only the quote, the escape and LF (for line numbers) matter.
        while (q < end && *q != quote_ && *q != escape_) {
          if (*q == '\n') ++nl;
          ++q;
        }
        if (q == end) {
          if (!at_eof) return Outcome::kNeedMore;
          unterminated = true;
          break;
        }
        if (*q == escape_ && escape_ != quote_) {
          if (q + 1 == end) {
            if (!at_eof) return Outcome::kNeedMore;
            q = end;
            unterminated = true;
            break;
          }
          if (q[1] == '\n') ++nl;
          escaped = true;
          q += 2;
          continue;
        }
        // *q is the quote.
        if (q + 1 == end && !at_eof) return Outcome::kNeedMore;
        if (q + 1 < end && q[1] == quote_ && escape_ == quote_) {
          escaped = true;
          q += 2;
          continue;
        }
        break;
      }
      newlines_ += nl;
      if (unterminated) {
        AddField({p + 1, end, true, escaped});
        SetError(static_cast<uint32_t>(num_fields_), "unterminated quoted field");
        raw_ = std::string_view(rec, end - rec);
        *next = end;
        return Outcome::kRecord;
      }
      AddField({p + 1, q, true, escaped});
      p = q + 1;
      if (p == end) {
        raw_ = std::string_view(rec, p - rec);
        *next = end;
        return Outcome::kRecord;  // at_eof is true here (checked above)
      }
      char c = *p;
      if (c == delim_) {
        ++p;
        continue;
      }
      if (c == '\n') {
        ++newlines_;
        raw_ = std::string_view(rec, p - rec);
        *next = p + 1;
        return Outcome::kRecord;
      }
      if (c == '\r' && (p + 1 == end || p[1] == '\n')) {
        if (p + 1 == end && !at_eof) return Outcome::kNeedMore;
        raw_ = std::string_view(rec, p - rec);
        if (p + 1 == end) {
          *next = end;
        } else {
          ++newlines_;
          *next = p + 2;
        }
        return Outcome::kRecord;
      }
      // Text after the closing quote: keep it in the field and report the row.
      SetError(static_cast<uint32_t>(num_fields_),
               std::string("unexpected character '") + (c >= 32 && c < 127 ? std::string(1, c) : "\\x" + std::to_string(static_cast<unsigned char>(c))) +
                   "' after the closing quote");
      const char* e = FindEither(p, end, delim_, '\n');
      if (e == end && !at_eof) return Outcome::kNeedMore;
      fields_[num_fields_ - 1].end = e;
      p = e;
    } else {
      const char* s = p;
      p = FindEither(p, end, delim_, '\n');
      if (p == end && !at_eof) return Outcome::kNeedMore;
      const char* fe = p;
      if ((p == end || *p == '\n') && fe > s && fe[-1] == '\r') --fe;
      AddField({s, fe, false, false});
    }
    if (p == end) {
      const char* re = end;
      if (re > rec && re[-1] == '\r') --re;
      raw_ = std::string_view(rec, re - rec);
      *next = end;
      return Outcome::kRecord;
    }
    if (*p == '\n') {
      ++newlines_;
      const char* re = p;
      if (re > rec && re[-1] == '\r') --re;
      raw_ = std::string_view(rec, re - rec);
      *next = p + 1;
      return Outcome::kRecord;
    }
    ++p;  // the delimiter; the next field may be empty and at the end
    if (p == end && !at_eof) return Outcome::kNeedMore;
  }
}

std::string_view Tokenizer::Text(size_t i) {
  const FieldRef& f = fields_[i];
  if (!f.escaped) return std::string_view(f.begin, f.end - f.begin);
  scratch_.clear();
  for (const char* c = f.begin; c < f.end; ++c) {
    if (*c == escape_ && escape_ != quote_ && c + 1 < f.end) {
      scratch_.push_back(*++c);
    } else if (*c == quote_ && c + 1 < f.end && c[1] == quote_) {
      scratch_.push_back(*c);
      ++c;
    } else {
      scratch_.push_back(*c);
    }
  }
  return scratch_;
}

size_t FindInvalidUtf8(std::string_view s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, b + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (b[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace saleslake::csv::internal
