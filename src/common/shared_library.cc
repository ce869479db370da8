#include "common/shared_library.h"

#include <dlfcn.h>

#include <utility>

namespace saleslake {

SharedLibrary::SharedLibrary(void* handle, std::string soname, std::string needed_for)
    : handle_(handle), soname_(std::move(soname)), needed_for_(std::move(needed_for)) {}

Result<SharedLibrary> SharedLibrary::Open(const char* soname, std::string_view needed_for,
                                          std::string_view package) {
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Status::NotFound(std::string(soname) + " is needed for " + std::string(needed_for) +
                            " but cannot be loaded (install the " + std::string(package) +
                            " package): " + (why != nullptr ? why : "unknown reason"));
  }
  return SharedLibrary(handle, soname, std::string(needed_for));
}

Status SharedLibrary::Symbol(const char* name, void*& out) const {
  dlerror();  // clear a stale error: a symbol's value may legitimately be null
  out = dlsym(handle_, name);
  if (out == nullptr) {
    const char* why = dlerror();
    return Status::NotFound(soname_ + " has no " + name + " (needed for " + needed_for_ +
                            "; the installed library is older than saleslake expects)" +
                            (why != nullptr ? std::string(": ") + why : std::string()));
  }
  return Status::OK();
}

}  // namespace saleslake
