// String functions (lower, trim, substr, replace, pad, LIKE, regexp_*, ||): kernels and
// their resolution. Positions count UTF-8 code points, as in Trino.
#include <re2/re2.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"
#include "sql/functions/internal/scalar_family.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT: kernels.h and scalar_family.h helpers

namespace {

// ---------------------------------------------------------------- strings

// Number of UTF-8 code points.
size_t CodePoints(std::string_view s) {
  size_t c = 0;
  for (unsigned char ch : s) c += (ch & 0xC0) != 0x80;
  return c;
}
// Byte offset of code point k (k may equal the count: returns size).
size_t ByteOfCodePoint(std::string_view s, size_t k) {
  size_t cp = 0;
  for (size_t b = 0; b < s.size(); ++b) {
    if ((static_cast<unsigned char>(s[b]) & 0xC0) != 0x80) {
      if (cp == k) return b;
      ++cp;
    }
  }
  return s.size();
}

// ASCII case mapping, byte by byte: what std::tolower/toupper do on single bytes in the C
// locale (bytes of multi-byte UTF-8 characters stay as they are), without a call per byte.
template <bool upper>
Status CaseKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status*) {
    b = S(*a[0], i);
    constexpr char from = upper ? 'a' : 'A';
    for (char& c : b)
      if (static_cast<unsigned char>(c - from) < 26) c = static_cast<char>(c ^ 0x20);
    return true;
  });
}
Status LowerKernel(Args a, size_t n, ColumnVector& out) { return CaseKernel<false>(a, n, out); }
Status UpperKernel(Args a, size_t n, ColumnVector& out) { return CaseKernel<true>(a, n, out); }
template <bool left, bool right>
Status TrimKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    std::string_view s = S(*a[0], i);
    if (left) while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (right) while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    out.data<std::string_view>()[i] = out.AddString(s);
    return true;
  });
}
Status LengthKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    out.data<int64_t>()[i] = static_cast<int64_t>(CodePoints(S(*a[0], i)));
    return true;
  });
}
Status ReverseKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status*) {
    std::string_view s = S(*a[0], i);
    size_t end = s.size();
    while (end > 0) {
      size_t start = end - 1;
      while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      b.append(s.substr(start, end - start));
      end = start;
    }
    return true;
  });
}
// substr(s, start [, length]): 1-based code points; negative start counts from the end.
Status SubstrKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    std::string_view s = S(*a[0], i);
    int64_t start = I64(*a[1], i);
    int64_t cps = static_cast<int64_t>(CodePoints(s));
    std::string_view r;
    if (start < 0) start = cps + start + 1;
    if (start >= 1 && start <= cps) {
      int64_t len = a.size() > 2 ? I64(*a[2], i) : cps;
      if (len > 0) {
        int64_t end = std::min(cps, start - 1 + len);
        size_t b0 = ByteOfCodePoint(s, static_cast<size_t>(start - 1));
        size_t b1 = ByteOfCodePoint(s, static_cast<size_t>(end));
        r = s.substr(b0, b1 - b0);
      }
    }
    out.data<std::string_view>()[i] = out.AddString(r);
    return true;
  });
}
Status ConcatKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status*) {
    for (const ColumnVector* v : a) b.append(S(*v, i));
    return true;
  });
}
Status ReplaceKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status*) {
    std::string_view s = S(*a[0], i), from = S(*a[1], i);
    std::string_view to = a.size() > 2 ? S(*a[2], i) : std::string_view();
    if (from.empty()) {  // Trino: insert `to` between every character
      b.append(to);
      for (size_t k = 0; k < s.size(); ++k) {
        b.push_back(s[k]);
        if (k + 1 == s.size() || (static_cast<unsigned char>(s[k + 1]) & 0xC0) != 0x80) b.append(to);
      }
      return true;
    }
    size_t pos = 0;
    while (true) {
      size_t f = s.find(from, pos);
      if (f == std::string_view::npos) break;
      b.append(s.substr(pos, f - pos));
      b.append(to);
      pos = f + from.size();
    }
    b.append(s.substr(pos));
    return true;
  });
}
Status SplitPartKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    std::string_view s = S(*a[0], i), d = S(*a[1], i);
    int64_t idx = I64(*a[2], i);
    if (idx <= 0) {
      *err = Status::InvalidArgument("split_part: index must be greater than zero");
      return false;
    }
    if (d.empty()) {
      if (idx != 1) return false;
      out.data<std::string_view>()[i] = out.AddString(s);
      return true;
    }
    size_t pos = 0;
    for (int64_t k = 1;; ++k) {
      size_t f = s.find(d, pos);
      if (k == idx) {
        out.data<std::string_view>()[i] =
            out.AddString(s.substr(pos, f == std::string_view::npos ? s.npos : f - pos));
        return true;
      }
      if (f == std::string_view::npos) return false;
      pos = f + d.size();
    }
  });
}
Status StrposKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    std::string_view s = S(*a[0], i), sub = S(*a[1], i);
    size_t f = s.find(sub);
    out.data<int64_t>()[i] =
        f == std::string_view::npos ? 0 : static_cast<int64_t>(CodePoints(s.substr(0, f))) + 1;
    return true;
  });
}
Status StartsWithKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    out.data<uint8_t>()[i] = S(*a[0], i).starts_with(S(*a[1], i));
    return true;
  });
}
template <bool left>
Status PadKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status* err) {
    std::string_view s = S(*a[0], i);
    int64_t size = I64(*a[1], i);
    std::string_view pad = a.size() > 2 ? S(*a[2], i) : std::string_view(" ");
    if (size < 0) {
      *err = Status::InvalidArgument(std::string(left ? "lpad" : "rpad") +
                                     ": target size must be non-negative");
      return false;
    }
    if (size > (1 << 20)) {
      *err = Status::InvalidArgument("lpad/rpad: target size is too large");
      return false;
    }
    int64_t cps = static_cast<int64_t>(CodePoints(s));
    if (cps >= size) {
      b.append(s.substr(0, ByteOfCodePoint(s, static_cast<size_t>(size))));
      return true;
    }
    if (pad.empty()) {
      *err = Status::InvalidArgument("lpad/rpad: padding string must not be empty");
      return false;
    }
    std::string fill;
    int64_t need = size - cps;
    size_t pcp = CodePoints(pad);
    while (static_cast<int64_t>(CodePoints(fill)) + static_cast<int64_t>(pcp) <= need) fill.append(pad);
    int64_t rest = need - static_cast<int64_t>(CodePoints(fill));
    fill.append(pad.substr(0, ByteOfCodePoint(pad, static_cast<size_t>(rest))));
    if (left) {
      b = fill;
      b.append(s);
    } else {
      b = s;
      b.append(fill);
    }
    return true;
  });
}

// LIKE with % and _ (code points) and an optional escape character.
bool LikeMatch(std::string_view s, std::string_view p, int esc) {
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  auto next_cp = [](std::string_view t, size_t i) {
    ++i;
    while (i < t.size() && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80) ++i;
    return i;
  };
  while (si < s.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (esc >= 0 && c == static_cast<char>(esc) && pi + 1 < p.size()) {
        size_t pe = next_cp(p, pi + 1);
        size_t se = next_cp(s, si);
        if (p.substr(pi + 1, pe - pi - 1) == s.substr(si, se - si)) {
          pi = pe;
          si = se;
          continue;
        }
      } else if (c == '%') {
        star_p = pi++;
        star_s = si;
        continue;
      } else if (c == '_') {
        pi = next_cp(p, pi);
        si = next_cp(s, si);
        continue;
      } else if (c == s[si]) {
        ++pi;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    si = star_s = next_cp(s, star_s);
  }
  while (pi < p.size() && p[pi] == '%' && !(esc >= 0 && p[pi] == static_cast<char>(esc))) ++pi;
  return pi == p.size();
}

// The first place of `needle` (not empty) in [at, end), or null. Candidates are the starts whose
// first and last bytes both match, 16 starts at a time; only they are compared in full. On short
// strings (TPC-H comments: ~50 bytes) this beats memmem, which sets up its shift table on every
// call, and std::boyer_moore_horspool_searcher (q13's LIKE: memmem 12.7% of the query's CPU,
// Horspool 14.8%, this 8.5%; LikeMatch before them 24%).
const char* FindPiece(const char* at, const char* end, std::string_view needle) {
  const size_t m = needle.size();
  if (static_cast<size_t>(end - at) < m) return nullptr;
  const char* const last_start = end - m;
#ifdef __SSE2__
  if (last_start - at >= 15) {
    const __m128i first = _mm_set1_epi8(needle[0]);
    const __m128i last = _mm_set1_epi8(needle[m - 1]);
    // Blocks of 16 starts; the final block is moved back to end at last_start (it may overlap).
    for (const char* block = at;; block += 16) {
      if (block > last_start - 15) block = last_start - 15;
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + m - 1));
      unsigned mask = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
      while (mask != 0) {
        const char* c = block + __builtin_ctz(mask);
        if (std::memcmp(c, needle.data(), m) == 0) return c;
        mask &= mask - 1;
      }
      if (block == last_start - 15) return nullptr;
    }
  }
#endif
  for (; at <= last_start; ++at) {
    if (*at == needle[0] && std::memcmp(at, needle.data(), m) == 0) return at;
  }
  return nullptr;
}

// A constant LIKE pattern made only of literal text and '%' (no '_', no escape), e.g.
// '%special%requests%' of TPC-H q13: its literal pieces are found in order with FindPiece instead
// of LikeMatch's character-by-character backtracking. Literal bytes match literal bytes alike in
// UTF-8 (a piece that starts with a lead byte cannot match inside a code point), and finding each
// middle piece at its leftmost place after the previous one is exact for '%'.
class PercentPattern {
 public:
  // False when the pattern has '_' (then LikeMatch runs).
  bool Compile(std::string_view p) {
    if (p.find('_') != std::string_view::npos) return false;
    const size_t first = p.find('%');
    if (first == std::string_view::npos) {
      exact_ = true;
      prefix_ = p;
      return true;
    }
    const size_t last = p.rfind('%');
    prefix_ = p.substr(0, first);
    suffix_ = p.substr(last + 1);
    for (size_t b = first + 1; b <= last; ++b) {
      const size_t e = p.find('%', b);
      if (e > b) middle_.push_back(p.substr(b, e - b));
      b = e;
    }
    return true;
  }

  bool Match(std::string_view s) const {
    if (exact_) return s == prefix_;
    if (s.size() < prefix_.size() + suffix_.size() || !s.starts_with(prefix_) || !s.ends_with(suffix_)) {
      return false;
    }
    const char* at = s.data() + prefix_.size();
    const char* end = s.data() + s.size() - suffix_.size();  // the middle pieces fit before it
    for (std::string_view piece : middle_) {
      const char* f = FindPiece(at, end, piece);
      if (f == nullptr) return false;
      at = f + piece.size();
    }
    return true;
  }

 private:
  bool exact_ = false;
  std::string_view prefix_, suffix_;     // anchored at the start and the end
  std::vector<std::string_view> middle_;  // between '%'s, in order, none empty
};

Status LikeKernel(Args a, size_t n, ColumnVector& out) {
  PercentPattern fast;
  if (a.size() == 2 && a[1]->encoding() == VectorEncoding::kConstant && a[1]->IsValid(0) &&
      fast.Compile(S(*a[1], 0))) {
    return PerRow(a, n, out, [&](size_t i, Status*) {
      out.data<uint8_t>()[i] = fast.Match(S(*a[0], i));
      return true;
    });
  }
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    int esc = -1;
    if (a.size() > 2) {
      std::string_view e = S(*a[2], i);
      if (CodePoints(e) != 1) {
        *err = Status::InvalidArgument("LIKE: escape must be a single character");
        return false;
      }
      esc = static_cast<unsigned char>(e[0]);
      std::string_view p = S(*a[1], i);
      for (size_t k = 0; k < p.size(); ++k) {
        if (static_cast<unsigned char>(p[k]) == esc) {
          if (k + 1 >= p.size() || (p[k + 1] != '%' && p[k + 1] != '_' && p[k + 1] != p[k])) {
            *err = Status::InvalidArgument("LIKE: escape character must be followed by '%', '_' "
                                           "or the escape character");
            return false;
          }
          ++k;
        }
      }
    }
    out.data<uint8_t>()[i] = LikeMatch(S(*a[0], i), S(*a[1], i), esc);
    return true;
  });
}

// Compiled regexes per kernel call: patterns are almost always constants.
class RegexCache {
 public:
  Result<const RE2*> Get(std::string_view pattern) {
    if (re_ && last_ == pattern) return re_.get();
    RE2::Options opt;
    opt.set_log_errors(false);
    re_ = std::make_unique<RE2>(pattern, opt);
    last_ = pattern;
    if (!re_->ok()) {
      std::string why = re_->error();
      re_.reset();
      return Status::InvalidArgument("invalid regular expression '" + std::string(pattern) +
                                     "': " + why);
    }
    return re_.get();
  }

 private:
  std::unique_ptr<RE2> re_;
  std::string last_;
};

Status RegexpLikeKernel(Args a, size_t n, ColumnVector& out) {
  RegexCache cache;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto re = cache.Get(S(*a[1], i));
    if (!re.ok()) {
      *err = re.status();
      return false;
    }
    std::string_view s = S(*a[0], i);
    out.data<uint8_t>()[i] = RE2::PartialMatch(s, **re);
    return true;
  });
}
Status RegexpExtractKernel(Args a, size_t n, ColumnVector& out) {
  RegexCache cache;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto re = cache.Get(S(*a[1], i));
    if (!re.ok()) {
      *err = re.status();
      return false;
    }
    int64_t group = a.size() > 2 ? I64(*a[2], i) : 0;
    if (group < 0 || group > (*re)->NumberOfCapturingGroups()) {
      *err = Status::InvalidArgument("regexp_extract: pattern has no group " +
                                     std::to_string(group));
      return false;
    }
    std::string_view s = S(*a[0], i);
    std::vector<re2::StringPiece> groups(static_cast<size_t>(group) + 1);
    if (!(*re)->Match(s, 0, s.size(), RE2::UNANCHORED, groups.data(),
                      static_cast<int>(groups.size())))
      return false;
    re2::StringPiece g = groups[static_cast<size_t>(group)];
    if (g.data() == nullptr) return false;
    out.data<std::string_view>()[i] = out.AddString(std::string_view(g.data(), g.size()));
    return true;
  });
}
Status RegexpReplaceKernel(Args a, size_t n, ColumnVector& out) {
  RegexCache cache;
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status* err) {
    auto re = cache.Get(S(*a[1], i));
    if (!re.ok()) {
      *err = re.status();
      return false;
    }
    // Trino writes groups as $1; RE2 as \1.
    std::string rep;
    if (a.size() > 2) {
      std::string_view r = S(*a[2], i);
      for (size_t k = 0; k < r.size(); ++k) {
        if (r[k] == '$' && k + 1 < r.size() && std::isdigit(static_cast<unsigned char>(r[k + 1]))) {
          rep.push_back('\\');
        } else if (r[k] == '\\') {
          if (k + 1 < r.size()) {
            ++k;
            if (r[k] == '\\') rep += "\\\\"; else rep.push_back(r[k]);
            continue;
          }
          rep += "\\\\";
          continue;
        } else {
          rep.push_back(r[k]);
          continue;
        }
        rep.push_back(r[++k]);
      }
    }
    std::string error;
    if (!(*re)->CheckRewriteString(rep, &error)) {
      *err = Status::InvalidArgument("regexp_replace: bad replacement: " + error);
      return false;
    }
    b = S(*a[0], i);
    RE2::GlobalReplace(&b, **re, rep);
    return true;
  });
}

}  // namespace

void internal::AddStringFunctions(ScalarRegistry& reg) {
  reg.insert({
      {"$concat", [](const Types& t) -> R {
         Types sig(t.size(), DataType::Varchar());
         for (const DataType& x : t)
           if (!AnyString(x)) return Bad("||", t, "(VARCHAR, VARCHAR)");
         return Fn("||", sig, DataType::Varchar(), &ConcatKernel);
       }},
      {"concat", [](const Types& t) -> R {
         if (t.empty()) return Bad("concat", t, "at least one VARCHAR");
         for (const DataType& x : t)
           if (!AnyString(x)) return Bad("concat", t, "VARCHAR arguments");
         return Fn("concat", Types(t.size(), DataType::Varchar()), DataType::Varchar(), &ConcatKernel);
       }},
      // strings
      {"lower", [](const Types& t) { return StringFn("lower", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &LowerKernel); }},
      {"upper", [](const Types& t) { return StringFn("upper", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &UpperKernel); }},
      {"trim", [](const Types& t) { return StringFn("trim", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &TrimKernel<true, true>); }},
      {"ltrim", [](const Types& t) { return StringFn("ltrim", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &TrimKernel<true, false>); }},
      {"rtrim", [](const Types& t) { return StringFn("rtrim", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &TrimKernel<false, true>); }},
      {"length", [](const Types& t) { return StringFn("length", t, 1, 1, {DataType::Varchar()}, DataType::Int64(), &LengthKernel); }},
      {"reverse", [](const Types& t) { return StringFn("reverse", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &ReverseKernel); }},
      {"substr", [](const Types& t) { return StringFn("substr", t, 2, 3, {DataType::Varchar(), DataType::Int64(), DataType::Int64()}, DataType::Varchar(), &SubstrKernel); }},
      {"replace", [](const Types& t) { return StringFn("replace", t, 2, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Varchar()}, DataType::Varchar(), &ReplaceKernel); }},
      {"split_part", [](const Types& t) { return StringFn("split_part", t, 3, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Int64()}, DataType::Varchar(), &SplitPartKernel); }},
      {"strpos", [](const Types& t) { return StringFn("strpos", t, 2, 2, {DataType::Varchar(), DataType::Varchar()}, DataType::Int64(), &StrposKernel); }},
      {"starts_with", [](const Types& t) { return StringFn("starts_with", t, 2, 2, {DataType::Varchar(), DataType::Varchar()}, DataType::Boolean(), &StartsWithKernel); }},
      {"lpad", [](const Types& t) { return StringFn("lpad", t, 3, 3, {DataType::Varchar(), DataType::Int64(), DataType::Varchar()}, DataType::Varchar(), &PadKernel<true>); }},
      {"rpad", [](const Types& t) { return StringFn("rpad", t, 3, 3, {DataType::Varchar(), DataType::Int64(), DataType::Varchar()}, DataType::Varchar(), &PadKernel<false>); }},
      {"$like", [](const Types& t) { return StringFn("like", t, 2, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Varchar()}, DataType::Boolean(), &LikeKernel); }},
      {"regexp_like", [](const Types& t) { return StringFn("regexp_like", t, 2, 2, {DataType::Varchar(), DataType::Varchar()}, DataType::Boolean(), &RegexpLikeKernel); }},
      {"regexp_extract", [](const Types& t) { return StringFn("regexp_extract", t, 2, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Int64()}, DataType::Varchar(), &RegexpExtractKernel); }},
      {"regexp_replace", [](const Types& t) { return StringFn("regexp_replace", t, 2, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Varchar()}, DataType::Varchar(), &RegexpReplaceKernel); }},
  });
}

}  // namespace saleslake::sql
