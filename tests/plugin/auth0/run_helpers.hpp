// Running client calls from a test thread. Failures are captured as api_error on the io
// thread and rethrown on the test thread, so no exception object is shared across
// threads (workaround(tsan): libstdc++ releases exception_ptr in uninstrumented code, which ThreadSanitizer
// would report as a race).
#pragma once

#include "auth0/management_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <optional>
#include <utility>

namespace a0::test {

template <class T>
struct outcome {
  std::optional<T> value;
  std::optional<auth0::api_error> error;
  T get() && {
    if (error) throw auth0::api_exception(std::move(*error));
    return std::move(*value);
  }
};

template <class T>
boost::asio::awaitable<outcome<T>> capture(boost::asio::awaitable<T> call) {
  outcome<T> o;
  try {
    o.value.emplace(co_await std::move(call));
  } catch (const auth0::api_exception& e) {
    o.error = e.error();
  }
  co_return o;
}

/// A future whose get() returns the call's value or throws a test-thread-local copy of
/// its auth0::api_exception.
template <class T>
struct call_future {
  std::future<outcome<T>> f;
  T get() { return f.get().get(); }
};

template <class Executor, class T>
call_future<T> start(const Executor& ex, boost::asio::awaitable<T> call) {
  return {boost::asio::co_spawn(ex, capture(std::move(call)), boost::asio::use_future)};
}

template <class Executor, class T, class Token>
call_future<T> start(const Executor& ex, boost::asio::awaitable<T> call, Token token) {
  return {boost::asio::co_spawn(ex, capture(std::move(call)), std::move(token))};
}

}  // namespace a0::test
