#include "sql/parser/parser.h"

#include <unordered_set>

#include "sql/parser/internal/lexer.h"

namespace saleslake::sql {

AstExpr::~AstExpr() = default;
TableRef::~TableRef() = default;
QueryBody::~QueryBody() = default;
Query::~Query() = default;

namespace {

using internal::Token;
using internal::TokenType;

// Words that cannot be used as an implicit alias or a bare column name.
const std::unordered_set<std::string>& Reserved() {
  static const std::unordered_set<std::string> k = {
      "select", "from",  "where",  "group",  "having", "order",   "limit",  "offset", "union",
      "intersect", "except", "join", "inner", "left",  "right",  "full",   "cross",  "on",
      "using",  "and",   "or",     "not",    "as",     "when",    "then",   "else",   "end",
      "case",   "is",    "in",     "between", "like",  "with",    "values", "natural", "by",
      "distinct", "all", "exists", "null",   "true",   "false",   "cast",   "escape", "fetch",
      "window", "outer", "into",   "table",  "create", "drop",    "insert", "explain", "show",
      "describe", "extract", "try_cast"};
  return k;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Result<std::unique_ptr<Statement>> Statement_();
  Result<std::unique_ptr<Query>> ParseQuery();
  Result<AstExprPtr> Expr() { return Or(); }
  bool AtEnd() const { return Peek().type == TokenType::kEnd; }
  bool AcceptOp(std::string_view op) {
    if (Peek().type == TokenType::kOperator && Peek().text == op) {
      ++i_;
      return true;
    }
    return false;
  }
  Status Unexpected(std::string_view expected) const {
    const Token& tok = Peek();
    std::string got = tok.type == TokenType::kEnd ? "end of input"
                      : "'" + (tok.raw.empty() ? tok.text : tok.raw) + "'";
    return Err(tok.pos, "expected " + std::string(expected) + " but found " + got);
  }

 private:
  const Token& Peek(size_t k = 0) const {
    size_t j = i_ + k;
    return j < t_.size() ? t_[j] : t_.back();
  }
  bool IsKw(std::string_view kw, size_t k = 0) const {
    return Peek(k).type == TokenType::kIdent && Peek(k).text == kw;
  }
  bool AcceptKw(std::string_view kw) {
    if (IsKw(kw)) {
      ++i_;
      return true;
    }
    return false;
  }
  bool IsOp(std::string_view op, size_t k = 0) const {
    return Peek(k).type == TokenType::kOperator && Peek(k).text == op;
  }
  static Status Err(SourcePos p, const std::string& what) {
    return Status::InvalidArgument("line " + p.ToString() + ": " + what);
  }
  Status ExpectKw(std::string_view kw) {
    if (AcceptKw(kw)) return Status::OK();
    std::string up(kw);
    for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Unexpected(up);
  }
  Status ExpectOp(std::string_view op) {
    if (AcceptOp(op)) return Status::OK();
    return Unexpected("'" + std::string(op) + "'");
  }
  Status Enter() {
    if (++depth_ > kMaxParseDepth)
      return Err(Peek().pos, "statement is nested too deeply (more than " +
                                 std::to_string(kMaxParseDepth) + " levels)");
    return Status::OK();
  }

  // A chain of left-associative operators (a + b - c ..., x OR y OR ...) is parsed by a loop,
  // but it builds a tree as deep as the chain is long, and the binder and evaluator recurse
  // through it: each link counts as a level, so the limit bounds the tree's depth, not only the
  // parser's. The caller takes `*chain` off depth_ when its loop ends.
  Status ChainLink(int* chain) {
    ++*chain;
    return Enter();
  }

  Result<std::string> Identifier(std::string_view what) {
    const Token& tok = Peek();
    if (tok.type == TokenType::kQuotedIdent ||
        (tok.type == TokenType::kIdent && !Reserved().count(tok.text))) {
      ++i_;
      return tok.text;
    }
    return Unexpected(what);
  }
  // Identifier that may also be a non-reserved-looking keyword (used after AS).
  Result<std::string> AnyIdentifier(std::string_view what) {
    const Token& tok = Peek();
    if (tok.type == TokenType::kQuotedIdent || tok.type == TokenType::kIdent) {
      ++i_;
      return tok.text;
    }
    if (tok.type == TokenType::kString) {  // Athena accepts AS 'alias'
      ++i_;
      return tok.text;
    }
    return Unexpected(what);
  }
  Result<std::vector<std::string>> QualifiedName() {
    std::vector<std::string> parts;
    SL_ASSIGN_OR_RETURN(std::string first, Identifier("a name"));
    parts.push_back(std::move(first));
    while (IsOp(".")) {
      ++i_;
      SL_ASSIGN_OR_RETURN(std::string next, AnyIdentifier("a name after '.'"));
      parts.push_back(std::move(next));
    }
    return parts;
  }
  Result<std::vector<std::string>> IdentList() {
    std::vector<std::string> out;
    SL_RETURN_IF_ERROR(ExpectOp("("));
    do {
      SL_ASSIGN_OR_RETURN(std::string id, Identifier("a column name"));
      out.push_back(std::move(id));
    } while (AcceptOp(","));
    SL_RETURN_IF_ERROR(ExpectOp(")"));
    return out;
  }
  // Optional [AS] alias; `allow_columns` adds "(c1, c2)".
  Status OptAlias(std::string* alias, std::vector<std::string>* cols) {
    if (AcceptKw("as")) {
      SL_ASSIGN_OR_RETURN(*alias, AnyIdentifier("an alias after AS"));
    } else if (Peek().type == TokenType::kQuotedIdent ||
               (Peek().type == TokenType::kIdent && !Reserved().count(Peek().text))) {
      *alias = Peek().text;
      ++i_;
    } else {
      return Status::OK();
    }
    if (cols && IsOp("(")) {
      SL_ASSIGN_OR_RETURN(*cols, IdentList());
    }
    return Status::OK();
  }

  Result<QueryBodyPtr> SetOpBody(int min_prec);
  Result<QueryBodyPtr> PrimaryBody();
  Result<std::unique_ptr<QuerySpec>> Spec();
  Result<TableRefPtr> FromList();
  Result<TableRefPtr> JoinedTable();
  Result<TableRefPtr> TablePrimary();
  Result<std::vector<std::vector<AstExprPtr>>> ValuesRows();
  Status GroupBy(QuerySpec* spec);
  Result<std::vector<OrderItem>> OrderList();
  Result<std::unique_ptr<WindowSpec>> Window();
  Result<FrameBound> Bound();

  Result<AstExprPtr> Or();
  Result<AstExprPtr> And();
  Result<AstExprPtr> Not();
  Result<AstExprPtr> Predicate();
  Result<AstExprPtr> Additive();
  Result<AstExprPtr> Multiplicative();
  Result<AstExprPtr> UnaryExpr();
  Result<AstExprPtr> Primary();
  Result<AstExprPtr> FunctionCall(std::string name, SourcePos p);
  Result<std::string> TypeName();

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
};

AstExprPtr MakeBinary(std::string op, AstExprPtr a, AstExprPtr b, SourcePos p) {
  auto e = std::make_unique<AstExpr>(AstKind::kBinary, p);
  e->text = std::move(op);
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

Result<AstExprPtr> Parser::Or() {
  SL_RETURN_IF_ERROR(Enter());
  SL_ASSIGN_OR_RETURN(AstExprPtr left, And());
  int chain = 0;  // see ChainLink
  while (IsKw("or")) {
    SL_RETURN_IF_ERROR(ChainLink(&chain));
    SourcePos p = Peek().pos;
    ++i_;
    SL_ASSIGN_OR_RETURN(AstExprPtr right, And());
    left = MakeBinary("or", std::move(left), std::move(right), p);
  }
  depth_ -= chain + 1;
  return left;
}

Result<AstExprPtr> Parser::And() {
  SL_ASSIGN_OR_RETURN(AstExprPtr left, Not());
  int chain = 0;
  while (IsKw("and")) {
    SL_RETURN_IF_ERROR(ChainLink(&chain));
    SourcePos p = Peek().pos;
    ++i_;
    SL_ASSIGN_OR_RETURN(AstExprPtr right, Not());
    left = MakeBinary("and", std::move(left), std::move(right), p);
  }
  depth_ -= chain;
  return left;
}

Result<AstExprPtr> Parser::Not() {
  if (IsKw("not")) {
    SourcePos p = Peek().pos;
    ++i_;
    SL_RETURN_IF_ERROR(Enter());
    SL_ASSIGN_OR_RETURN(AstExprPtr inner, Not());
    --depth_;
    auto e = std::make_unique<AstExpr>(AstKind::kUnary, p);
    e->text = "not";
    e->args.push_back(std::move(inner));
    return e;
  }
  return Predicate();
}

Result<AstExprPtr> Parser::Predicate() {
  SL_ASSIGN_OR_RETURN(AstExprPtr left, Additive());
  int chain = 0;
  while (true) {
    SL_RETURN_IF_ERROR(ChainLink(&chain));
    SourcePos p = Peek().pos;
    if (Peek().type == TokenType::kOperator &&
        (Peek().text == "=" || Peek().text == "<>" || Peek().text == "!=" || Peek().text == "<" ||
         Peek().text == "<=" || Peek().text == ">" || Peek().text == ">=")) {
      std::string op = Peek().text == "!=" ? "<>" : Peek().text;
      ++i_;
      SL_ASSIGN_OR_RETURN(AstExprPtr right, Additive());
      left = MakeBinary(op, std::move(left), std::move(right), p);
      continue;
    }
    if (IsKw("is")) {
      ++i_;
      bool neg = AcceptKw("not");
      if (AcceptKw("null")) {
        auto e = std::make_unique<AstExpr>(AstKind::kIsNull, p);
        e->negated = neg;
        e->args.push_back(std::move(left));
        left = std::move(e);
        continue;
      }
      if (AcceptKw("distinct")) {
        SL_RETURN_IF_ERROR(ExpectKw("from"));
        SL_ASSIGN_OR_RETURN(AstExprPtr right, Additive());
        left = MakeBinary(neg ? "is not distinct from" : "is distinct from", std::move(left),
                          std::move(right), p);
        continue;
      }
      if (IsKw("true") || IsKw("false")) {
        bool want = Peek().text == "true";
        ++i_;
        // x IS [NOT] TRUE: x IS NOT DISTINCT FROM TRUE
        auto lit = std::make_unique<AstExpr>(AstKind::kLiteral, p);
        lit->literal_kind = want ? LiteralKind::kTrue : LiteralKind::kFalse;
        left = MakeBinary(neg ? "is distinct from" : "is not distinct from", std::move(left),
                          std::move(lit), p);
        continue;
      }
      return Unexpected("NULL, NOT NULL, TRUE, FALSE or DISTINCT FROM after IS");
    }
    bool neg = false;
    size_t save = i_;
    if (IsKw("not") && (IsKw("in", 1) || IsKw("between", 1) || IsKw("like", 1))) {
      neg = true;
      ++i_;
    }
    if (AcceptKw("in")) {
      SL_RETURN_IF_ERROR(ExpectOp("("));
      if (IsKw("select") || IsKw("with") || IsKw("values")) {
        auto e = std::make_unique<AstExpr>(AstKind::kInSubquery, p);
        e->negated = neg;
        e->args.push_back(std::move(left));
        SL_ASSIGN_OR_RETURN(e->subquery, ParseQuery());
        SL_RETURN_IF_ERROR(ExpectOp(")"));
        left = std::move(e);
        continue;
      }
      auto e = std::make_unique<AstExpr>(AstKind::kIn, p);
      e->negated = neg;
      e->args.push_back(std::move(left));
      do {
        SL_ASSIGN_OR_RETURN(AstExprPtr item, Expr());
        e->args.push_back(std::move(item));
      } while (AcceptOp(","));
      SL_RETURN_IF_ERROR(ExpectOp(")"));
      left = std::move(e);
      continue;
    }
    if (AcceptKw("between")) {
      auto e = std::make_unique<AstExpr>(AstKind::kBetween, p);
      e->negated = neg;
      e->args.push_back(std::move(left));
      SL_ASSIGN_OR_RETURN(AstExprPtr lo, Additive());
      SL_RETURN_IF_ERROR(ExpectKw("and"));
      SL_ASSIGN_OR_RETURN(AstExprPtr hi, Additive());
      e->args.push_back(std::move(lo));
      e->args.push_back(std::move(hi));
      left = std::move(e);
      continue;
    }
    if (AcceptKw("like")) {
      auto e = std::make_unique<AstExpr>(AstKind::kLike, p);
      e->negated = neg;
      e->args.push_back(std::move(left));
      SL_ASSIGN_OR_RETURN(AstExprPtr pat, Additive());
      e->args.push_back(std::move(pat));
      if (AcceptKw("escape")) {
        SL_ASSIGN_OR_RETURN(AstExprPtr esc, Additive());
        e->args.push_back(std::move(esc));
      }
      left = std::move(e);
      continue;
    }
    i_ = save;
    depth_ -= chain;
    return left;
  }
}

Result<AstExprPtr> Parser::Additive() {
  SL_ASSIGN_OR_RETURN(AstExprPtr left, Multiplicative());
  int chain = 0;
  while (IsOp("+") || IsOp("-") || IsOp("||")) {
    SL_RETURN_IF_ERROR(ChainLink(&chain));
    SourcePos p = Peek().pos;
    std::string op = Peek().text;
    ++i_;
    SL_ASSIGN_OR_RETURN(AstExprPtr right, Multiplicative());
    left = MakeBinary(op, std::move(left), std::move(right), p);
  }
  depth_ -= chain;
  return left;
}

Result<AstExprPtr> Parser::Multiplicative() {
  SL_ASSIGN_OR_RETURN(AstExprPtr left, UnaryExpr());
  int chain = 0;
  while (IsOp("*") || IsOp("/") || IsOp("%")) {
    SL_RETURN_IF_ERROR(ChainLink(&chain));
    SourcePos p = Peek().pos;
    std::string op = Peek().text;
    ++i_;
    SL_ASSIGN_OR_RETURN(AstExprPtr right, UnaryExpr());
    left = MakeBinary(op, std::move(left), std::move(right), p);
  }
  depth_ -= chain;
  return left;
}

Result<AstExprPtr> Parser::UnaryExpr() {
  if (IsOp("-") || IsOp("+")) {
    SourcePos p = Peek().pos;
    std::string op = Peek().text;
    ++i_;
    SL_RETURN_IF_ERROR(Enter());
    SL_ASSIGN_OR_RETURN(AstExprPtr inner, UnaryExpr());
    --depth_;
    // Fold "-literal" right here so that -2147483648 and -9223372036854775808 stay integers.
    if (op == "-" && inner->kind == AstKind::kLiteral &&
        (inner->literal_kind == LiteralKind::kInteger ||
         inner->literal_kind == LiteralKind::kDecimal ||
         inner->literal_kind == LiteralKind::kDouble) &&
        inner->text[0] != '-') {
      inner->text = "-" + inner->text;
      inner->pos = p;
      return inner;
    }
    if (op == "+") return inner;
    auto e = std::make_unique<AstExpr>(AstKind::kUnary, p);
    e->text = op;
    e->args.push_back(std::move(inner));
    return e;
  }
  return Primary();
}

Result<std::string> Parser::TypeName() {
  const Token& tok = Peek();
  if (tok.type != TokenType::kIdent) return Unexpected("a type name");
  std::string name = tok.text;
  ++i_;
  if (name == "double" && IsKw("precision")) {
    ++i_;
    name += " precision";
  }
  if (name == "timestamp" || name == "time") {
    if (IsOp("(")) {  // timestamp(3): precision ignored, microseconds kept
      ++i_;
      if (Peek().type != TokenType::kInteger) return Unexpected("a precision");
      ++i_;
      SL_RETURN_IF_ERROR(ExpectOp(")"));
    }
    if (IsKw("with") && IsKw("time", 1)) return Err(tok.pos, "TIMESTAMP WITH TIME ZONE is not supported");
    return name;
  }
  if (IsOp("(")) {
    ++i_;
    name += "(";
    bool first = true;
    while (!IsOp(")")) {
      if (!first) {
        SL_RETURN_IF_ERROR(ExpectOp(","));
        name += ",";
      }
      first = false;
      if (Peek().type != TokenType::kInteger) return Unexpected("a number in the type");
      name += Peek().text;
      ++i_;
    }
    ++i_;
    name += ")";
  }
  return name;
}

Result<FrameBound> Parser::Bound() {
  FrameBound b;
  if (AcceptKw("unbounded")) {
    if (AcceptKw("preceding")) {
      b.kind = BoundKind::kUnboundedPreceding;
    } else {
      SL_RETURN_IF_ERROR(ExpectKw("following"));
      b.kind = BoundKind::kUnboundedFollowing;
    }
    return b;
  }
  if (AcceptKw("current")) {
    SL_RETURN_IF_ERROR(ExpectKw("row"));
    b.kind = BoundKind::kCurrentRow;
    return b;
  }
  SL_ASSIGN_OR_RETURN(b.offset, Additive());
  if (AcceptKw("preceding")) {
    b.kind = BoundKind::kPreceding;
  } else {
    SL_RETURN_IF_ERROR(ExpectKw("following"));
    b.kind = BoundKind::kFollowing;
  }
  return b;
}

Result<std::unique_ptr<WindowSpec>> Parser::Window() {
  auto w = std::make_unique<WindowSpec>();
  SL_RETURN_IF_ERROR(ExpectOp("("));
  if (AcceptKw("partition")) {
    SL_RETURN_IF_ERROR(ExpectKw("by"));
    do {
      SL_ASSIGN_OR_RETURN(AstExprPtr e, Expr());
      w->partition_by.push_back(std::move(e));
    } while (AcceptOp(","));
  }
  if (AcceptKw("order")) {
    SL_RETURN_IF_ERROR(ExpectKw("by"));
    SL_ASSIGN_OR_RETURN(w->order_by, OrderList());
  }
  if (IsKw("rows") || IsKw("range")) {
    w->has_frame = true;
    w->unit = Peek().text == "rows" ? FrameUnit::kRows : FrameUnit::kRange;
    ++i_;
    if (AcceptKw("between")) {
      SL_ASSIGN_OR_RETURN(w->start, Bound());
      SL_RETURN_IF_ERROR(ExpectKw("and"));
      SL_ASSIGN_OR_RETURN(w->end, Bound());
    } else {
      SL_ASSIGN_OR_RETURN(w->start, Bound());
      w->end.kind = BoundKind::kCurrentRow;
    }
  }
  SL_RETURN_IF_ERROR(ExpectOp(")"));
  return w;
}

Result<AstExprPtr> Parser::FunctionCall(std::string name, SourcePos p) {
  auto e = std::make_unique<AstExpr>(AstKind::kFunction, p);
  e->text = std::move(name);
  SL_RETURN_IF_ERROR(ExpectOp("("));
  if (AcceptOp("*")) {
    e->star = true;
  } else if (!IsOp(")")) {
    if (AcceptKw("distinct")) {
      e->distinct = true;
    } else {
      AcceptKw("all");
    }
    do {
      SL_ASSIGN_OR_RETURN(AstExprPtr a, Expr());
      e->args.push_back(std::move(a));
      // The standard form substring(s FROM start [FOR length]) (TPC-H Q22) is substring(s, start[, length]).
      if (e->text == "substring" && e->args.size() == 1 && AcceptKw("from")) {
        SL_ASSIGN_OR_RETURN(AstExprPtr start, Expr());
        e->args.push_back(std::move(start));
        if (AcceptKw("for")) {
          SL_ASSIGN_OR_RETURN(AstExprPtr length, Expr());
          e->args.push_back(std::move(length));
        }
        break;
      }
    } while (AcceptOp(","));
  }
  SL_RETURN_IF_ERROR(ExpectOp(")"));
  if (AcceptKw("filter")) {
    SL_RETURN_IF_ERROR(ExpectOp("("));
    SL_RETURN_IF_ERROR(ExpectKw("where"));
    SL_ASSIGN_OR_RETURN(e->filter, Expr());
    SL_RETURN_IF_ERROR(ExpectOp(")"));
  }
  if (IsKw("ignore") || IsKw("respect")) {
    ++i_;
    SL_RETURN_IF_ERROR(ExpectKw("nulls"));
  }
  if (AcceptKw("over")) {
    SL_ASSIGN_OR_RETURN(e->window, Window());
  }
  return e;
}

Result<AstExprPtr> Parser::Primary() {
  const Token tok = Peek();
  SourcePos p = tok.pos;
  auto lit = [&](LiteralKind k, std::string text) {
    auto e = std::make_unique<AstExpr>(AstKind::kLiteral, p);
    e->literal_kind = k;
    e->text = std::move(text);
    return e;
  };
  switch (tok.type) {
    case TokenType::kInteger: ++i_; return lit(LiteralKind::kInteger, tok.text);
    case TokenType::kDecimal: ++i_; return lit(LiteralKind::kDecimal, tok.text);
    case TokenType::kDouble: ++i_; return lit(LiteralKind::kDouble, tok.text);
    case TokenType::kString: ++i_; return lit(LiteralKind::kString, tok.text);
    case TokenType::kEnd: return Unexpected("an expression");
    case TokenType::kOperator: {
      if (tok.text == "(") {
        ++i_;
        if (IsKw("select") || IsKw("with") || IsKw("values")) {
          auto e = std::make_unique<AstExpr>(AstKind::kSubquery, p);
          SL_ASSIGN_OR_RETURN(e->subquery, ParseQuery());
          SL_RETURN_IF_ERROR(ExpectOp(")"));
          return e;
        }
        SL_RETURN_IF_ERROR(Enter());
        SL_ASSIGN_OR_RETURN(AstExprPtr inner, Expr());
        --depth_;
        if (IsOp(",")) return Err(Peek().pos, "row constructors are not supported");
        SL_RETURN_IF_ERROR(ExpectOp(")"));
        return inner;
      }
      return Unexpected("an expression");
    }
    case TokenType::kQuotedIdent:
    case TokenType::kIdent:
      break;
  }
  if (tok.type == TokenType::kIdent) {
    const std::string& w = tok.text;
    if (w == "null") { ++i_; return lit(LiteralKind::kNull, ""); }
    if (w == "true") { ++i_; return lit(LiteralKind::kTrue, ""); }
    if (w == "false") { ++i_; return lit(LiteralKind::kFalse, ""); }
    if ((w == "date" || w == "timestamp") && Peek(1).type == TokenType::kString) {
      i_ += 2;
      return lit(w == "date" ? LiteralKind::kDate : LiteralKind::kTimestamp, t_[i_ - 1].text);
    }
    if (Peek(1).type == TokenType::kString &&
        (w == "decimal" || w == "double" || w == "real" || w == "bigint" || w == "integer" ||
         w == "int" || w == "smallint" || w == "tinyint" || w == "varchar" || w == "char" ||
         w == "boolean")) {
      // Typed literal: DECIMAL '1.50' keeps the literal's own precision and scale.
      i_ += 2;
      const std::string& text = t_[i_ - 1].text;
      if (w == "decimal") {
        std::string t = text;
        while (!t.empty() && t.front() == ' ') t.erase(t.begin());
        while (!t.empty() && t.back() == ' ') t.pop_back();
        size_t k = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
        bool digits = false, ok = k < t.size();
        for (size_t d = k, dots = 0; d < t.size(); ++d) {
          if (t[d] == '.') {
            ok &= ++dots == 1;
          } else if (std::isdigit(static_cast<unsigned char>(t[d]))) {
            digits = true;
          } else {
            ok = false;
          }
        }
        if (!ok || !digits) return Err(p, "invalid DECIMAL literal '" + text + "'");
        if (t[0] == '+') t.erase(t.begin());
        return lit(t.find('.') == std::string::npos ? LiteralKind::kDecimal : LiteralKind::kDecimal,
                   t.find('.') == std::string::npos ? t + "." : t);
      }
      auto e = std::make_unique<AstExpr>(AstKind::kCast, p);
      e->type_name = w;
      e->args.push_back(lit(LiteralKind::kString, text));
      return e;
    }
    if (w == "interval") {
      ++i_;
      bool neg = false;
      if (AcceptOp("-")) neg = true; else AcceptOp("+");
      if (Peek().type != TokenType::kString) return Unexpected("a quoted interval value");
      auto e = lit(LiteralKind::kInterval, (neg ? "-" : "") + Peek().text);
      ++i_;
      static const std::unordered_set<std::string> kUnits = {
          "year", "month", "day", "hour", "minute", "second", "week", "quarter",
          "years", "months", "days", "hours", "minutes", "seconds", "weeks"};
      if (Peek().type != TokenType::kIdent || !kUnits.count(Peek().text))
        return Unexpected("an interval unit (YEAR, MONTH, DAY, HOUR, MINUTE, SECOND)");
      e->interval_unit = Peek().text;
      ++i_;
      if (AcceptKw("to")) {
        if (Peek().type != TokenType::kIdent || !kUnits.count(Peek().text))
          return Unexpected("an interval unit");
        e->interval_to_unit = Peek().text;
        ++i_;
      }
      return e;
    }
    if (w == "case") {
      ++i_;
      auto e = std::make_unique<AstExpr>(AstKind::kCase, p);
      if (!IsKw("when")) {
        e->has_operand = true;
        SL_ASSIGN_OR_RETURN(AstExprPtr operand, Expr());
        e->args.push_back(std::move(operand));
      }
      if (!IsKw("when")) return Unexpected("WHEN");
      while (AcceptKw("when")) {
        SL_ASSIGN_OR_RETURN(AstExprPtr c, Expr());
        SL_RETURN_IF_ERROR(ExpectKw("then"));
        SL_ASSIGN_OR_RETURN(AstExprPtr v, Expr());
        e->args.push_back(std::move(c));
        e->args.push_back(std::move(v));
      }
      if (AcceptKw("else")) {
        e->has_else = true;
        SL_ASSIGN_OR_RETURN(AstExprPtr v, Expr());
        e->args.push_back(std::move(v));
      }
      SL_RETURN_IF_ERROR(ExpectKw("end"));
      return e;
    }
    if ((w == "cast" || w == "try_cast") && IsOp("(", 1)) {
      i_ += 2;
      auto e = std::make_unique<AstExpr>(AstKind::kCast, p);
      e->try_cast = w == "try_cast";
      SL_ASSIGN_OR_RETURN(AstExprPtr inner, Expr());
      e->args.push_back(std::move(inner));
      SL_RETURN_IF_ERROR(ExpectKw("as"));
      SL_ASSIGN_OR_RETURN(e->type_name, TypeName());
      SL_RETURN_IF_ERROR(ExpectOp(")"));
      return e;
    }
    if (w == "extract" && IsOp("(", 1)) {
      i_ += 2;
      auto e = std::make_unique<AstExpr>(AstKind::kExtract, p);
      if (Peek().type != TokenType::kIdent) return Unexpected("a field name");
      e->text = Peek().text;
      ++i_;
      SL_RETURN_IF_ERROR(ExpectKw("from"));
      SL_ASSIGN_OR_RETURN(AstExprPtr inner, Expr());
      e->args.push_back(std::move(inner));
      SL_RETURN_IF_ERROR(ExpectOp(")"));
      return e;
    }
    if (w == "exists" && IsOp("(", 1)) {
      i_ += 2;
      auto e = std::make_unique<AstExpr>(AstKind::kExists, p);
      SL_ASSIGN_OR_RETURN(e->subquery, ParseQuery());
      SL_RETURN_IF_ERROR(ExpectOp(")"));
      return e;
    }
    if ((w == "current_date" || w == "current_timestamp" || w == "now") && !IsOp("(", 1)) {
      ++i_;
      auto e = std::make_unique<AstExpr>(AstKind::kFunction, p);
      e->text = w;
      return e;
    }
    // Keywords usable as function names: left(...), right(...), if(...), replace(...).
    if (IsOp("(", 1) && (w == "if" || w == "left" || w == "right" || !Reserved().count(w))) {
      i_ += 1;
      return FunctionCall(w, p);
    }
    if (Reserved().count(w)) return Unexpected("an expression");
  }
  // Column reference (possibly qualified) or t.*
  auto e = std::make_unique<AstExpr>(AstKind::kColumn, p);
  e->names.push_back(tok.text);
  ++i_;
  while (IsOp(".")) {
    ++i_;
    if (AcceptOp("*")) {
      e->kind = AstKind::kStar;
      return e;
    }
    SL_ASSIGN_OR_RETURN(std::string part, AnyIdentifier("a name after '.'"));
    e->names.push_back(std::move(part));
  }
  if (IsOp("(") && e->names.size() > 1) return Err(p, "qualified function names are not supported");
  return e;
}

Result<std::vector<OrderItem>> Parser::OrderList() {
  std::vector<OrderItem> out;
  do {
    OrderItem item;
    SL_ASSIGN_OR_RETURN(item.expr, Expr());
    if (AcceptKw("desc")) {
      item.descending = true;
    } else {
      AcceptKw("asc");
    }
    if (AcceptKw("nulls")) {
      if (AcceptKw("first")) {
        item.nulls_first = true;
      } else {
        SL_RETURN_IF_ERROR(ExpectKw("last"));
        item.nulls_first = false;
      }
    }
    out.push_back(std::move(item));
  } while (AcceptOp(","));
  return out;
}

Result<std::vector<std::vector<AstExprPtr>>> Parser::ValuesRows() {
  std::vector<std::vector<AstExprPtr>> rows;
  do {
    std::vector<AstExprPtr> row;
    if (AcceptOp("(")) {
      do {
        SL_ASSIGN_OR_RETURN(AstExprPtr e, Expr());
        row.push_back(std::move(e));
      } while (AcceptOp(","));
      SL_RETURN_IF_ERROR(ExpectOp(")"));
    } else {
      SL_ASSIGN_OR_RETURN(AstExprPtr e, Expr());
      row.push_back(std::move(e));
    }
    rows.push_back(std::move(row));
  } while (AcceptOp(","));
  return rows;
}

Result<TableRefPtr> Parser::TablePrimary() {
  SourcePos p = Peek().pos;
  SL_RETURN_IF_ERROR(Enter());
  TableRefPtr ref;
  if (AcceptOp("(")) {
    size_t save = i_;
    int save_depth = depth_;
    if (IsKw("select") || IsKw("with") || IsKw("values") || IsOp("(")) {
      auto q = ParseQuery();
      if (q.ok() && IsOp(")")) {
        ++i_;
        ref = std::make_unique<TableRef>(TableRef::Kind::kSubquery, p);
        ref->subquery = std::move(*q);
      } else if (t_[save].text != "(") {
        if (!q.ok()) return q.status();
        return Unexpected("')'");
      }
    }
    if (!ref) {  // a parenthesised join: (a JOIN b ON ...)
      i_ = save;
      depth_ = save_depth;
      SL_ASSIGN_OR_RETURN(ref, FromList());
      SL_RETURN_IF_ERROR(ExpectOp(")"));
    }
  } else if (AcceptKw("values")) {
    ref = std::make_unique<TableRef>(TableRef::Kind::kValues, p);
    SL_ASSIGN_OR_RETURN(ref->values, ValuesRows());
  } else {
    ref = std::make_unique<TableRef>(TableRef::Kind::kTable, p);
    SL_ASSIGN_OR_RETURN(ref->name, QualifiedName());
  }
  SL_RETURN_IF_ERROR(OptAlias(&ref->alias, &ref->column_aliases));
  --depth_;
  return ref;
}

Result<TableRefPtr> Parser::JoinedTable() {
  SL_ASSIGN_OR_RETURN(TableRefPtr left, TablePrimary());
  while (true) {
    SourcePos p = Peek().pos;
    JoinType jt;
    if (AcceptKw("cross")) {
      SL_RETURN_IF_ERROR(ExpectKw("join"));
      jt = JoinType::kCross;
    } else if (AcceptKw("join")) {
      jt = JoinType::kInner;
    } else if (AcceptKw("inner")) {
      SL_RETURN_IF_ERROR(ExpectKw("join"));
      jt = JoinType::kInner;
    } else if (IsKw("left") || IsKw("right") || IsKw("full")) {
      std::string w = Peek().text;
      ++i_;
      AcceptKw("outer");
      SL_RETURN_IF_ERROR(ExpectKw("join"));
      jt = w == "left" ? JoinType::kLeft : w == "right" ? JoinType::kRight : JoinType::kFull;
    } else if (IsKw("natural")) {
      return Err(p, "NATURAL JOIN is not supported; use JOIN ... USING (...)");
    } else {
      return left;
    }
    auto j = std::make_unique<TableRef>(TableRef::Kind::kJoin, p);
    j->join_type = jt;
    j->left = std::move(left);
    SL_ASSIGN_OR_RETURN(j->right, TablePrimary());
    if (jt != JoinType::kCross) {
      if (AcceptKw("on")) {
        SL_ASSIGN_OR_RETURN(j->on, Expr());
      } else if (AcceptKw("using")) {
        SL_ASSIGN_OR_RETURN(j->using_columns, IdentList());
      } else {
        return Unexpected("ON or USING after JOIN");
      }
    }
    left = std::move(j);
  }
}

Result<TableRefPtr> Parser::FromList() {
  SL_ASSIGN_OR_RETURN(TableRefPtr left, JoinedTable());
  while (IsOp(",")) {
    SourcePos p = Peek().pos;
    ++i_;
    auto j = std::make_unique<TableRef>(TableRef::Kind::kJoin, p);
    j->join_type = JoinType::kCross;
    j->left = std::move(left);
    SL_ASSIGN_OR_RETURN(j->right, JoinedTable());
    left = std::move(j);
  }
  return left;
}

Status Parser::GroupBy(QuerySpec* spec) {
  spec->has_group_by = true;
  AcceptKw("all");
  do {
    GroupingElement g;
    if ((IsKw("rollup") || IsKw("cube")) && IsOp("(", 1)) {
      g.kind = Peek().text == "rollup" ? GroupingElement::Kind::kRollup
                                       : GroupingElement::Kind::kCube;
      i_ += 2;
      do {
        SL_ASSIGN_OR_RETURN(AstExprPtr e, Expr());
        g.exprs.push_back(std::move(e));
      } while (AcceptOp(","));
      SL_RETURN_IF_ERROR(ExpectOp(")"));
    } else if (IsKw("grouping") && IsKw("sets", 1)) {
      g.kind = GroupingElement::Kind::kSets;
      i_ += 2;
      SL_RETURN_IF_ERROR(ExpectOp("("));
      do {
        std::vector<AstExprPtr> set;
        if (AcceptOp("(")) {
          if (!IsOp(")")) {
            do {
              SL_ASSIGN_OR_RETURN(AstExprPtr e, Expr());
              set.push_back(std::move(e));
            } while (AcceptOp(","));
          }
          SL_RETURN_IF_ERROR(ExpectOp(")"));
        } else {
          SL_ASSIGN_OR_RETURN(AstExprPtr e, Expr());
          set.push_back(std::move(e));
        }
        g.sets.push_back(std::move(set));
      } while (AcceptOp(","));
      SL_RETURN_IF_ERROR(ExpectOp(")"));
    } else {
      SL_ASSIGN_OR_RETURN(AstExprPtr e, Expr());
      g.exprs.push_back(std::move(e));
    }
    spec->group_by.push_back(std::move(g));
  } while (AcceptOp(","));
  return Status::OK();
}

Result<std::unique_ptr<QuerySpec>> Parser::Spec() {
  auto spec = std::make_unique<QuerySpec>();
  SL_RETURN_IF_ERROR(ExpectKw("select"));
  if (AcceptKw("distinct")) {
    spec->distinct = true;
  } else {
    AcceptKw("all");
  }
  do {
    SelectItem item;
    item.pos = Peek().pos;
    if (IsOp("*")) {
      ++i_;
      item.expr = std::make_unique<AstExpr>(AstKind::kStar, item.pos);
    } else {
      SL_ASSIGN_OR_RETURN(item.expr, Expr());
      if (item.expr->kind != AstKind::kStar) {
        SL_RETURN_IF_ERROR(OptAlias(&item.alias, nullptr));
      }
    }
    spec->items.push_back(std::move(item));
  } while (AcceptOp(","));
  if (AcceptKw("from")) {
    SL_ASSIGN_OR_RETURN(spec->from, FromList());
  }
  if (AcceptKw("where")) {
    SL_ASSIGN_OR_RETURN(spec->where, Expr());
  }
  if (AcceptKw("group")) {
    SL_RETURN_IF_ERROR(ExpectKw("by"));
    SL_RETURN_IF_ERROR(GroupBy(spec.get()));
  }
  if (AcceptKw("having")) {
    SL_ASSIGN_OR_RETURN(spec->having, Expr());
  }
  return spec;
}

Result<QueryBodyPtr> Parser::PrimaryBody() {
  SourcePos p = Peek().pos;
  if (IsOp("(")) {
    ++i_;
    SL_RETURN_IF_ERROR(Enter());
    auto b = std::make_unique<QueryBody>(QueryBody::Kind::kQuery, p);
    SL_ASSIGN_OR_RETURN(b->query, ParseQuery());
    SL_RETURN_IF_ERROR(ExpectOp(")"));
    --depth_;
    return b;
  }
  if (AcceptKw("values")) {
    auto b = std::make_unique<QueryBody>(QueryBody::Kind::kValues, p);
    SL_ASSIGN_OR_RETURN(b->values, ValuesRows());
    return b;
  }
  if (AcceptKw("table")) {
    // TABLE t  ==  SELECT * FROM t
    auto b = std::make_unique<QueryBody>(QueryBody::Kind::kSpec, p);
    b->spec = std::make_unique<QuerySpec>();
    SelectItem item;
    item.pos = p;
    item.expr = std::make_unique<AstExpr>(AstKind::kStar, p);
    b->spec->items.push_back(std::move(item));
    b->spec->from = std::make_unique<TableRef>(TableRef::Kind::kTable, Peek().pos);
    SL_ASSIGN_OR_RETURN(b->spec->from->name, QualifiedName());
    return b;
  }
  if (!IsKw("select")) return Unexpected("SELECT, VALUES or '('");
  auto b = std::make_unique<QueryBody>(QueryBody::Kind::kSpec, p);
  SL_ASSIGN_OR_RETURN(b->spec, Spec());
  return b;
}

// INTERSECT binds tighter than UNION / EXCEPT (SQL standard, Trino).
Result<QueryBodyPtr> Parser::SetOpBody(int min_prec) {
  SL_ASSIGN_OR_RETURN(QueryBodyPtr left, PrimaryBody());
  while (true) {
    int prec;
    QueryBody::SetOp op;
    if (IsKw("union")) {
      prec = 1;
      op = QueryBody::SetOp::kUnion;
    } else if (IsKw("except")) {
      prec = 1;
      op = QueryBody::SetOp::kExcept;
    } else if (IsKw("intersect")) {
      prec = 2;
      op = QueryBody::SetOp::kIntersect;
    } else {
      return left;
    }
    if (prec < min_prec) return left;
    SourcePos p = Peek().pos;
    ++i_;
    bool all = false;
    if (AcceptKw("all")) {
      all = true;
    } else {
      AcceptKw("distinct");
    }
    SL_RETURN_IF_ERROR(Enter());
    SL_ASSIGN_OR_RETURN(QueryBodyPtr right, SetOpBody(prec + 1));
    --depth_;
    auto b = std::make_unique<QueryBody>(QueryBody::Kind::kSetOp, p);
    b->op = op;
    b->all = all;
    b->left = std::move(left);
    b->right = std::move(right);
    left = std::move(b);
  }
}

Result<std::unique_ptr<Query>> Parser::ParseQuery() {
  SL_RETURN_IF_ERROR(Enter());
  auto q = std::make_unique<Query>();
  q->pos = Peek().pos;
  if (AcceptKw("with")) {
    AcceptKw("recursive");
    do {
      Cte cte;
      cte.pos = Peek().pos;
      SL_ASSIGN_OR_RETURN(cte.name, Identifier("a CTE name"));
      if (IsOp("(")) {
        SL_ASSIGN_OR_RETURN(cte.column_aliases, IdentList());
      }
      SL_RETURN_IF_ERROR(ExpectKw("as"));
      SL_RETURN_IF_ERROR(ExpectOp("("));
      SL_ASSIGN_OR_RETURN(cte.query, ParseQuery());
      SL_RETURN_IF_ERROR(ExpectOp(")"));
      q->with.push_back(std::move(cte));
    } while (AcceptOp(","));
  }
  SL_ASSIGN_OR_RETURN(q->body, SetOpBody(0));
  if (AcceptKw("order")) {
    SL_RETURN_IF_ERROR(ExpectKw("by"));
    SL_ASSIGN_OR_RETURN(q->order_by, OrderList());
  }
  // Trino accepts OFFSET before LIMIT; FETCH FIRST n ROWS ONLY is LIMIT n.
  for (int k = 0; k < 2; ++k) {
    if (!q->offset && AcceptKw("offset")) {
      SL_ASSIGN_OR_RETURN(q->offset, Additive());
      if (IsKw("row") || IsKw("rows")) ++i_;
    }
    if (!q->limit && AcceptKw("limit")) {
      if (AcceptKw("all")) continue;
      SL_ASSIGN_OR_RETURN(q->limit, Additive());
    }
    if (!q->limit && AcceptKw("fetch")) {
      if (!AcceptKw("first")) SL_RETURN_IF_ERROR(ExpectKw("next"));
      SL_ASSIGN_OR_RETURN(q->limit, Additive());
      if (!AcceptKw("rows")) SL_RETURN_IF_ERROR(ExpectKw("row"));
      SL_RETURN_IF_ERROR(ExpectKw("only"));
    }
  }
  --depth_;
  return q;
}

Result<std::unique_ptr<Statement>> Parser::Statement_() {
  auto st = std::make_unique<Statement>();
  st->pos = Peek().pos;
  if (AcceptKw("explain")) {
    if (AcceptKw("refresh")) {  // EXPLAIN REFRESH [MATERIALIZED VIEW] name
      st->kind = Statement::Kind::kExplainRefresh;
      if (AcceptKw("materialized")) SL_RETURN_IF_ERROR(ExpectKw("view"));
      SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
      return st;
    }
    st->kind = Statement::Kind::kExplain;
    st->analyze = AcceptKw("analyze");
    SL_ASSIGN_OR_RETURN(st->query, ParseQuery());
    return st;
  }
  if (AcceptKw("create")) {
    if (AcceptKw("or")) {
      SL_RETURN_IF_ERROR(ExpectKw("replace"));
      st->or_replace = true;
    }
    if (AcceptKw("view")) {
      st->kind = Statement::Kind::kCreateView;
      SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
      SL_RETURN_IF_ERROR(ExpectKw("as"));
      SL_ASSIGN_OR_RETURN(st->query, ParseQuery());
      return st;
    }
    if (st->or_replace) return Unexpected("VIEW after CREATE OR REPLACE");
    // CREATE MATERIALIZED VIEW takes the same IF NOT EXISTS, WITH (...) and AS as CREATE TABLE.
    bool matview = AcceptKw("materialized");
    SL_RETURN_IF_ERROR(ExpectKw(matview ? "view" : "table"));
    st->kind = matview ? Statement::Kind::kCreateMatView : Statement::Kind::kCreateTableAs;
    if (AcceptKw("if")) {
      SL_RETURN_IF_ERROR(ExpectKw("not"));
      SL_RETURN_IF_ERROR(ExpectKw("exists"));
      st->if_not_exists = true;
    }
    SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
    if (AcceptKw("with")) {
      SL_RETURN_IF_ERROR(ExpectOp("("));
      do {
        SL_ASSIGN_OR_RETURN(std::string key, Identifier("a table property name"));
        SL_RETURN_IF_ERROR(ExpectOp("="));
        AstExprPtr value;
        if (IsKw("array")) {
          SourcePos p = Peek().pos;
          ++i_;
          SL_RETURN_IF_ERROR(ExpectOp("["));
          value = std::make_unique<AstExpr>(AstKind::kFunction, p);
          value->text = "array";
          if (!IsOp("]")) {
            do {
              SL_ASSIGN_OR_RETURN(AstExprPtr e, Expr());
              value->args.push_back(std::move(e));
            } while (AcceptOp(","));
          }
          SL_RETURN_IF_ERROR(ExpectOp("]"));
        } else {
          SL_ASSIGN_OR_RETURN(value, Expr());
        }
        st->properties.emplace_back(std::move(key), std::move(value));
      } while (AcceptOp(","));
      SL_RETURN_IF_ERROR(ExpectOp(")"));
    }
    SL_RETURN_IF_ERROR(ExpectKw("as"));
    SL_ASSIGN_OR_RETURN(st->query, ParseQuery());
    return st;
  }
  if (AcceptKw("insert")) {
    SL_RETURN_IF_ERROR(ExpectKw("into"));
    st->kind = Statement::Kind::kInsert;
    SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
    if (IsOp("(") && !(IsKw("select", 1) || IsKw("with", 1) || IsKw("values", 1))) {
      SL_ASSIGN_OR_RETURN(st->insert_columns, IdentList());
    }
    SL_ASSIGN_OR_RETURN(st->query, ParseQuery());
    return st;
  }
  if (AcceptKw("refresh")) {
    SL_RETURN_IF_ERROR(ExpectKw("materialized"));
    SL_RETURN_IF_ERROR(ExpectKw("view"));
    st->kind = Statement::Kind::kRefreshMatView;
    SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
    st->full = AcceptKw("full");
    return st;
  }
  if (AcceptKw("drop")) {
    if (AcceptKw("materialized")) {
      SL_RETURN_IF_ERROR(ExpectKw("view"));
      st->kind = Statement::Kind::kDropMatView;
    } else if (AcceptKw("view")) {
      st->kind = Statement::Kind::kDropView;
    } else {
      SL_RETURN_IF_ERROR(ExpectKw("table"));
      st->kind = Statement::Kind::kDropTable;
    }
    if (AcceptKw("if")) {
      SL_RETURN_IF_ERROR(ExpectKw("exists"));
      st->if_exists = true;
    }
    SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
    return st;
  }
  if (AcceptKw("show")) {
    if (AcceptKw("materialized")) {
      SL_RETURN_IF_ERROR(ExpectKw("views"));
      st->kind = Statement::Kind::kShowMatViews;
      return st;
    }
    // SHOW CATALOGS / SCHEMAS [FROM catalog] / TABLES [FROM [catalog.]schema], each [LIKE 'p']:
    // what Trino's CLI and BI tools send to browse.
    auto like = [&]() -> Status {
      if (!AcceptKw("like")) return Status::OK();
      if (Peek().type != TokenType::kString) return Unexpected("a quoted pattern");
      st->like_pattern = Peek().text;
      ++i_;
      return Status::OK();
    };
    auto from = [&]() -> Status {
      if (!AcceptKw("from") && !AcceptKw("in")) return Status::OK();
      SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
      return Status::OK();
    };
    if (AcceptKw("catalogs")) {
      st->kind = Statement::Kind::kShowCatalogs;
      SL_RETURN_IF_ERROR(like());
      return st;
    }
    if (AcceptKw("schemas")) {
      st->kind = Statement::Kind::kShowSchemas;
      SL_RETURN_IF_ERROR(from());
      if (st->name.size() > 1) return Unexpected("a catalog name");
      SL_RETURN_IF_ERROR(like());
      return st;
    }
    if (AcceptKw("tables")) {
      st->kind = Statement::Kind::kShowTables;
      SL_RETURN_IF_ERROR(from());
      if (st->name.size() > 2) return Unexpected("a schema name ([catalog.]schema)");
      SL_RETURN_IF_ERROR(like());
      return st;
    }
    SL_RETURN_IF_ERROR(ExpectKw("columns"));
    if (!AcceptKw("from")) SL_RETURN_IF_ERROR(ExpectKw("in"));
    st->kind = Statement::Kind::kShowColumns;
    SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
    return st;
  }
  if (AcceptKw("describe") || AcceptKw("desc")) {
    st->kind = Statement::Kind::kShowColumns;
    SL_ASSIGN_OR_RETURN(st->name, QualifiedName());
    return st;
  }
  if (!(IsKw("select") || IsKw("with") || IsKw("values") || IsKw("table") || IsOp("(")))
    return Unexpected("a statement (SELECT, WITH, VALUES, EXPLAIN, CREATE, INSERT, DROP, SHOW, "
                      "DESCRIBE, REFRESH)");
  st->kind = Statement::Kind::kQuery;
  SL_ASSIGN_OR_RETURN(st->query, ParseQuery());
  return st;
}

}  // namespace

Result<std::unique_ptr<Statement>> ParseStatement(std::string_view sql) {
  SL_ASSIGN_OR_RETURN(std::vector<Token> tokens, internal::Tokenize(sql));
  Parser p(std::move(tokens));
  if (p.AtEnd()) return Status::InvalidArgument("line 1:1: empty statement");
  SL_ASSIGN_OR_RETURN(std::unique_ptr<Statement> st, p.Statement_());
  while (p.AcceptOp(";")) {
  }
  if (!p.AtEnd()) return p.Unexpected("end of statement");
  return st;
}

Result<std::vector<std::unique_ptr<Statement>>> ParseScript(std::string_view sql) {
  SL_ASSIGN_OR_RETURN(std::vector<Token> tokens, internal::Tokenize(sql));
  Parser p(std::move(tokens));
  std::vector<std::unique_ptr<Statement>> out;
  while (true) {
    while (p.AcceptOp(";")) {
    }
    if (p.AtEnd()) break;
    SL_ASSIGN_OR_RETURN(std::unique_ptr<Statement> st, p.Statement_());
    out.push_back(std::move(st));
    if (!p.AtEnd() && !p.AcceptOp(";")) return p.Unexpected("';' or end of script");
  }
  return out;
}

Result<AstExprPtr> ParseExpression(std::string_view sql) {
  SL_ASSIGN_OR_RETURN(std::vector<Token> tokens, internal::Tokenize(sql));
  Parser p(std::move(tokens));
  SL_ASSIGN_OR_RETURN(AstExprPtr e, p.Expr());
  if (!p.AtEnd()) return p.Unexpected("end of expression");
  return e;
}

}  // namespace saleslake::sql
