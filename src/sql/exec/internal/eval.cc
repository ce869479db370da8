#include "sql/exec/internal/eval.h"

#include <cstring>
#include <set>

#include <fmt/format.h>

namespace saleslake::sql::internal {

Status AtPos(const Status& s, const SourcePos& pos) {
  if (s.ok() || s.message().rfind("line ", 0) == 0) return s;
  return Status(s.code(), "line " + pos.ToString() + ": " + s.message());
}

namespace {

struct Wide16 {
  uint64_t lo, hi;
};

template <typename T>
void GatherT(const ColumnVector& src, const uint32_t* rows, size_t n, ColumnVector& out) {
  T* o = out.data<T>();
  if (src.encoding() == VectorEncoding::kDictionary) {
    const T* d = src.dictionary()->data<T>();
    const uint32_t* idx = src.data<uint32_t>();
    for (size_t i = 0; i < n; ++i) o[i] = d[idx[rows[i]]];
  } else {
    const T* s = src.data<T>();
    for (size_t i = 0; i < n; ++i) o[i] = s[rows[i]];
  }
}

void GatherValues(const ColumnVector& src, const uint32_t* rows, size_t n, ColumnVector& out) {
  switch (src.type().byte_width()) {
    case 1: GatherT<uint8_t>(src, rows, n, out); break;
    case 4: GatherT<uint32_t>(src, rows, n, out); break;
    case 8: GatherT<uint64_t>(src, rows, n, out); break;
    default: GatherT<Wide16>(src, rows, n, out); break;
  }
}

// out[i] = values[codes[i]] for n rows of a flat vector. Codes past the values are clamped to
// 0: null rows may hold any code the decoder left, and their value is never read.
void GatherCodes(const ColumnVector& values, const uint32_t* codes, size_t n, ColumnVector& out) {
  const uint32_t dn = static_cast<uint32_t>(values.size());
  auto gather = [&](auto tag) {
    using T = decltype(tag);
    const T* d = values.data<T>();
    T* o = out.data<T>();
    for (size_t i = 0; i < n; ++i) o[i] = d[codes[i] < dn ? codes[i] : 0];
  };
  switch (values.type().byte_width()) {
    case 1: gather(uint8_t{}); break;
    case 4: gather(uint32_t{}); break;
    case 8: gather(uint64_t{}); break;
    default: gather(Wide16{}); break;
  }
}

// Copies one value (any encoding) into row `to` of a flat vector.
void SetFrom(ColumnVector& out, size_t to, const ColumnVector& src, size_t row) {
  if (!src.IsValid(row)) {
    out.SetNull(to);
    return;
  }
  out.SetValid(to);
  size_t w = out.type().byte_width();
  const ColumnVector* s = &src;
  size_t at = row;
  if (src.encoding() == VectorEncoding::kConstant) {
    at = 0;
  } else if (src.encoding() == VectorEncoding::kDictionary) {
    at = src.data<uint32_t>()[row];
    s = src.dictionary();
  }
  if (out.type().id == TypeId::kVarchar) {
    out.data<std::string_view>()[to] = out.AddString(s->data<std::string_view>()[at]);
  } else {
    std::memcpy(out.data<uint8_t>() + to * w, s->data<uint8_t>() + at * w, w);
  }
}

}  // namespace

namespace {

// Copies the n strings at views (rows at.. of `out`) into out's own heap, in one chunk of
// exactly their size: gathered vectors often outlive the batch they came from.
void CopyStringsIntoHeap(std::string_view* views, size_t n, ColumnVector& out, size_t at) {
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) total += out.IsValid(at + i) ? views[i].size() : 0;
  out.heap().Reserve(total);
  for (size_t i = 0; i < n; ++i) views[i] = out.IsValid(at + i) ? out.AddString(views[i]) : std::string_view();
}

}  // namespace

void GatherColumn(const ColumnVector& src, const uint32_t* rows, size_t n, ColumnVector& out) {
  out = ColumnVector(src.type(), std::max<size_t>(n, 1));
  out.Resize(n);
  if (src.encoding() == VectorEncoding::kConstant) {
    if (n > 0) SetFrom(out, 0, src, 0);
    out.MakeConstant(n);
    return;
  }
  GatherValues(src, rows, n, out);
  if (src.validity() != nullptr) {
    for (size_t i = 0; i < n; ++i)
      if (!src.IsValid(rows[i])) out.SetNull(i);
  }
  if (src.type().id == TypeId::kVarchar) {
    auto* o = out.data<std::string_view>();
    CopyStringsIntoHeap(o, n, out, 0);
  }
}

void AppendColumn(const ColumnVector& src, size_t n, ColumnVector& out) {
  size_t at = out.size();
  out.Resize(at + n);
  if (src.encoding() != VectorEncoding::kFlat) {
    for (size_t i = 0; i < n; ++i) SetFrom(out, at + i, src, i);
    return;
  }
  size_t w = src.type().byte_width();
  std::memcpy(out.data<uint8_t>() + at * w, src.data<uint8_t>(), n * w);
  if (src.validity() != nullptr) {
    for (size_t i = 0; i < n; ++i) {
      if (!src.IsValid(i)) out.SetNull(at + i);
    }
  }
  if (out.validity() != nullptr && src.validity() == nullptr) {
    for (size_t i = 0; i < n; ++i) out.SetValid(at + i);
  } else if (out.validity() != nullptr) {
    for (size_t i = 0; i < n; ++i)
      if (src.IsValid(i)) out.SetValid(at + i);
  }
  if (src.type().id == TypeId::kVarchar) {
    auto* o = out.data<std::string_view>() + at;
    CopyStringsIntoHeap(o, n, out, at);
  }
}

void MakeNullColumn(const DataType& type, size_t n, ColumnVector& out) {
  out = ColumnVector(type, 1);
  out.Resize(1);
  out.SetNull(0);
  out.MakeConstant(n);
}

void CopyColumn(const ColumnVector& src, size_t n, ColumnVector& out) {
  out = ColumnVector(src.type(), std::max<size_t>(n, 1));
  out.Resize(0);
  if (src.encoding() == VectorEncoding::kConstant) {
    out.Resize(1);
    SetFrom(out, 0, src, 0);
    out.MakeConstant(n);
    return;
  }
  AppendColumn(src, n, out);
}

Batch GatherBatch(const Batch& in, const std::vector<uint32_t>& rows) {
  Batch out;
  out.columns.resize(in.columns.size());
  const size_t n = rows.size();
  for (size_t c = 0; c < in.columns.size(); ++c) {
    const ColumnVector& src = in.columns[c];
    if (src.encoding() != VectorEncoding::kDictionary) {
      GatherColumn(src, rows.data(), n, out.columns[c]);
      continue;
    }
    // A dictionary column stays one (its codes gathered, the dictionary shared): the consumers
    // that see dictionaries (a filtered scan under a GROUP BY) keep their once-per-entry paths,
    // and no string is copied.
    ColumnVector& o = out.columns[c];
    o = ColumnVector(src.type(), std::max<size_t>(n, 1));
    o.MakeDictionary(src.shared_dictionary(), n);
    uint32_t* codes = o.data<uint32_t>();
    const uint32_t* from = src.data<uint32_t>();
    for (size_t i = 0; i < n; ++i) codes[i] = from[rows[i]];
    if (src.validity() != nullptr) {
      for (size_t i = 0; i < n; ++i)
        if (!src.IsValid(rows[i])) o.SetNull(i);
    }
  }
  out.num_rows = rows.size();
  return out;
}

// ---------------------------------------------------------------- subqueries

Result<Value> SubqueryCache::Scalar(const Expr& e) {
  MutexLock lock(mu_);
  if (auto it = scalars_.find(&e); it != scalars_.end()) return it->second;
  SL_ASSIGN_OR_RETURN(MaterializedResult r, ExecutePlan(e.subquery, options_, nullptr, stop_));
  if (r.num_rows() > 1)
    return AtPos(Status::InvalidArgument("scalar subquery returned more than one row"), e.pos);
  Value v = Value::Null(e.type);
  for (const auto& b : r.batches)
    if (b.num_rows > 0) v = GetValueAt(b.columns[0], 0);
  scalars_[&e] = v;
  return v;
}

Result<const SubqueryCache::InSet*> SubqueryCache::Set(const Expr& e) {
  MutexLock lock(mu_);
  if (auto it = sets_.find(&e); it != sets_.end()) return it->second.get();
  SL_ASSIGN_OR_RETURN(MaterializedResult r, ExecutePlan(e.subquery, options_, nullptr, stop_));
  auto set = std::make_unique<InSet>();
  std::string key;
  for (const auto& b : r.batches)
    for (size_t i = 0; i < b.num_rows; ++i) {
      if (!b.columns[0].IsValid(i)) {
        set->has_null = true;
        continue;
      }
      key.clear();
      AppendKey(b.columns[0], i, key);
      set->keys.insert(key);
    }
  const InSet* p = set.get();
  sets_[&e] = std::move(set);
  return p;
}

Result<bool> SubqueryCache::Exists(const Expr& e) {
  MutexLock lock(mu_);
  if (auto it = exists_.find(&e); it != exists_.end()) return it->second;
  SL_ASSIGN_OR_RETURN(MaterializedResult r, ExecutePlan(e.subquery, options_, nullptr, stop_));
  bool v = r.num_rows() > 0;
  exists_[&e] = v;
  return v;
}

// ---------------------------------------------------------------- evaluator

ColumnVector* Evaluator::NewVector(const DataType& t, size_t n) {
  scratch_.push_back(std::make_unique<ColumnVector>(t, std::max<size_t>(n, 1)));
  scratch_.back()->Resize(n);
  return scratch_.back().get();
}

Result<ColumnVector> Evaluator::EvalOwned(const Expr& e, const Batch& in) {
  SL_ASSIGN_OR_RETURN(const ColumnVector* v, Eval(e, in));
  for (auto& s : scratch_) {
    if (s.get() == v) {
      ColumnVector out = std::move(*s);
      return out;
    }
  }
  ColumnVector out;
  CopyColumn(*v, in.num_rows, out);
  return out;
}

Status Evaluator::Select(const Expr& predicate, const Batch& in, std::vector<uint32_t>* rows) {
  rows->clear();
  SL_ASSIGN_OR_RETURN(const ColumnVector* v, Eval(predicate, in));
  size_t n = in.num_rows;
  if (v->encoding() == VectorEncoding::kConstant) {
    if (v->IsValid(0) && v->data<uint8_t>()[0]) {
      rows->resize(n);
      for (size_t i = 0; i < n; ++i) (*rows)[i] = static_cast<uint32_t>(i);
    }
    return Status::OK();
  }
  const uint8_t* d = v->data<uint8_t>();
  // Branch-free: every row index is written, the count advances past the selected ones (a
  // filter passing half the rows would mispredict a branch on every other row).
  rows->resize(n);
  uint32_t* r = rows->data();
  size_t k = 0;
  if (v->validity() == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      r[k] = static_cast<uint32_t>(i);
      k += d[i] != 0;
    }
  } else {
    const uint64_t* bits = v->validity();
    for (size_t i = 0; i < n; ++i) {
      r[k] = static_cast<uint32_t>(i);
      k += (d[i] != 0) & static_cast<size_t>((bits[i >> 6] >> (i & 63)) & 1);
    }
  }
  rows->resize(k);
  return Status::OK();
}

Result<const ColumnVector*> Evaluator::EvalOnRows(const Expr& e, const Batch& in,
                                                  const std::vector<uint32_t>& rows) {
  if (rows.size() == in.num_rows) return Eval(e, in);
  std::set<int> cols;
  std::vector<const Expr*> stack{&e};
  while (!stack.empty()) {
    const Expr* x = stack.back();
    stack.pop_back();
    if (x->kind == ExprKind::kColumn) cols.insert(x->column);
    for (const auto& a : x->args) stack.push_back(a.get());
  }
  auto sub = std::make_unique<Batch>();
  sub->columns.resize(in.columns.size());
  for (int c : cols) GatherColumn(in.columns[static_cast<size_t>(c)], rows.data(), rows.size(), sub->columns[static_cast<size_t>(c)]);
  sub->num_rows = rows.size();
  const Batch* b = sub.get();
  // Keep the sub-batch alive as long as scratch: its columns may be the result.
  sub_batches_.push_back(std::move(sub));
  return Eval(e, *b);
}

Result<const ColumnVector*> Evaluator::EvalLogical(const Expr& e, const Batch& in, bool is_and) {
  size_t n = in.num_rows;
  auto safe = no_fail_.find(&e);
  if (safe == no_fail_.end()) safe = no_fail_.emplace(&e, e.cannot_fail()).first;
  if (safe->second) return EvalLogicalWhole(e, in, is_and);
  ColumnVector* out = NewVector(DataType::Boolean(), n);
  uint8_t* o = out->data<uint8_t>();
  std::memset(o, is_and ? 1 : 0, n);
  std::vector<uint32_t> active(n);
  for (size_t i = 0; i < n; ++i) active[i] = static_cast<uint32_t>(i);
  std::vector<uint32_t> next;
  for (const auto& a : e.args) {
    if (active.empty()) break;
    SL_ASSIGN_OR_RETURN(const ColumnVector* v, EvalOnRows(*a, in, active));
    next.clear();
    for (size_t k = 0; k < active.size(); ++k) {
      uint32_t i = active[k];
      if (!v->IsValid(k)) {
        out->SetNull(i);
        next.push_back(i);
        continue;
      }
      bool x = v->GetValue<uint8_t>(k) != 0;
      if (x == !is_and) {  // decided: FALSE for AND, TRUE for OR
        o[i] = x;
        out->SetValid(i);
      } else {
        next.push_back(i);
      }
    }
    active.swap(next);
  }
  return out;
}

Result<const ColumnVector*> Evaluator::EvalLogicalWhole(const Expr& e, const Batch& in, bool is_and) {
  const size_t n = in.num_rows;
  // decided: some operand is FALSE (AND) / TRUE (OR); unknown: some operand is NULL. Scratch
  // vectors of their own: an operand may be an AND/OR evaluated the same way.
  ColumnVector* out = NewVector(DataType::Boolean(), n);
  uint8_t* dec = out->data<uint8_t>();
  uint8_t* unk = NewVector(DataType::Boolean(), n)->data<uint8_t>();
  std::memset(dec, 0, n);
  std::memset(unk, 0, n);
  bool any_unknown = false;
  const uint8_t flip = is_and ? 1 : 0;
  for (size_t ai = 0; ai < e.args.size(); ++ai) {
    const Expr& a = *e.args[ai];
    if (ai > 0 && n >= 64) {
      // Once few rows are undecided (TPC-H Q19: two conjuncts keep 4% of the lineitems, then
      // an OR of twelve comparisons), the remaining operands run on those rows alone.
      size_t open = 0;
      for (size_t i = 0; i < n; ++i) open += dec[i] == 0;
      if (open * 4 < n) {
        std::vector<uint32_t> active;
        active.reserve(open);
        for (size_t i = 0; i < n; ++i)
          if (!dec[i]) active.push_back(static_cast<uint32_t>(i));
        for (size_t bj = ai; bj < e.args.size() && !active.empty(); ++bj) {
          SL_ASSIGN_OR_RETURN(const ColumnVector* v, EvalOnRows(*e.args[bj], in, active));
          size_t w = 0;
          for (size_t k = 0; k < active.size(); ++k) {
            const uint32_t i = active[k];
            if (!v->IsValid(k)) {
              unk[i] = 1;
              any_unknown = true;
            } else if ((v->GetValue<uint8_t>(k) != 0) != (flip != 0)) {
              dec[i] = 1;
              continue;
            }
            active[w++] = i;
          }
          active.resize(w);
        }
        break;
      }
    }
    SL_ASSIGN_OR_RETURN(const ColumnVector* v, Eval(a, in));
    const uint8_t* d = v->data<uint8_t>();
    if (v->encoding() == VectorEncoding::kConstant) {
      if (!v->IsValid(0)) {
        std::memset(unk, 1, n);
        any_unknown = true;
      } else if ((d[0] != 0) != (flip != 0)) {
        std::memset(dec, 1, n);
      }
      continue;
    }
    if (const uint64_t* bits = v->validity()) {
      any_unknown = true;
      for (size_t i = 0; i < n; ++i) {
        const uint8_t valid = static_cast<uint8_t>((bits[i >> 6] >> (i & 63)) & 1);
        dec[i] |= valid & static_cast<uint8_t>((d[i] != 0) ^ flip);
        unk[i] |= valid ^ 1;
      }
    } else {
      for (size_t i = 0; i < n; ++i) dec[i] |= static_cast<uint8_t>((d[i] != 0) ^ flip);
    }
  }
  if (any_unknown) {
    for (size_t i = 0; i < n; ++i)
      if (!dec[i] && unk[i]) out->SetNull(i);
  }
  for (size_t i = 0; i < n; ++i) dec[i] ^= flip;  // the value: decided is FALSE for AND
  return out;
}

namespace {

// Rows of x equal to one of the m values (a short list: compared one by one, no hashing).
template <typename T>
void InList(const T* x, size_t n, const T* lits, size_t m, uint8_t* o) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t found = 0;
    for (size_t k = 0; k < m; ++k) found |= x[i] == lits[k];
    o[i] = found;
  }
}

void InList(const std::string_view* x, size_t n, const std::string_view* lits, size_t m, uint8_t* o) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t found = 0;
    const std::string_view s = x[i];
    for (size_t k = 0; k < m && !found; ++k)
      found = s.size() == lits[k].size() && (s.empty() || std::memcmp(s.data(), lits[k].data(), s.size()) == 0);
    o[i] = found;
  }
}

}  // namespace

Result<bool> Evaluator::InSmallList(const Expr& e, const ColumnVector& v, size_t n, ColumnVector& out) {
  constexpr size_t kMaxItems = 16;
  auto it = in_lists_.find(&e);
  if (it == in_lists_.end()) {
    // The list's values as a flat vector of v's type, or null when a value has another type
    // (then the hashed path compares encodings) or the list is long.
    std::unique_ptr<SmallInList> list;
    const size_t items = e.args.size() - 1;
    bool usable = items <= kMaxItems;
    for (size_t k = 1; usable && k < e.args.size(); ++k) {
      const Value& lit = e.args[k]->value;
      usable = lit.is_null() || lit.type() == v.type();
    }
    switch (v.type().id) {
      case TypeId::kVarchar:
      case TypeId::kInt32:
      case TypeId::kDate:
      case TypeId::kInt64:
      case TypeId::kTimestamp: break;
      case TypeId::kDecimal: usable &= !v.type().is_wide_decimal(); break;
      default: usable = false;
    }
    if (usable) {
      list = std::make_unique<SmallInList>();
      list->values = ColumnVector(v.type(), items + 1);
      list->values.Resize(0);
      for (size_t k = 1; k < e.args.size(); ++k) {
        const Value& lit = e.args[k]->value;
        if (lit.is_null()) {
          list->has_null = true;
          continue;
        }
        const size_t at = list->values.size();
        list->values.Resize(at + 1);
        SetValueAt(list->values, at, lit);
      }
    }
    it = in_lists_.emplace(&e, std::move(list)).first;
  }
  if (!it->second) return false;
  const SmallInList& list = *it->second;
  const size_t m = list.values.size();
  uint8_t* o = out.data<uint8_t>();
  switch (v.type().id) {
    case TypeId::kVarchar:
      InList(v.data<std::string_view>(), n, list.values.data<std::string_view>(), m, o);
      break;
    case TypeId::kInt32:
    case TypeId::kDate: InList(v.data<int32_t>(), n, list.values.data<int32_t>(), m, o); break;
    default: InList(v.data<int64_t>(), n, list.values.data<int64_t>(), m, o); break;
  }
  // x IN (...) is NULL for a NULL x, and FALSE becomes NULL when the list holds a NULL.
  const uint64_t* bits = v.validity();
  for (size_t i = 0; i < n; ++i) {
    if (bits != nullptr && !((bits[i >> 6] >> (i & 63)) & 1)) {
      out.SetNull(i);
    } else if (!o[i] && list.has_null) {
      out.SetNull(i);
    } else {
      o[i] = static_cast<uint8_t>(o[i] != 0) ^ static_cast<uint8_t>(e.negated);
    }
  }
  return true;
}

Result<const ColumnVector*> Evaluator::EvalCase(const Expr& e, const Batch& in) {
  size_t n = in.num_rows;
  ColumnVector* out = NewVector(e.type, n);
  out->EnsureValidity();
  std::vector<uint32_t> remaining(n);
  for (size_t i = 0; i < n; ++i) remaining[i] = static_cast<uint32_t>(i);
  size_t pairs = (e.args.size() - (e.has_else ? 1 : 0)) / 2;
  std::vector<uint32_t> matched, rest;
  for (size_t p = 0; p < pairs && !remaining.empty(); ++p) {
    SL_ASSIGN_OR_RETURN(const ColumnVector* cond, EvalOnRows(*e.args[2 * p], in, remaining));
    matched.clear();
    rest.clear();
    for (size_t k = 0; k < remaining.size(); ++k) {
      if (cond->IsValid(k) && cond->GetValue<uint8_t>(k)) {
        matched.push_back(remaining[k]);
      } else {
        rest.push_back(remaining[k]);
      }
    }
    if (!matched.empty()) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, EvalOnRows(*e.args[2 * p + 1], in, matched));
      for (size_t k = 0; k < matched.size(); ++k) SetFrom(*out, matched[k], *v, k);
    }
    remaining.swap(rest);
  }
  if (!remaining.empty()) {
    if (e.has_else) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, EvalOnRows(*e.args.back(), in, remaining));
      for (size_t k = 0; k < remaining.size(); ++k) SetFrom(*out, remaining[k], *v, k);
    } else {
      for (uint32_t i : remaining) out->SetNull(i);
    }
  }
  return out;
}

Result<const ColumnVector*> Evaluator::EvalCoalesce(const Expr& e, const Batch& in) {
  size_t n = in.num_rows;
  ColumnVector* out = NewVector(e.type, n);
  out->EnsureValidity();
  std::vector<uint32_t> remaining(n), rest;
  for (size_t i = 0; i < n; ++i) remaining[i] = static_cast<uint32_t>(i);
  for (const auto& a : e.args) {
    if (remaining.empty()) break;
    SL_ASSIGN_OR_RETURN(const ColumnVector* v, EvalOnRows(*a, in, remaining));
    rest.clear();
    for (size_t k = 0; k < remaining.size(); ++k) {
      if (v->IsValid(k)) {
        SetFrom(*out, remaining[k], *v, k);
      } else {
        rest.push_back(remaining[k]);
      }
    }
    remaining.swap(rest);
  }
  for (uint32_t i : remaining) out->SetNull(i);
  return out;
}

Result<const ColumnVector*> Evaluator::EvalTry(const Expr& e, const Batch& in) {
  auto whole = Eval(*e.args[0], in);
  if (whole.ok()) return whole;
  if (whole.status().code() != StatusCode::kInvalidArgument) return whole.status();
  // Some row failed: evaluate row by row and turn the failing rows into NULL.
  size_t n = in.num_rows;
  ColumnVector* out = NewVector(e.type, n);
  out->EnsureValidity();
  std::vector<uint32_t> one(1);
  for (size_t i = 0; i < n; ++i) {
    one[0] = static_cast<uint32_t>(i);
    Batch row = GatherBatch(in, one);
    Evaluator sub(subqueries_);
    auto v = sub.Eval(*e.args[0], row);
    if (v.ok()) {
      SetFrom(*out, i, **v, 0);
    } else if (v.status().code() == StatusCode::kInvalidArgument) {
      out->SetNull(i);
    } else {
      return v.status();
    }
  }
  return out;
}

const ColumnVector* Evaluator::Flat(const ColumnVector& c, size_t n) {
  for (const auto& [src, flat] : flattened_)
    if (src == &c) return flat;
  ColumnVector* out = NewVector(c.type(), n);
  const ColumnVector& dict = *c.dictionary();
  GatherCodes(dict, c.data<uint32_t>(), n, *out);
  if (c.validity() != nullptr) std::memcpy(out->EnsureValidity(), c.validity(), (n + 63) / 64 * 8);
  if (c.type().id == TypeId::kVarchar) out->KeepAlive(c.shared_dictionary());
  flattened_.emplace_back(&c, out);
  return out;
}

namespace {

// The one column an expression reads, or -1 when it reads none or several, or cannot be
// evaluated per dictionary entry (non-deterministic, subqueries, try).
int SingleColumn(const Expr& e) {
  int col = -1;
  bool ok = true;
  std::vector<const Expr*> stack{&e};
  while (ok && !stack.empty()) {
    const Expr* x = stack.back();
    stack.pop_back();
    if (x->subquery || x->kind == ExprKind::kTry ||
        (x->kind == ExprKind::kCall && x->fn && !x->fn->deterministic)) {
      ok = false;
    } else if (x->kind == ExprKind::kColumn) {
      if (col >= 0 && col != x->column) ok = false;
      col = x->column;
    }
    for (const auto& a : x->args) stack.push_back(a.get());
  }
  return ok ? col : -1;
}

}  // namespace

Result<const ColumnVector*> Evaluator::EvalOnDictionary(const Expr& e, const Batch& in) {
  auto it = dict_column_.find(&e);
  if (it == dict_column_.end()) {
    // Strings stay per row: a string result could point into the per-dictionary values, which
    // do not live as long as an owned result (EvalOwned).
    int c = e.type.id == TypeId::kVarchar ? -1 : SingleColumn(e);
    it = dict_column_.emplace(&e, c).first;
  }
  if (it->second < 0) return nullptr;
  const ColumnVector& col = in.columns[static_cast<size_t>(it->second)];
  const size_t n = in.num_rows;
  if (col.encoding() != VectorEncoding::kDictionary || col.validity() != nullptr ||
      col.dictionary()->size() > n) {
    return nullptr;
  }
  DictResult& r = dict_results_[&e];
  if (r.dict != col.shared_dictionary()) {
    const ColumnVector& dict = *col.dictionary();
    Batch db;
    db.num_rows = dict.size();
    db.columns.resize(in.columns.size());
    CopyColumn(dict, dict.size(), db.columns[static_cast<size_t>(it->second)]);
    Evaluator sub(subqueries_);
    auto v = sub.EvalOwned(e, db);
    // An error on some entry (a failed cast) may concern only rows that are not live here:
    // evaluate this dictionary's batches per row instead, which reports it only for live rows.
    r.values = v.ok() ? std::make_unique<ColumnVector>(std::move(*v)) : nullptr;
    r.dict = col.shared_dictionary();
  }
  if (!r.values) return nullptr;
  const ColumnVector& v = *r.values;
  if (v.encoding() == VectorEncoding::kConstant) {
    ColumnVector* out = NewVector(e.type, 1);
    std::memcpy(out->data<uint8_t>(), v.data<uint8_t>(), e.type.byte_width());
    if (!v.IsValid(0)) out->SetNull(0);
    out->MakeConstant(n);
    return out;
  }
  ColumnVector* out = NewVector(e.type, n);
  const uint32_t* codes = col.data<uint32_t>();
  GatherCodes(v, codes, n, *out);
  if (v.validity() != nullptr) {
    const uint32_t dn = static_cast<uint32_t>(v.size());
    for (size_t i = 0; i < n; ++i)
      if (!v.IsValid(codes[i] < dn ? codes[i] : 0)) out->SetNull(i);
  }
  return out;
}

Result<const ColumnVector*> Evaluator::Eval(const Expr& e, const Batch& in) {
  size_t n = in.num_rows;
  if (e.kind != ExprKind::kColumn && e.kind != ExprKind::kLiteral) {
    SL_ASSIGN_OR_RETURN(const ColumnVector* d, EvalOnDictionary(e, in));
    if (d) return d;
  }
  switch (e.kind) {
    case ExprKind::kColumn: {
      const ColumnVector& c = in.columns[static_cast<size_t>(e.column)];
      if (c.encoding() == VectorEncoding::kDictionary) return Flat(c, n);
      return &c;
    }
    case ExprKind::kLiteral: {
      ColumnVector* v = NewVector(e.type, 1);
      FillConstant(*v, e.value, n);
      return v;
    }
    case ExprKind::kCall: {
      std::vector<const ColumnVector*> args;
      bool all_const = true;
      for (const auto& a : e.args) {
        SL_ASSIGN_OR_RETURN(const ColumnVector* v, Eval(*a, in));
        args.push_back(v);
        all_const &= v->encoding() == VectorEncoding::kConstant;
      }
      bool fold = all_const && e.fn->deterministic && n > 0;
      ColumnVector* out = NewVector(e.type, fold ? 1 : n);
      Status s = e.fn->kernel(args, fold ? 1 : n, *out);
      if (!s.ok()) return AtPos(s, e.pos);
      if (fold) out->MakeConstant(n);
      return out;
    }
    case ExprKind::kCast: {
      SL_ASSIGN_OR_RETURN(const ColumnVector* a, Eval(*e.args[0], in));
      bool fold = a->encoding() == VectorEncoding::kConstant && n > 0;
      ColumnVector* out = NewVector(e.type, fold ? 1 : n);
      Status s = CastVector(*a, e.type, fold ? 1 : n, *out, e.try_cast);
      if (!s.ok()) return AtPos(s, e.pos);
      if (fold) out->MakeConstant(n);
      return out;
    }
    case ExprKind::kAnd: return EvalLogical(e, in, true);
    case ExprKind::kOr: return EvalLogical(e, in, false);
    case ExprKind::kNot: {
      SL_ASSIGN_OR_RETURN(const ColumnVector* a, Eval(*e.args[0], in));
      ColumnVector* out = NewVector(DataType::Boolean(), n);
      for (size_t i = 0; i < n; ++i) {
        if (a->IsValid(i)) {
          out->data<uint8_t>()[i] = !a->GetValue<uint8_t>(i);
        } else {
          out->SetNull(i);
        }
      }
      return out;
    }
    case ExprKind::kIsNull: {
      SL_ASSIGN_OR_RETURN(const ColumnVector* a, Eval(*e.args[0], in));
      ColumnVector* out = NewVector(DataType::Boolean(), n);
      for (size_t i = 0; i < n; ++i) out->data<uint8_t>()[i] = a->IsValid(i) == e.negated;
      return out;
    }
    case ExprKind::kCase: return EvalCase(e, in);
    case ExprKind::kCoalesce: return EvalCoalesce(e, in);
    case ExprKind::kTry: return EvalTry(e, in);
    case ExprKind::kIn: {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, Eval(*e.args[0], in));
      ColumnVector* out = NewVector(DataType::Boolean(), n);
      bool all_literal = true;
      for (size_t k = 1; k < e.args.size(); ++k) all_literal &= e.args[k]->kind == ExprKind::kLiteral;
      if (all_literal && v->encoding() == VectorEncoding::kFlat) {
        SL_ASSIGN_OR_RETURN(bool done, InSmallList(e, *v, n, *out));
        if (done) return out;
      }
      if (all_literal) {
        auto it = in_sets_.find(&e);
        if (it == in_sets_.end()) {
          auto set = std::make_unique<SubqueryCache::InSet>();
          for (size_t k = 1; k < e.args.size(); ++k) {
            const Value& lit = e.args[k]->value;
            if (lit.is_null()) {
              set->has_null = true;
              continue;
            }
            ColumnVector one(lit.type(), 1);
            one.Resize(1);
            SetValueAt(one, 0, lit);
            std::string key;
            AppendKey(one, 0, key);
            set->keys.insert(key);
          }
          it = in_sets_.emplace(&e, std::move(set)).first;
        }
        const auto& set = *it->second;
        std::string key;
        for (size_t i = 0; i < n; ++i) {
          if (!v->IsValid(i)) {
            out->SetNull(i);
            continue;
          }
          key.clear();
          AppendKey(*v, i, key);
          bool found = set.keys.count(key) > 0;
          if (!found && set.has_null) {
            out->SetNull(i);
          } else {
            out->data<uint8_t>()[i] = found != e.negated;
          }
        }
        return out;
      }
      std::vector<const ColumnVector*> items;
      for (size_t k = 1; k < e.args.size(); ++k) {
        SL_ASSIGN_OR_RETURN(const ColumnVector* x, Eval(*e.args[k], in));
        items.push_back(x);
      }
      for (size_t i = 0; i < n; ++i) {
        if (!v->IsValid(i)) {
          out->SetNull(i);
          continue;
        }
        bool found = false, saw_null = false;
        for (const ColumnVector* x : items) {
          if (!x->IsValid(i)) {
            saw_null = true;
          } else if (CompareRows(*v, i, *x, i) == 0) {
            found = true;
            break;
          }
        }
        if (!found && saw_null) {
          out->SetNull(i);
        } else {
          out->data<uint8_t>()[i] = found != e.negated;
        }
      }
      return out;
    }
    case ExprKind::kScalarSubquery: {
      SL_ASSIGN_OR_RETURN(Value v, subqueries_->Scalar(e));
      ColumnVector* out = NewVector(e.type, 1);
      FillConstant(*out, v.is_null() ? Value::Null(e.type) : v, n);
      return out;
    }
    case ExprKind::kExists: {
      SL_ASSIGN_OR_RETURN(bool v, subqueries_->Exists(e));
      ColumnVector* out = NewVector(DataType::Boolean(), 1);
      FillConstant(*out, Value::Boolean(v != e.negated), n);
      return out;
    }
    case ExprKind::kInSubquery: {
      SL_ASSIGN_OR_RETURN(const SubqueryCache::InSet* set, subqueries_->Set(e));
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, Eval(*e.args[0], in));
      ColumnVector* out = NewVector(DataType::Boolean(), n);
      std::string key;
      bool empty = set->keys.empty() && !set->has_null;
      for (size_t i = 0; i < n; ++i) {
        if (empty) {  // x IN (empty) is FALSE even for a NULL x
          out->data<uint8_t>()[i] = e.negated;
          continue;
        }
        if (!v->IsValid(i)) {
          out->SetNull(i);
          continue;
        }
        key.clear();
        AppendKey(*v, i, key);
        bool found = set->keys.count(key) > 0;
        if (!found && set->has_null) {
          out->SetNull(i);
        } else {
          out->data<uint8_t>()[i] = found != e.negated;
        }
      }
      return out;
    }
  }
  return Status::Internal("unknown expression kind");
}

}  // namespace saleslake::sql::internal
