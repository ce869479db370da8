// A shared library opened on first use (dlopen) instead of by the loader at start-up.
//
// Why: libcurl (S3, webhooks, mail), cairo (`forecast --plot`) and libedit (the REPL) bring
// about 50 more libraries with them (TLS, Kerberos, LDAP, fonts, X11, terminfo...). Linked
// normally, every `saleslake` process maps and relocates all of them before main, and a query
// process needs none: most of a new process's start-up was the dynamic loader (bench/README.md,
// issue 22, "process start"). Each library has one table of function pointers, in the one module
// that owns it (io/curl.h, cli/forecast_plot.cc, cli/repl.cc); this class is how they fill it.
// The types and constants still come from the -dev packages' headers.
//
// Thread safety: Open and Bind may be called from any thread (dlopen/dlsym are thread-safe); a
// table built from them should be built once (a function-local static) and is read-only after.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace saleslake {

class SharedLibrary {
 public:
  // dlopen(soname, RTLD_NOW | RTLD_LOCAL). The library is never closed: the tables that point
  // into it live as long as the process. kNotFound when it cannot be loaded, as one line naming
  // the library, what needs it (`needed_for`, e.g. "the S3 store"), the package that provides it
  // and the loader's reason.
  static Result<SharedLibrary> Open(const char* soname, std::string_view needed_for,
                                    std::string_view package);

  // Points `fn` at the library's function `name`. kNotFound when the library lacks it (a version
  // older than the headers we were built with).
  template <typename F>
  Status Bind(const char* name, F*& fn) const {
    void* p = nullptr;
    SL_RETURN_IF_ERROR(Symbol(name, p));
    fn = reinterpret_cast<F*>(p);
    return Status::OK();
  }

 private:
  SharedLibrary(void* handle, std::string soname, std::string needed_for);
  Status Symbol(const char* name, void*& out) const;

  void* handle_;
  std::string soname_;
  std::string needed_for_;
};

}  // namespace saleslake
