// Out of memory inside execute() / list_options(): each allocation the call makes on the
// calling thread is failed in turn (a replaced operator new throws bad_alloc; a replaced
// aligned_alloc, which Asio uses for its handlers, returns NULL). Whatever
// allocation fails, the call either returns 0 and never calls back (WFA-5), or returns a
// handle and calls back exactly once; and destroy() still returns (WFA-9): an op that
// was registered but never started must not be left for destroy to wait on.
//
// Its own executable: the replaced functions are process-wide (the plugin's calls reach
// them too, RTLD_LOCAL does not hide the executable's symbols), armed per thread.
#include "raw_plugin.hpp"

#include <doctest/doctest.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <new>

namespace {

// Allocations on this thread before one fails; -1: none fails.
thread_local long allocations_left = -1;
thread_local bool failed_one = false;

// True when this allocation is the one to fail.
bool fail_now() {
  if (allocations_left == 0) {
    allocations_left = -1;  // one failure per arming: what the call does next succeeds
    failed_one = true;
    return true;
  }
  if (allocations_left > 0) --allocations_left;
  return false;
}

void* allocate(std::size_t n) {
  if (fail_now()) throw std::bad_alloc();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}

}  // namespace

extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  using fn = void* (*)(std::size_t, std::size_t);
  static fn real = [] {
    fn f = nullptr;
    void* sym = dlsym(RTLD_NEXT, "aligned_alloc");
    static_assert(sizeof f == sizeof sym);
    std::memcpy(&f, &sym, sizeof f);
    return f;
  }();
  if (fail_now()) return nullptr;
  return real(alignment, size);
}

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace abi_test;

// The plugin under test and what it is asked: the test plugin by default; the Auth0
// plugin's build of this file names its own action, config and inputs.
#ifndef A0_OOM_CONFIG
#define A0_OOM_CONFIG "{}"
#define A0_OOM_ACTION "test.echo"
#define A0_OOM_INPUTS R"({"value":"a value long enough to be allocated, not kept inline"})"
#define A0_OOM_OPTIONS_ACTION "test.echo"
#define A0_OOM_OPTIONS_FIELD "/inputs/tag"
#define A0_OOM_NAME_PREFIX ""
#endif

namespace {

// destroy() on a helper thread: a destroy that waits forever for an op nobody will
// finish fails the test instead of hanging it.
void destroy_or_die(wfa_instance* inst) {
  auto done = std::async(std::launch::async, [inst] { plugin().destroy(inst); });
  if (done.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    std::fprintf(stderr, "destroy() did not return: an op was left registered after a failed start\n");
    std::fflush(stderr);
    std::_Exit(1);
  }
}

enum class kind { execute, list_options };

// Fails allocation k, k = 0, 1, 2, ... until the call gets through without a failure.
void sweep(kind which) {
  wfa_call call{};
  call.struct_size = sizeof call;
  call.action_id = str(A0_OOM_ACTION);
  call.options_json = str("{}");
  call.inputs_json = str(A0_OOM_INPUTS);
  call.run_id = str("run");
  call.step_id = str("step");
  wfa_options_call oc{};
  oc.struct_size = sizeof oc;
  oc.action_id = str(A0_OOM_OPTIONS_ACTION);
  oc.field = str(A0_OOM_OPTIONS_FIELD);
  int refused = 0;
  // A0_OOM_STRIDE=N fails every Nth allocation only (the tsan preset sets it: each step
  // starts and stops an instance, slow under TSan, and races need no full sweep; release
  // and asan fail every allocation).
  const char* stride_env = std::getenv("A0_OOM_STRIDE");
  const long stride = stride_env ? std::max(1L, std::atol(stride_env)) : 1;
  for (long k = 0; k < 10000; k += stride) {
    CAPTURE(k);
    wfa_instance* inst = create(A0_OOM_CONFIG);
    collector c;
    void* user = c.user(1);
    failed_one = false;
    allocations_left = k;
    wfa_op op = which == kind::execute ? plugin().execute(inst, &call, &collector::done, user)
                                       : plugin().list_options(inst, &oc, &collector::done, user);
    allocations_left = -1;
    const bool failed = failed_one;
    if (op == 0) {
      CHECK(failed);  // 0 only when something really could not be had
      ++refused;
    } else {
      REQUIRE(c.wait(1));
    }
    destroy_or_die(inst);
    CHECK(c.size() == (op == 0 ? 0u : 1u));
    if (op != 0) CHECK(c.get(1).calls == 1);
    if (!failed) {
      CHECK(op != 0);
      break;  // allocation k was past the call's last one: every one has been failed
    }
  }
  CHECK(refused > 0);  // the sweep did hit allocations of the call
}

}  // namespace

TEST_CASE(A0_OOM_NAME_PREFIX
          "execute: whichever allocation fails, 0 and no callback or one callback, and destroy returns") {
  sweep(kind::execute);
}

TEST_CASE(A0_OOM_NAME_PREFIX
          "list_options: whichever allocation fails, 0 and no callback or one callback, and destroy returns") {
  sweep(kind::list_options);
}
