// The per-row machinery (row_engine.hpp): the one place where a row's steps run and its
// result line is made, for run_flow() and for flow_session alike.
#include "row_engine.hpp"

#include <wfa/host/secret_outputs.hpp>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <optional>
#include <ostream>

namespace asio = boost::asio;
namespace json = boost::json;

namespace wfa::host::detail {

namespace {

const char* level_name(int32_t level) {
  switch (level) {
    case WFA_LOG_TRACE: return "trace";
    case WFA_LOG_DEBUG: return "debug";
    case WFA_LOG_INFO: return "info";
    case WFA_LOG_WARN: return "warn";
    default: return "error";
  }
}

// WFA-11: the plugin's outputs and details are parsed with the depth limit it keeps to
// (Boost.JSON's default, 32, turned a successful deep write into a failed row).
json::parse_options wfa_json_options() {
  json::parse_options o;
  o.max_depth = WFA_JSON_MAX_DEPTH;
  return o;
}

json::object error_json(int32_t code, const std::string& message, int32_t http_status, bool retryable,
                        const std::string& details = {}) {
  json::object e;
  e["code"] = code_name(code);
  e["message"] = message;
  e["http_status"] = http_status;
  e["retryable"] = retryable;
  if (!details.empty()) {
    boost::system::error_code ec;
    json::value d = json::parse(details, ec, {}, wfa_json_options());
    if (!ec) e["details"] = std::move(d);
  }
  return e;
}

// details.retry_after_s of a retryable rate_limited error: whole seconds, or nullopt.
std::optional<std::int64_t> retry_after(const op_result& res) {
  if (res.code != WFA_RATE_LIMITED || !res.retryable || res.details_json.empty()) return std::nullopt;
  boost::system::error_code ec;
  json::value d = json::parse(res.details_json, ec);
  const json::value* n = (!ec && d.is_object()) ? d.get_object().if_contains("retry_after_s") : nullptr;
  if (!n || !n->is_number()) return std::nullopt;
  auto s = n->to_number<std::int64_t>(ec);
  if (ec || s < 0) return std::nullopt;
  return s;
}

}  // namespace

void diagnostics::line(const std::string& text, int32_t level) {
  std::string shown = secrets_.redact(text);
  std::lock_guard lock(mu_);
  if (sink_) return sink_(level, shown);
  err_ << shown << '\n';
  err_.flush();
}

instance_map make_instances(const checked_flow& f, int32_t log_level, diagnostics& diag, const rate_acquire& acquire) {
  instance_map out;
  for (std::size_t i = 0; i < f.definition.steps.size(); ++i) {
    const std::string& conn = f.definition.steps[i].connection;
    if (out.count(conn)) continue;
    const flow_connection* c = f.definition.find_connection(conn);
    const library& lib = f.libraries.at(c->plugin);
    auto cfg = f.configs.find(conn);
    std::string config = json::serialize(cfg == f.configs.end() ? json::object() : cfg->second);
    auto sink = [&diag, conn](int32_t level, std::string_view message) {
      // workaround(gcc12): appended piecewise, -Wrestrict misfires on "lit" + std::string chains.
      std::string text = "[";
      text.append(level_name(level)).append("] ").append(conn).append(": ").append(message);
      diag.line(text, level);
    };
    try {
      out.emplace(conn, std::make_unique<instance>(lib, config, sink, log_level, acquire));
    } catch (const create_error& e) {
      throw create_error(e.code(), f.secrets.redact("connection " + conn + ": " + e.what()));
    }
  }
  return out;
}

row_engine::row_engine(const checked_flow& f, asio::io_context& ioc, const instance_map& instances, settings s,
                       diagnostics& diag, hooks h)
    : f_(f), ioc_(ioc), instances_(instances), settings_(std::move(s)), diag_(diag), hooks_(std::move(h)) {
  // Per step: its outputs schema when it marks secrets (else nothing to mask).
  for (std::size_t i = 0; i < f_.definition.steps.size(); ++i) {
    const auto* outs = f_.manifest(i).if_contains("outputs");
    secret_schemas_.push_back(outs && has_secret_marks(*outs) ? outs : nullptr);
  }
}

row_engine::~row_engine() = default;

void row_engine::start(uint64_t key, std::size_t number, json::object inputs, std::string tag) {
  row_state& r = rows_[key];
  r.number = number;
  r.inputs = std::move(inputs);
  r.tag = std::move(tag);
  run_step(key);
}

void row_engine::resume(uint64_t key) {
  auto it = rows_.find(key);
  if (it == rows_.end()) return;
  run_step(key);
}

void row_engine::cancel(uint64_t key) {
  auto it = rows_.find(key);
  if (it == rows_.end()) return;
  row_state& r = it->second;
  r.cancelled = true;
  if (r.in_flight) r.inst->cancel(r.op);
  if (r.retry) r.retry->cancel();
}

void row_engine::stop() {
  stopped_ = true;
  for (auto& [key, r] : rows_) {
    if (r.in_flight) r.inst->cancel(r.op);
    if (r.retry) r.retry->cancel();
  }
}

void row_engine::fail_step(row_state& r, const std::string& step, const char* status, int32_t code,
                           const std::string& message, const op_result* res) {
  r.results[step] = json::object{
      {"status", status},
      {"error", res ? error_json(res->code, res->message, res->http_status, res->retryable, res->details_json)
                    : error_json(code, message, 0, false)}};
  r.code = code;
  r.retryable = res && res->retryable;
  if (res)
    if (auto after = retry_after(*res))
      r.retry_after_s = static_cast<uint32_t>(std::min<std::int64_t>(*after, UINT32_MAX));
}

void row_engine::run_step(uint64_t key) {
  row_state& r = rows_.at(key);
  const flow_step& s = f_.definition.steps[r.step];
  if (stopped_ || r.cancelled) {
    fail_step(r, s.id, "cancelled", WFA_CANCELLED, stopped_ ? settings_.stop_message : "the row was cancelled",
              nullptr);
    return finish_row(key, "cancelled");
  }
  eval_context ctx;
  ctx.inputs = &r.inputs;
  ctx.steps = &r.steps_out;
  json::object options, inputs;
  std::vector<std::string> problems;
  try {
    if (auto v = evaluate(json::value(s.options), ctx)) options = std::move(v->get_object());
    if (auto v = evaluate(json::value(s.inputs), ctx)) inputs = std::move(v->get_object());
    problems = f_.check_step(r.step, options, inputs);
  } catch (const expression_error& e) {
    problems.push_back(e.what());
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    fail_step(r, s.id, "failed", WFA_INVALID_INPUT, msg, nullptr);
    return finish_row(key, "failed");
  }
  r.inst = instances_.at(s.connection).get();
  r.in_flight = true;
  auto done = [this, key](op_result res) {
    asio::post(ioc_, [this, key, res = std::move(res)]() mutable { on_step_done(key, std::move(res)); });
  };
  r.op = r.inst->execute(s.action, json::serialize(options), json::serialize(inputs), std::move(done),
                         std::to_string(r.number), s.id);
}

// Waits and runs the failed step again, when the server's time fits in the row's budget.
bool row_engine::schedule_retry(uint64_t key, const op_result& res) {
  auto after = retry_after(res);
  row_state& r = rows_.at(key);
  // max_retry_wait 0 means no retry at all, also for a retry_after_s of 0 (which would
  // otherwise run the step again at once, for ever with a server that keeps saying 0).
  if (!after || stopped_ || r.cancelled || settings_.max_retry_wait.count() == 0) return false;
  if (*after > (settings_.max_retry_wait - r.waited).count()) return false;
  const std::chrono::seconds wait(*after);
  r.waited += wait;
  diag_.line("flowrun: row " + std::to_string(r.number) + ": step " + f_.definition.steps[r.step].id +
             ": rate limited, retrying in " + std::to_string(*after) + " s");
  r.retry = std::make_unique<asio::steady_timer>(ioc_, wait);
  if (hooks_.waiting) hooks_.waiting(key);  // other rows use its slot meanwhile
  r.retry->async_wait([this, key](const boost::system::error_code&) { hooks_.due(key); });
  return true;
}

void row_engine::on_step_done(uint64_t key, op_result res) {
  row_state& r = rows_.at(key);
  r.in_flight = false;
  const flow_step& s = f_.definition.steps[r.step];
  if (res.code == WFA_OK) {
    boost::system::error_code ec;
    json::value outputs = json::parse(res.outputs_json, ec, {}, wfa_json_options());
    if (ec || !outputs.is_object()) {
      fail_step(r, s.id, "failed", WFA_INTERNAL, "the plugin's outputs are not a JSON object", nullptr);
      return finish_row(key, "failed");
    }
    json::object step{{"status", "ok"}};
    if (const json::value* secret = secret_schemas_[r.step]) {
      auto shown = mask_secret_outputs(*secret, outputs, r.secrets);
      if (settings_.step_outputs) step["outputs"] = std::move(shown);
    } else if (settings_.step_outputs) {
      step["outputs"] = outputs;
    }
    r.results[s.id] = std::move(step);
    r.steps_out[s.id] = std::move(outputs);
    if (++r.step < f_.definition.steps.size()) return run_step(key);
    return finish_row(key, "ok");
  }
  if (schedule_retry(key, res)) return;
  const bool cancelled = res.code == WFA_CANCELLED;
  fail_step(r, s.id, cancelled ? "cancelled" : "failed", res.code, res.message, &res);
  finish_row(key, cancelled ? "cancelled" : "failed");
}

void row_engine::finish_row(uint64_t key, const char* status) {
  row_state& r = rows_.at(key);
  json::object line;
  line["row"] = r.number;
  line["status"] = status;
  line["steps"] = std::move(r.results);
  if (std::string_view(status) == "ok") {
    eval_context ctx;
    ctx.inputs = &r.inputs;
    ctx.steps = &r.steps_out;
    try {
      auto v = evaluate(json::value(f_.definition.outputs), ctx);
      line["outputs"] = v ? std::move(*v) : json::value(json::object());
    } catch (const expression_error& e) {
      line["status"] = "failed";
      status = "failed";
      r.code = WFA_INVALID_INPUT;
      line["error"] = error_json(WFA_INVALID_INPUT, std::string("flow outputs: ") + e.what(), 0, false);
    }
  }
  row_ending end;
  end.number = r.number;
  end.status = status;
  end.line = render(std::move(line), r.secrets);
  end.tag = std::move(r.tag);
  end.code = r.code;
  end.retryable = r.retryable;
  end.retry_after_s = r.retry_after_s;
  rows_.erase(key);
  hooks_.ended(key, std::move(end));
}

std::string row_engine::invalid_line(std::size_t number, const std::string& error) const {
  return render(json::object{{"row", number},
                             {"status", "failed"},
                             {"steps", json::object()},
                             {"error", error_json(WFA_INVALID_INPUT, error, 0, false)}});
}

std::string row_engine::render(json::object line, const std::vector<std::string>& row_secrets) const {
  json::value v(std::move(line));
  if (row_secrets.empty()) {
    f_.secrets.redact(v);
  } else {
    redactor all = f_.secrets;  // one pass, longest secret first across both sets
    all.add(row_secrets);
    all.redact(v);
  }
  return json::serialize(v);
}

}  // namespace wfa::host::detail
