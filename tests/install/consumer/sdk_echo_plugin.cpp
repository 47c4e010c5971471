// An out-of-tree plugin on the installed SDK (wfa/plugin.hpp, C++20, nothing else): one
// action, test.echo, whose outputs are its inputs, completed on the instance's worker
// thread. tests/install builds it against the installed package and runs the C host
// example (tests/engine_api/c99/host_example.c) on it: create, execute, done, destroy.
#include <wfa/plugin.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr wfa_action k_actions[] = {
    {sizeof(wfa_action), "test.echo", "Echo", "Completes with its inputs as outputs.",
     R"({"id":"test.echo","title":"Echo","description":"Completes with its inputs as outputs.",)"
     R"("connection":{},"options":{},"inputs":{},"outputs":{}})"},
};

class echo_instance {
 public:
  static wfa::plugin::info describe() noexcept {
    wfa::plugin::info i;
    i.name = "sdk-echo";
    i.version = "0.1.0";
    i.actions = k_actions;
    i.action_count = 1;
    return i;
  }

  echo_instance(wfa::plugin::host_log, std::string_view) : worker_([this] { work(); }) {}
  ~echo_instance() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();
  }

  void execute(const wfa::plugin::op_ptr<>& op, const wfa::plugin::call& call) {
    post([op, inputs = std::string(call.inputs_json)] { op->complete(wfa::plugin::result::ok(inputs)); });
  }
  void list_options(const wfa::plugin::op_ptr<>& op, const wfa::plugin::options_call&) {
    post([op] { op->complete(wfa::plugin::result::failure(WFA_INVALID_INPUT, "no dynamic options")); });
  }
  void cancel(const wfa::plugin::op_ptr<>& op, wfa::plugin::stop) {
    post([op] { op->complete(wfa::plugin::result::failure(WFA_CANCELLED, "cancelled")); });
  }

 private:
  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }
  void work() {
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread worker_;  // last: it starts once the rest is ready
};

}  // namespace

WFA_PLUGIN(echo_instance)
