// flow_session (wfa/host/session.hpp): row_engine on a thread of its own, rows started on
// demand. The bookkeeping (the engine, the done callbacks) lives on that thread; run() and
// cancel() only post to it. `pending` counts the rows whose done has not returned yet:
// close() waits for it to reach 0 before it destroys the instances.
#include "row_engine.hpp"

#include <wfa/host/session.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace asio = boost::asio;
namespace json = boost::json;

namespace wfa::host {

std::optional<json::object> read_row(const checked_flow& f, std::string_view text, const json::object& base,
                                     std::string& error) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    error = "expected one JSON object per line";
    return std::nullopt;
  }
  json::object row = base;
  for (auto& kv : v.get_object()) row[kv.key()] = kv.value();
  std::string problems;
  for (const auto& e : f.check_row(row)) problems += (problems.empty() ? "" : "; ") + e;
  if (!problems.empty()) {
    error = f.secrets.redact(problems);
    return std::nullopt;
  }
  return row;
}

struct flow_session::impl {
  impl(std::shared_ptr<const checked_flow> f, session_options o)
      : flow(std::move(f)), opts(std::move(o)), diag(std::cerr, flow->secrets, opts.on_log), work(ioc.get_executor()) {
    instances = detail::make_instances(*flow, opts.log_level, diag, opts.acquire);
    engine.emplace(*flow, ioc, instances,
                   detail::row_engine::settings{opts.step_outputs, opts.max_retry_wait, "the flow was closed"}, diag,
                   detail::row_engine::hooks{{},  // no slots to give back: a waiting row just waits
                                             [this](uint64_t key) { engine->resume(key); },
                                             [this](uint64_t key, detail::row_ending end) { ended(key, end); }});
    thread = std::thread([this] {
      // A handler that throws (out of memory) must not end the thread: the others still run.
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (...) {}
      }
    });
  }

  // On the session's thread.
  void start(row_id id, std::size_t row, const std::string& text, done_fn done) {
    dones.emplace(id, std::move(done));
    std::string error;
    auto inputs = read_row(*flow, text, {}, error);
    if (!inputs) {
      detail::row_ending end;
      end.number = row;
      end.status = "failed";
      end.line = engine->invalid_line(row, error);
      end.code = WFA_INVALID_INPUT;
      return ended(id, end);
    }
    engine->start(id, row, std::move(*inputs));
  }

  // On the session's thread: exactly once per row (the engine's hook, or start()).
  void ended(row_id id, const detail::row_ending& end) {
    auto it = dones.find(id);
    if (it != dones.end()) {
      done_fn done = std::move(it->second);
      dones.erase(it);
      row_report r;
      r.status = end.status == "ok"       ? row_report::status_kind::ok
                 : end.status == "failed" ? row_report::status_kind::failed
                                          : row_report::status_kind::cancelled;
      r.line = end.line;
      r.code = end.code;
      r.retryable = end.retryable;
      r.retry_after_s = end.retry_after_s;
      try {
        done(r);
      } catch (...) {  // the caller's exception ends nothing of ours
      }
    }
    std::lock_guard lock(mu);
    if (--pending == 0) idle.notify_all();
  }

  std::shared_ptr<const checked_flow> flow;
  session_options opts;
  detail::diagnostics diag;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  // After ioc and diag: instances post their completions into ioc and log through diag.
  detail::instance_map instances;
  std::optional<detail::row_engine> engine;
  std::unordered_map<row_id, done_fn> dones;  // the session's thread only
  std::atomic<row_id> next{1};
  std::atomic<bool> closing{false};
  std::mutex mu;
  std::condition_variable idle;
  std::size_t pending = 0;  // rows started whose done has not returned
  bool closed = false;
  std::thread thread;
};

flow_session::flow_session(std::shared_ptr<const checked_flow> flow, session_options opts)
    : impl_(std::make_unique<impl>(std::move(flow), std::move(opts))) {}

flow_session::~flow_session() { close(); }

flow_session::row_id flow_session::run(std::string_view inputs_json, std::size_t row, done_fn done) {
  if (impl_->closing.load()) return 0;
  const row_id id = impl_->next.fetch_add(1);
  {
    std::lock_guard lock(impl_->mu);
    ++impl_->pending;
  }
  try {
    asio::post(impl_->ioc, [im = impl_.get(), id, row, text = std::string(inputs_json),
                            done = std::move(done)]() mutable { im->start(id, row, text, std::move(done)); });
  } catch (...) {  // nothing was posted: done never runs
    std::lock_guard lock(impl_->mu);
    if (--impl_->pending == 0) impl_->idle.notify_all();
    throw;
  }
  return id;
}

std::string flow_session::check(std::string_view inputs_json) const {
  std::string error;
  read_row(*impl_->flow, inputs_json, {}, error);
  return error;
}

void flow_session::cancel(row_id id) {
  asio::post(impl_->ioc, [im = impl_.get(), id] { im->engine->cancel(id); });
}

void flow_session::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closing = true;
  // Rows whose start is queued behind this find the engine stopped: they end cancelled.
  asio::post(impl_->ioc, [im = impl_.get()] { im->engine->stop(); });
  {
    std::unique_lock lock(impl_->mu);
    impl_->idle.wait(lock, [&] { return impl_->pending == 0; });
  }
  impl_->instances.clear();  // WFA-9: nothing is in flight any more
  impl_->work.reset();
  impl_->thread.join();
  impl_->engine.reset();
  impl_->closed = true;
}

const checked_flow& flow_session::flow() const noexcept { return *impl_->flow; }

}  // namespace wfa::host
