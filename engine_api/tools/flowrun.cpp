// flowrun: the reference runner for wfa plugins.
//
//   flowrun run FLOW.json [--input NAME=VALUE]... [--inputs-file ROWS.jsonl] [--concurrency N]
//               [--no-step-outputs] [--log-level trace|debug|info|warn|error] [--max-retry-wait SECONDS]
//               [--journal FILE [--retry-failed]] [--progress-interval SECONDS]
//   flowrun validate FLOW.json
//   flowrun describe PLUGIN.so [--json]
//   flowrun options FLOW.json STEP_ID FIELD
//
// Exit codes: 0 ok; 1 some rows failed or were cancelled, also by Ctrl-C (options: the
// plugin failed); 2 usage, flow, plugin or validation errors (nothing was executed).
#include "commands.hpp"
#include "progress.hpp"
#include "signals.hpp"

#include <wfa/host.hpp>
#include <wfa/host/journal.hpp>
#include <wfa/host/options.hpp>
#include <wfa/host/runner.hpp>
#include <wfa/host/session.hpp>
#include <wfa/host/validate.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <utility>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <memory>
#include <string>
#include <vector>

namespace json = boost::json;
using namespace wfa::host;
using flowrun::signal_watch;
using flowrun::status_display;

namespace {

constexpr int exit_usage = 2;

const char* usage_text =
    "usage:\n"
    "  flowrun run FLOW.json [--input NAME=VALUE]... [--inputs-file ROWS.jsonl] [--concurrency N]\n"
    "              [--no-step-outputs] [--log-level trace|debug|info|warn|error] [--max-retry-wait SECONDS]\n"
    "              [--journal FILE [--retry-failed]] [--progress-interval SECONDS]\n"
    "  flowrun validate FLOW.json\n"
    "  flowrun describe PLUGIN.so [--json]\n"
    "  flowrun options FLOW.json STEP_ID FIELD     (FIELD e.g. /inputs/secondary_connection_id)\n"
    "exit: 0 ok, 1 rows failed or were cancelled (also by Ctrl-C), 2 usage or validation errors\n";

int usage(const std::string& why) {
  std::cerr << "flowrun: " << why << "\n" << usage_text;
  return exit_usage;
}

// A line of --inputs-file may hold at most this many bytes: a file with no newline
// (/dev/zero through a FIFO, a wrong file) must not grow memory without bound.
constexpr std::size_t max_line_bytes = std::size_t(1) << 20;

// Reads lines of at most max_line_bytes, up to 64 KiB at a time (std::getline has no
// bound; fread would wait for a whole block from a pipe).
class line_reader {
 public:
  explicit line_reader(int fd) : fd_(fd) {}
  ~line_reader() { ::close(fd_); }
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  enum class result { line, too_long, end, error };
  // The next line without its '\n'. A line over the bound is skipped up to its end
  // (memory stays bounded) and reported too_long.
  result next(std::string& line) {
    line.clear();
    bool too_long = false;
    for (;;) {
      if (pos_ == len_) {
        ssize_t got;
        do got = ::read(fd_, buf_.get(), block);
        while (got < 0 && errno == EINTR);
        pos_ = 0;
        len_ = got > 0 ? static_cast<std::size_t>(got) : 0;
        if (got < 0) return result::error;
        if (len_ == 0) {
          if (too_long) {
            partial_ = false;
            return result::too_long;
          }
          return line.empty() && !partial_ ? result::end : (partial_ = false, result::line);
        }
      }
      const char* start = buf_.get() + pos_;
      const void* nl = std::memchr(start, '\n', len_ - pos_);
      std::size_t n = nl ? static_cast<const char*>(nl) - start : len_ - pos_;
      if (!too_long && line.size() + n > max_line_bytes) {
        too_long = true;
        line.clear();
        line.shrink_to_fit();
      }
      if (!too_long) line.append(start, n);
      pos_ += n;
      partial_ = !nl;
      if (nl) {
        ++pos_;
        return too_long ? result::too_long : result::line;
      }
    }
  }

 private:
  static constexpr std::size_t block = 64 * 1024;
  int fd_;
  std::unique_ptr<char[]> buf_ = std::make_unique<char[]>(block);
  std::size_t pos_ = 0, len_ = 0;
  bool partial_ = false;  // bytes of an unfinished line were read
};

// The rows of --inputs-file, one JSON object per line (blank lines skipped), each
// merged over the --input values and checked against the flow's declared inputs.
class rows_reader {
 public:
  rows_reader(std::string file, int fd, json::object base, std::shared_ptr<const checked_flow> flow,
              std::shared_ptr<const journal> done = nullptr)
      : file_(std::move(file)),
        lines_(fd),
        base_(std::move(base)),
        flow_(std::move(flow)),
        done_rows_(std::move(done)) {}

  /// Rows skipped because the journal says they failed (without --retry-failed).
  std::size_t skipped_failed() const { return skipped_failed_.load(); }

  // The next row, with `error` set when it cannot run; nullopt at the end. A read
  // error ends the rows with one row saying so.
  std::optional<input_row> next() {
    std::string line;
    for (;;) {
      if (done_) return std::nullopt;
      auto r = lines_.next(line);
      ++n_;
      std::string where = file_ + ":" + std::to_string(n_) + ": ";
      switch (r) {
        case line_reader::result::end: done_ = true; return std::nullopt;
        case line_reader::result::error:
          done_ = true;
          return input_row{{}, where + "cannot read: " + std::strerror(errno), {}, false};
        case line_reader::result::too_long:
          return input_row{{}, where + "line longer than " + std::to_string(max_line_bytes) + " bytes", {}, false};
        case line_reader::result::line: break;
      }
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      std::string error;
      auto row = read_row(*flow_, line, base_, error);  // the same reading as a flow_session's
      if (!row) return input_row{{}, where + error, {}, false};
      input_row out{std::move(*row), {}, {}, false};
      if (done_rows_) {  // --journal: the row's key; a row the journal has finished is skipped
        out.tag = row_key(out.inputs);
        out.skip = done_rows_->finished(out.tag);
        if (out.skip && done_rows_->lookup(out.tag) == journal::status::failed) ++skipped_failed_;
      }
      return out;
    }
  }

 private:
  std::string file_;
  line_reader lines_;
  json::object base_;
  std::shared_ptr<const checked_flow> flow_;
  std::shared_ptr<const journal> done_rows_;
  std::atomic<std::size_t> skipped_failed_{0};
  std::size_t n_ = 0;
  bool done_ = false;
};

// Opens --inputs-file: a regular file, a pipe or a FIFO. Anything else (a directory,
// /dev/zero) is refused with the reason; -1 then.
int open_rows(const std::string& file, bool& regular) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    std::cerr << "flowrun: cannot read " << file << ": " << std::strerror(errno) << "\n";
    return -1;
  }
  regular = S_ISREG(st.st_mode);
  if (S_ISDIR(st.st_mode)) {
    std::cerr << "flowrun: " << file << " is a directory; --inputs-file needs a file of JSON lines\n";
    return -1;
  }
  if (!regular && !S_ISFIFO(st.st_mode)) {
    std::cerr << "flowrun: " << file << " is not a regular file, a pipe or a FIFO; --inputs-file needs JSON lines\n";
    return -1;
  }
  int f = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (f < 0) std::cerr << "flowrun: cannot read " << file << ": " << std::strerror(errno) << "\n";
  return f;
}

// Loads and validates; prints the errors and returns nullopt when there are any.
std::optional<checked_flow> load_checked(const std::string& file) {
  try {
    flow f = load_flow(file);
    validation_result r = validate(f);
    for (const auto& e : r.errors) std::cerr << "flowrun: " << file << ": " << e << "\n";
    return std::move(r.checked);
  } catch (const flow_error& e) {
    std::cerr << "flowrun: " << e.what() << "\n";
    return std::nullopt;
  }
}

int cmd_validate(const std::vector<std::string>& args) {
  if (args.size() != 1) return usage("validate takes one FLOW.json");
  auto f = load_checked(args[0]);
  if (!f) return exit_usage;
  std::cout << args[0] << ": ok (" << f->definition.steps.size() << " steps, " << f->definition.connections.size()
            << " connections)\n";
  return 0;
}

std::optional<int32_t> parse_level(const std::string& s) {
  if (s == "trace") return WFA_LOG_TRACE;
  if (s == "debug") return WFA_LOG_DEBUG;
  if (s == "info") return WFA_LOG_INFO;
  if (s == "warn") return WFA_LOG_WARN;
  if (s == "error") return WFA_LOG_ERROR;
  return std::nullopt;
}

// The identity of a flow for its journal: the key of the flow file's JSON (so spacing and
// key order do not matter, any change of a step does).
std::string flow_digest(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(text.str(), ec);
  return ec ? std::string() : value_key(v);
}

// A step option whose literal value the manifest marks x-rerun-unsafe (a re-run repeats
// a write): with a journal, a row in flight when the process dies runs again.
void warn_rerun_unsafe(const checked_flow& f) {
  for (std::size_t i = 0; i < f.definition.steps.size(); ++i) {
    const auto& step = f.definition.steps[i];
    const json::object& m = f.manifest(i);
    const json::value* props = m.contains("options") ? m.at("options").as_object().if_contains("properties") : nullptr;
    if (!props || !props->is_object()) continue;
    for (const auto& [name, value] : step.options) {
      const json::value* prop = props->as_object().if_contains(name);
      const json::value* unsafe = prop && prop->is_object() ? prop->as_object().if_contains("x-rerun-unsafe") : nullptr;
      if (!unsafe || !unsafe->is_array()) continue;
      for (const auto& u : unsafe->as_array())
        if (u == value)
          std::cerr << "flowrun: warning: step " << step.id << ": options." << name << " = " << json::serialize(value)
                    << " repeats its write when a row runs again; a row in flight when a run stops runs again on "
                       "resume\n";
    }
  }
}

// done, ok, failed, cancelled, skipped, rows/s, ETA (when the number of rows is known), as
// the members of a JSON object, without braces. Written by hand: Boost.JSON writes a
// double as 6.5E0, which reads badly in a log.
std::string progress_members(const run_progress& p, std::size_t expected_rows) {
  double rate = p.elapsed_s > 0 ? static_cast<double>(p.done) / p.elapsed_s : 0.0;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "\"done\":%zu,\"ok\":%zu,\"failed\":%zu,\"cancelled\":%zu,\"skipped\":%zu,\"rate\":%.1f,"
                "\"elapsed_s\":%.1f",
                p.done, p.ok, p.failed, p.cancelled, p.skipped, rate, p.elapsed_s);
  std::string out = buf;
  if (expected_rows > 0) {
    out += ",\"total\":" + std::to_string(expected_rows);
    std::size_t left = expected_rows > p.done + p.skipped ? expected_rows - p.done - p.skipped : 0;
    if (rate > 0) out += ",\"eta_s\":" + std::to_string(std::llround(static_cast<double>(left) / rate));
  }
  return out;
}

int cmd_run(const std::vector<std::string>& args) {
  std::string flow_file, rows_file;
  std::vector<std::pair<std::string, std::string>> inputs;
  run_options opts;
  std::size_t expected_rows = 0;  // the progress bar's total, when the rows are known
  std::string journal_file;
  bool retry_failed = false;
  std::chrono::seconds progress_interval{10};
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "--input") {
      auto v = value();
      if (!v) return usage("--input needs NAME=VALUE");
      auto eq = v->find('=');
      if (eq == std::string::npos || eq == 0) return usage("--input needs NAME=VALUE, got '" + *v + "'");
      inputs.emplace_back(v->substr(0, eq), v->substr(eq + 1));
    } else if (a == "--inputs-file") {
      auto v = value();
      if (!v) return usage("--inputs-file needs a file");
      rows_file = *v;
    } else if (a == "--concurrency") {
      auto v = value();
      unsigned n = 0;
      if (!v || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc() || n < 1 || n > 100000)
        return usage("--concurrency needs an integer from 1 to 100000");
      opts.concurrency = n;
    } else if (a == "--max-retry-wait") {
      auto v = value();
      unsigned n = 0;
      auto parsed = v ? std::from_chars(v->data(), v->data() + v->size(), n) : std::from_chars_result{};
      if (!v || parsed.ec != std::errc() || parsed.ptr != v->data() + v->size() || n > 86400)
        return usage("--max-retry-wait needs whole seconds from 0 to 86400");
      opts.max_retry_wait = std::chrono::seconds(n);
    } else if (a == "--journal") {
      auto v = value();
      if (!v || v->empty()) return usage("--journal needs a file");
      journal_file = *v;
    } else if (a == "--retry-failed") {
      retry_failed = true;
    } else if (a == "--progress-interval") {
      auto v = value();
      unsigned n = 0;
      auto parsed = v ? std::from_chars(v->data(), v->data() + v->size(), n) : std::from_chars_result{};
      if (!v || parsed.ec != std::errc() || parsed.ptr != v->data() + v->size() || n < 1 || n > 86400)
        return usage("--progress-interval needs whole seconds from 1 to 86400");
      progress_interval = std::chrono::seconds(n);
    } else if (a == "--no-step-outputs") {
      opts.step_outputs = false;
    } else if (a == "--log-level") {
      auto v = value();
      auto lvl = v ? parse_level(*v) : std::nullopt;
      if (!lvl) return usage("--log-level needs trace, debug, info, warn or error");
      opts.log_level = *lvl;
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option '" + a + "'");
    } else if (flow_file.empty()) {
      flow_file = a;
    } else {
      return usage("unexpected argument '" + a + "'");
    }
  }
  if (flow_file.empty()) return usage("run needs FLOW.json");
  if (retry_failed && journal_file.empty()) return usage("--retry-failed needs --journal");
  if (!journal_file.empty() && rows_file.empty())
    return usage("--journal needs --inputs-file (a journal records the rows of a file)");

  auto f = load_checked(flow_file);
  if (!f) return exit_usage;

  // --input values apply to every row; a row of --inputs-file overrides them.
  json::object base;
  for (const auto& [name, text] : inputs) base[name] = parse_input_value(f->definition, name, text);
  // Shared with the reader thread, which may outlive this function (an interrupted run
  // blocked on a pipe).
  auto flow = std::make_shared<const checked_flow>(std::move(*f));
  std::shared_ptr<journal> run_journal;
  std::shared_ptr<rows_reader> journal_reader;  // for the count of failed rows it skipped
  if (rows_file.empty()) {
    bool bad = false;
    for (const auto& e : flow->check_row(base)) {
      std::cerr << "flowrun: row 0: " << flow->secrets.redact(e) << "\n";
      bad = true;
    }
    if (bad) return exit_usage;
    opts.rows.push_back(base);
    expected_rows = 1;
  } else {
    bool regular = false;
    int file = open_rows(rows_file, regular);
    if (file < 0) return exit_usage;
    if (regular) {
      // A file can be read twice: every row is checked before any runs (exit 2 on a bad
      // one, as for --input), then the rows are streamed.
      rows_reader check(rows_file, file, base, flow);
      std::size_t rows = 0, bad = 0;
      while (auto r = check.next()) {
        ++rows;
        if (r->error.empty()) continue;
        if (++bad <= 20) std::cerr << "flowrun: " << r->error << "\n";
      }
      if (bad > 20) std::cerr << "flowrun: " << rows_file << ": " << bad - 20 << " more bad rows\n";
      if (bad) return exit_usage;
      if (rows == 0) {
        std::cerr << "flowrun: " << rows_file << " holds no row: ran no row\n";
        return 0;
      }
      expected_rows = rows;
      file = open_rows(rows_file, regular);
      if (file < 0) return exit_usage;
    }
    if (!journal_file.empty()) {
      try {
        run_journal = std::make_shared<journal>(journal_file, flow_digest(flow_file),
                                                journal::options{.retry_failed = retry_failed});
      } catch (const journal_error& e) {
        std::cerr << "flowrun: " << e.what() << "\n";
        ::close(file);
        return exit_usage;
      }
      const auto& back = run_journal->read_back();
      if (back.ok + back.failed > 0 || back.torn_tail_cut)
        std::cerr << "flowrun: resuming from " << journal_file << ": " << back.ok << " rows ok, " << back.failed
                  << " failed" << (retry_failed ? " (run again)" : "") << " are skipped"
                  << (back.torn_tail_cut ? "; a torn last line was cut (its row runs again)" : "") << "\n";
      warn_rerun_unsafe(*flow);
    }
    // A pipe is read once: a bad row is reported failed when its turn comes.
    auto reader = std::make_shared<rows_reader>(rows_file, file, base, flow, run_journal);
    journal_reader = reader;
    opts.source = [reader] { return reader->next(); };
  }

  // The progress bar is redrawn in place on stderr, only when it is a terminal; the
  // run's diagnostic lines are printed above it.
  const bool bar = isatty(STDERR_FILENO) == 1;
  status_display display(std::cerr, bar);
  opts.on_diagnostic = [&display](std::string_view line) { display.line(line); };
  if (bar) {
    opts.on_progress = [&display, expected_rows](const run_progress& p) {
      display.bar(flowrun::render_progress(p.done + p.skipped, std::max(expected_rows, p.done + p.skipped), p.failures,
                                           p.elapsed_s));
    };
  } else {
    // Not a terminal (a log, a service): a JSON progress line every --progress-interval.
    opts.progress_interval = progress_interval;
    opts.on_progress = [&display, expected_rows, first = true](const run_progress& p) mutable {
      if (std::exchange(first, false)) return;  // the call as the first rows start: nothing done yet
      display.line("{\"progress\":{" + progress_members(p, expected_rows) + "}}");
    };
  }
  if (run_journal)
    opts.on_row_end = [run_journal](const row_end& e) {
      if (!e.tag.empty()) run_journal->record(e.tag, e.ok, e.line);
    };
  // Ctrl-C: the first SIGINT or SIGTERM interrupts the run, a second exits at once.
  run_control control;
  opts.control = &control;
  try {
    run_summary sum;
    const auto started = std::chrono::steady_clock::now();
    {
      signal_watch signals([&control] { control.interrupt(); });
      sum = run_flow(*flow, opts, std::cout, std::cerr);
    }
    display.finish();
    if (run_journal) run_journal->sync();
    // Rows that failed in an earlier run and were skipped keep the job unfinished: exit 1.
    const std::size_t skipped_failed = journal_reader ? journal_reader->skipped_failed() : 0;
    const int exit_code = skipped_failed ? 1 : sum.exit_code();
    if (sum.ok + sum.failed + sum.cancelled + sum.skipped == 0)
      std::cerr << "flowrun: " << rows_file << " held no row: ran no row\n";
    if (!bar) {
      run_progress p;
      p.ok = sum.ok;
      p.failed = sum.failed;
      p.cancelled = sum.cancelled;
      p.skipped = sum.skipped;
      p.done = sum.ok + sum.failed + sum.cancelled;
      p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::cerr << "{\"summary\":{" << progress_members(p, expected_rows) << ",\"skipped_failed\":" << skipped_failed
                << ",\"interrupted\":" << (sum.interrupted ? "true" : "false") << ",\"exit\":" << exit_code << "}}\n";
    }
    if (skipped_failed)
      std::cerr << "flowrun: " << skipped_failed
                << " rows failed in an earlier run and were skipped (--retry-failed runs them again)\n";
    return exit_code;
  } catch (const create_error& e) {
    std::cerr << "flowrun: " << e.what() << "\n";
    return exit_usage;
  } catch (const journal_error& e) {
    // Recording a row failed (disk full): the run stopped; rows already recorded are safe.
    std::cerr << "flowrun: " << e.what() << "\n";
    return 1;
  }
}

int cmd_options(const std::vector<std::string>& args) {
  if (args.size() != 3) return usage("options takes FLOW.json STEP_ID FIELD");
  const std::string& step_id = args[1];
  const std::string& field = args[2];
  auto f = load_checked(args[0]);
  if (!f) return exit_usage;
  int idx = f->definition.step_index(step_id);
  if (idx < 0) return usage("no step '" + step_id + "' in " + args[0]);
  const flow_step& s = f->definition.steps[static_cast<std::size_t>(idx)];

  // FIELD is a JSON Pointer /SECTION/NAME into the action's manifest.
  auto ref = parse_field(field);
  if (!ref) return usage("FIELD must look like /inputs/NAME or /options/NAME");
  const json::value* prop = find_field(f->manifest(static_cast<std::size_t>(idx)), *ref);
  if (!prop) return usage("step " + step_id + ": " + field + ": no such field in " + s.action);
  if (!has_dynamic_options(*prop))
    return usage("step " + step_id + ": " + field + ": not a field with dynamic options");

  const flow_connection* c = f->definition.find_connection(s.connection);
  auto sink = [&f](int32_t level, std::string_view msg) {
    if (level >= WFA_LOG_WARN) std::cerr << f->secrets.redact("flowrun: plugin: " + std::string(msg)) + "\n";
  };
  option_list list;
  try {
    instance inst(f->libraries.at(c->plugin), json::serialize(f->configs.at(s.connection)), sink, WFA_LOG_WARN);
    // Context: the step's literal options and inputs (expressions need a row: left out).
    list = list_all_options(inst, s.action, field, literal_context(s));
  } catch (const create_error& e) {
    std::cerr << "flowrun: " << f->secrets.redact("connection " + s.connection + ": " + e.what()) << "\n";
    return exit_usage;
  }
  switch (list.result) {
    case option_list::outcome::plugin_error:
      std::cerr << "flowrun: options: " << code_name(list.error.code) << ": " << f->secrets.redact(list.error.message)
                << "\n";
      return 1;
    case option_list::outcome::bad_answer:
      std::cerr << "flowrun: options: the plugin's answer has no items array\n";
      return 1;
    case option_list::outcome::complete:
    case option_list::outcome::cut: break;
  }
  json::value out(std::move(list.items));
  f->secrets.redact(out);
  std::cout << json::serialize(out) << "\n";
  // A server whose pages never end must not make us print a list cut silently: we
  // stop, say so, and exit 1.
  if (list.result == option_list::outcome::cut) {
    std::cerr << "flowrun: options: the list is cut: " << f->secrets.redact(list.reason) << "\n";
    return 1;
  }
  return 0;
}

int cmd_describe(const std::vector<std::string>& args) {
  bool as_json = false;
  std::string plugin;
  for (const auto& a : args) {
    if (a == "--json")
      as_json = true;
    else if (!plugin.empty() || (!a.empty() && a[0] == '-'))
      return usage("describe takes PLUGIN.so [--json]");
    else
      plugin = a;
  }
  if (plugin.empty()) return usage("describe takes PLUGIN.so [--json]");
  try {
    return flowrun::describe(plugin, as_json, std::cout, std::cerr);
  } catch (const load_error& e) {
    std::cerr << "flowrun: " << e.what() << "\n";
    return exit_usage;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage("missing command");
  std::string cmd = args.front();
  args.erase(args.begin());
  try {
    if (cmd == "run") return cmd_run(args);
    if (cmd == "validate") return cmd_validate(args);
    if (cmd == "describe") return cmd_describe(args);
    if (cmd == "options") return cmd_options(args);
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << usage_text;
      return 0;
    }
    return usage("unknown command '" + cmd + "'");
  } catch (const std::exception& e) {
    std::cerr << "flowrun: " << e.what() << "\n";
    return exit_usage;
  }
}
