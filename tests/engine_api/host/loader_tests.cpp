// The loader's errors: a missing file, a library that is not a plugin, a plugin that
// refuses our ABI (its reason shown), a descriptor of another major version.
#include <wfa/host.hpp>

#include <doctest/doctest.h>

#include <string>

using wfa::host::library;
using wfa::host::load_error;

namespace {

load_error::kind kind_of(const std::string& path, std::string* what = nullptr) {
  try {
    library::open(path);
  } catch (const load_error& e) {
    if (what) *what = e.what();
    return e.which();
  }
  FAIL("expected a load_error for " << path);
  return load_error::kind::invalid;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The version this host speaks, as its messages write it ("1.1").
std::string host_abi() { return std::to_string(WFA_ABI_MAJOR) + "." + std::to_string(WFA_ABI_MINOR); }

}  // namespace

TEST_CASE("a missing file") {
  std::string what;
  CHECK(kind_of("/nonexistent/libnothing.so", &what) == load_error::kind::not_found);
  CHECK(what == "/nonexistent/libnothing.so: plugin not found (no such file)");
  // A bare name goes to the dlopen search and is not found there either.
  CHECK(kind_of("libwfa_no_such_plugin_anywhere.so", &what) == load_error::kind::not_found);
  CHECK(contains(what, "libwfa_no_such_plugin_anywhere.so"));
}

TEST_CASE("a file that is not a shared library") {
  std::string what;
  CHECK(kind_of(WFA_TEST_NOT_ELF, &what) == load_error::kind::load_failed);
  CHECK(contains(what, "cannot load"));
}

TEST_CASE("a shared library without wfa_plugin_entry") {
  std::string what;
  CHECK(kind_of(WFA_FIXTURE_NO_ENTRY, &what) == load_error::kind::not_a_plugin);
  CHECK(contains(what, "not a wfa plugin"));
}

TEST_CASE("a plugin that refuses our ABI version: its reason is in the error") {
  std::string what;
  CHECK(kind_of(WFA_FIXTURE_REFUSES, &what) == load_error::kind::incompatible);
  CHECK(contains(what, "refused ABI " + host_abi()));
  CHECK(contains(what, "fixture needs ABI 9.0, host speaks " + host_abi()));
}

TEST_CASE("a descriptor of another major version is refused by the host") {
  std::string what;
  CHECK(kind_of(WFA_FIXTURE_WRONG_MAJOR, &what) == load_error::kind::incompatible);
  CHECK(contains(what, "plugin speaks 2.0, host speaks " + host_abi()));
}

TEST_CASE("a descriptor of another major that is shorter than 1.0's: incompatible, not invalid") {
  // Its struct_size covers only struct_size and the version: the version is read first.
  std::string what;
  CHECK(kind_of(WFA_FIXTURE_SMALL_OTHER_MAJOR, &what) == load_error::kind::incompatible);
  CHECK(contains(what, "plugin speaks 7.3, host speaks " + host_abi()));
  CHECK_FALSE(contains(what, "struct_size"));
}
