// Status and Result<T>: how every expected failure travels in saleslake.
//
// Expected failures (bad input, I/O, bad config, permission, a lost commit race) are returned,
// never thrown; bugs are caught by SL_CHECK. A Status costs one null pointer when OK.
// Thread safety: values; safe to copy and move between threads.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace saleslake {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,   // bad input: malformed CSV/SQL/config/request, bad flag
  kNotFound,          // missing object, table, column
  kAlreadyExists,     // create-exclusive lost: the object is there
  kIOError,           // the OS or store failed
  kCorruption,        // a file is not what its format says (broken Parquet, bad checksum)
  kNotImplemented,    // valid input we refuse on purpose (e.g. an unsupported nested column)
  kResourceExhausted, // a memory or size limit was hit
  kPermissionDenied,  // auth said no
  kAborted,           // a concurrent writer won; the caller may retry on the new state
  kCancelled,         // the user or a time limit stopped the work
  kInternal,          // an invariant broke inside a library we call
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status NotImplemented(std::string msg) { return {StatusCode::kNotImplemented, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  // errno-based I/O error: "<context>: <strerror(err)>".
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  // "InvalidArgument: message", or "OK".
  std::string ToString() const;

  // Prepends where the failure happened: "row group 3: <message>". No-op when OK.
  Status WithContext(std::string_view context) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

// A value or the Status that explains why there is none. REQUIRES: a Result built from a Status
// holds a non-OK one (SL_CHECKed).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, as in Arrow
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) {
      std::fprintf(stderr, "saleslake: bug: Result built from an OK status\n");
      std::abort();
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T ValueOr(T fallback) const& { return ok() ? value() : std::move(fallback); }
  // Moves the status out (for SL_ASSIGN_OR_RETURN).
  Status MoveStatus() && { return std::get<Status>(std::move(v_)); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace saleslake

#define SL_CONCAT_INNER(a, b) a##b
#define SL_CONCAT(a, b) SL_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define SL_RETURN_IF_ERROR(expr)                        \
  do {                                                  \
    ::saleslake::Status _sl_status = (expr);            \
    if (!_sl_status.ok()) return _sl_status;            \
  } while (0)

#define SL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                             \
  if (!tmp.ok()) return std::move(tmp).MoveStatus(); \
  lhs = std::move(tmp).value()

// `SL_ASSIGN_OR_RETURN(auto x, F())`: declares x from F()'s value or returns its Status.
#define SL_ASSIGN_OR_RETURN(lhs, rexpr) \
  SL_ASSIGN_OR_RETURN_IMPL(SL_CONCAT(_sl_result_, __LINE__), lhs, rexpr)

// Checks are for bugs only: input must never be able to fail one.
#define SL_CHECK(cond)                                                                       \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "saleslake: bug: check failed at %s:%d: %s\n", __FILE__, __LINE__, \
                   #cond);                                                                   \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

#ifdef NDEBUG
#define SL_DCHECK(cond) \
  do {                  \
  } while (0)
#else
#define SL_DCHECK(cond) SL_CHECK(cond)
#endif
