// libwfa_runner.so: wfa/runner.h over wfa::host::flow_session. The only extern "C" of the
// library; every function catches everything (WFA-3) and maps it to a code here, once.
#include <wfa/host/session.hpp>
#include <wfa/plugin.hpp>  // wfa::plugin::write_error: a wfa_error written within its struct_size
#include <wfa/runner.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>

using wfa::host::flow_session;
using wfa::host::row_report;
using wfa::plugin::write_error;

struct wfa_runner_flow {
  std::unique_ptr<flow_session> session;
};

namespace {

std::string_view view(wfa_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }
wfa_str str(std::string_view s) { return wfa_str{s.data(), s.size()}; }

// The fields of a caller's options that its struct_size holds (WFA-2); a zeroed struct
// and NULL are the defaults.
wfa::host::session_options read_options(const wfa_runner_options* o) {
  wfa::host::session_options out;
  if (!o) return out;
  void* ctx = WFA_HAS_FIELD(o, wfa_runner_options, ctx) ? o->ctx : nullptr;
  if (WFA_HAS_FIELD(o, wfa_runner_options, log) && o->log) {
    auto log = o->log;
    out.on_log = [log, ctx](int32_t level, std::string_view line) { log(ctx, level, str(line)); };
  }
  if (WFA_HAS_FIELD(o, wfa_runner_options, log_threshold) && o->log_threshold > 0) out.log_level = o->log_threshold - 1;
  if (WFA_HAS_FIELD(o, wfa_runner_options, max_retry_wait_s) && o->max_retry_wait_s != 0)
    out.max_retry_wait = std::chrono::seconds(o->max_retry_wait_s == UINT32_MAX ? 0 : o->max_retry_wait_s);
  if (WFA_HAS_FIELD(o, wfa_runner_options, no_step_outputs)) out.step_outputs = o->no_step_outputs == 0;
  if (WFA_HAS_FIELD(o, wfa_runner_options, acquire) && o->acquire) {
    auto acquire = o->acquire;
    out.acquire = [acquire, ctx](std::string_view bucket, uint32_t cost) { return acquire(ctx, str(bucket), cost); };
  }
  return out;
}

std::unique_ptr<wfa_runner_flow> open_flow(std::string_view path, const wfa_runner_options* options, wfa_error* err) {
  wfa::host::flow f;
  try {
    f = wfa::host::load_flow(std::string(path));
  } catch (const wfa::host::flow_error& e) {
    write_error(err, WFA_INVALID_INPUT, e.what());
    return nullptr;
  }
  wfa::host::validation_result v = wfa::host::validate(f);
  if (!v.checked) {
    std::string all;  // one per line, already redacted
    for (const auto& e : v.errors) all.append(all.empty() ? "" : "\n").append(e);
    write_error(err, WFA_INVALID_INPUT, all);
    return nullptr;
  }
  auto flow = std::make_shared<const wfa::host::checked_flow>(std::move(*v.checked));
  try {
    auto out = std::make_unique<wfa_runner_flow>();
    out->session = std::make_unique<flow_session>(std::move(flow), read_options(options));
    return out;
  } catch (const wfa::host::create_error& e) {
    write_error(err, e.code(), e.what());
    return nullptr;
  }
}

}  // namespace

extern "C" {

WFA_EXPORT wfa_runner_flow* wfa_runner_open(uint32_t caller_major, uint32_t caller_minor, wfa_str flow_path,
                                            const wfa_runner_options* options, wfa_error* err) {
  try {
    if (caller_major != WFA_RUNNER_MAJOR) {
      char why[160];
      std::snprintf(why, sizeof why, "incompatible runner API: the caller speaks %u.%u, libwfa_runner speaks %d.%d",
                    caller_major, caller_minor, WFA_RUNNER_MAJOR, WFA_RUNNER_MINOR);
      write_error(err, WFA_INCOMPATIBLE, why);
      return nullptr;
    }
    if (!flow_path.data || flow_path.size == 0) {
      write_error(err, WFA_INVALID_INPUT, "no flow file given");
      return nullptr;
    }
    return open_flow(view(flow_path), options, err).release();
  } catch (const std::bad_alloc&) {
    write_error(err, WFA_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    write_error(err, WFA_INTERNAL, e.what());
  } catch (...) {
    write_error(err, WFA_INTERNAL, "unknown error");
  }
  return nullptr;
}

WFA_EXPORT int32_t wfa_runner_check(wfa_runner_flow* flow, wfa_str inputs_json, wfa_error* err) {
  if (!flow) {
    write_error(err, WFA_INVALID_INPUT, "no flow");
    return WFA_INVALID_INPUT;
  }
  try {
    std::string why = flow->session->check(view(inputs_json));
    if (why.empty()) return WFA_OK;
    write_error(err, WFA_INVALID_INPUT, why);
    return WFA_INVALID_INPUT;
  } catch (...) {
    write_error(err, WFA_INTERNAL, "out of memory");
    return WFA_INTERNAL;
  }
}

WFA_EXPORT wfa_runner_row wfa_runner_run(wfa_runner_flow* flow, wfa_str inputs_json, uint64_t row,
                                         wfa_runner_done_fn done, void* user) {
  if (!flow || !done) return 0;
  try {
    return flow->session->run(view(inputs_json), row, [done, user](const row_report& r) {
      wfa_row_result res{};
      res.struct_size = sizeof res;
      res.status = r.status == row_report::status_kind::ok       ? WFA_ROW_OK
                   : r.status == row_report::status_kind::failed ? WFA_ROW_FAILED
                                                                 : WFA_ROW_CANCELLED;
      res.line = str(r.line);
      res.code = r.code;
      res.retryable = r.retryable ? 1 : 0;
      res.retry_after_s = r.retry_after_s;
      done(user, &res);
    });
  } catch (...) {  // out of memory before the row was taken in: not started (WFA-5)
    return 0;
  }
}

WFA_EXPORT void wfa_runner_cancel(wfa_runner_flow* flow, wfa_runner_row row) {
  if (!flow || row == 0) return;
  try {
    flow->session->cancel(row);
  } catch (...) {  // out of memory: the row runs on; its done still fires
  }
}

WFA_EXPORT void wfa_runner_close(wfa_runner_flow* flow) {
  if (!flow) return;
  std::unique_ptr<wfa_runner_flow> owned(flow);
  try {
    owned->session->close();
  } catch (...) {}
}

}  // extern "C"
