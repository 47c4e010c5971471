// auth0.export-users: POST /api/v2/jobs/users-exports, poll GET /api/v2/jobs/{id} with a
// growing interval, then stream the job's file from its pre-signed location (another
// host, no token) to output_file: a temp file beside it, fsynced and renamed at the end,
// the gzip checked and its lines counted on the way, nothing held in memory.
#include "actions/discover.hpp"
#include "actions/gzip_lines.hpp"

#include <auth0/jobs.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace a0::actions {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

using a0::auth0::client_errc;

namespace {

// What planning (linkplan) reads of every user.
constexpr const char* k_plan_fields[] = {"user_id",      "email",      "email_verified", "created_at",
                                         "logins_count", "identities", "blocked"};

constexpr std::uint64_t k_progress_bytes = 64u << 20;  // a log line and a writeback kick per 64 MiB

[[noreturn]] void fail(std::error_code code, std::string message, bool retryable = false, int http_status = 0) {
  a0::auth0::api_error e;
  e.code = code;
  e.message = std::move(message);
  e.retryable = retryable;
  e.http_status = http_status;
  throw a0::auth0::api_exception(std::move(e));
}

std::string errno_text(int err) { return std::strerror(err); }

// output_file.part-XXXXXX in the same folder (so that the rename is atomic), removed on
// every way out but commit(): a failed or cancelled export leaves no half file, and never
// one under the final name. Mode 0600: the file holds the tenant's users.
class part_file {
 public:
  explicit part_file(const std::string& final_path) : final_(final_path), tmp_(final_path + ".part-XXXXXX") {
    fd_ = ::mkostemp(tmp_.data(), O_CLOEXEC);
    if (fd_ < 0)
      fail(action_errc::output_file_failed, "cannot create a file beside " + final_ + ": " + errno_text(errno));
  }
  ~part_file() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  part_file(const part_file&) = delete;
  part_file& operator=(const part_file&) = delete;

  void write(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        fail(action_errc::output_file_failed, "writing " + tmp_ + " failed: " + errno_text(errno));
      }
      data.remove_prefix(static_cast<std::size_t>(n));
      written_ += static_cast<std::uint64_t>(n);
    }
    // Start writeback as we go, so that the final fsync does not stall the io thread for
    // the whole file.
    if (written_ - kicked_ >= k_progress_bytes) {
      (void)::sync_file_range(fd_, static_cast<off_t>(kicked_), static_cast<off_t>(written_ - kicked_),
                              SYNC_FILE_RANGE_WRITE);
      kicked_ = written_;
    }
  }

  void commit() {
    if (::fsync(fd_) != 0) fail(action_errc::output_file_failed, "fsync of " + tmp_ + " failed: " + errno_text(errno));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(action_errc::output_file_failed, "closing " + tmp_ + " failed: " + errno_text(errno));
    if (::rename(tmp_.c_str(), final_.c_str()) != 0)
      fail(action_errc::output_file_failed, "renaming " + tmp_ + " to " + final_ + " failed: " + errno_text(errno));
    committed_ = true;
    // The rename itself is durable once the folder is synced.
    const auto dir = std::filesystem::path(final_).parent_path();
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }

  std::uint64_t written() const { return written_; }

 private:
  std::string final_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
  std::uint64_t written_ = 0, kicked_ = 0;
};

json::object job_body(const export_users_request& r) {
  json::array fields;
  std::vector<std::string> names(std::begin(k_plan_fields), std::end(k_plan_fields));
  for (const auto& f : r.extra_fields)
    if (std::find(names.begin(), names.end(), f) == names.end()) names.push_back(f);
  for (const auto& n : names) fields.push_back(json::object{{"name", n}});
  json::object body{{"format", "json"}, {"fields", std::move(fields)}};
  if (!r.connection_id.empty()) body["connection_id"] = r.connection_id;
  return body;
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::int64_t> int_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_number()) return std::nullopt;
  return static_cast<std::int64_t>(v->to_number<double>());
}

json::object export_outputs(const std::string& file, std::uint64_t count, const std::string& job_id,
                            std::uint64_t bytes) {
  return json::object{{"file", file}, {"count", count}, {"job_id", job_id}, {"bytes", bytes}};
}

asio::awaitable<void> sleep_for(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);  // cancellation throws operation_aborted
}

// Polls until the job completes; returns its location.
asio::awaitable<std::string> wait_for_job(context& ctx, const export_users_request& r, const std::string& id) {
  milliseconds grown = r.poll_interval;
  for (;;) {
    json::object job;
    std::optional<a0::auth0::api_error> failed;
    try {
      job = co_await ctx.client.get_job(id);
    } catch (const a0::auth0::api_exception& e) {
      failed = e.error();
    }
    if (failed) {
      if (failed->http_status != 404) throw a0::auth0::api_exception(*failed);
      // Auth0 keeps a job for a while only: it is gone, a new one has to be made.
      fail(client_errc::not_found,
           "export job " + id + " does not exist (any more): " + failed->message +
               "; run the step again to start a new export",
           true, 404);
    }
    const auto status = string_at(job, "status");
    if (status == "completed") {
      auto location = string_at(job, "location");
      if (location.empty()) fail(client_errc::bad_response, "export job " + id + " completed without a location");
      co_return location;
    }
    if (status == "failed")
      fail(client_errc::server_error,
           "export job " + id + " failed on Auth0's side; run the step again to start a new export", true);
    const auto left = int_at(job, "time_left_seconds");
    const auto wait = next_poll_wait(grown, left, r);
    std::string line = "export job " + id + ": " + (status.empty() ? std::string("(no status)") : status);
    if (const auto pct = int_at(job, "percentage_done")) line += ", " + std::to_string(*pct) + "% done";
    if (left) line += ", about " + std::to_string(*left) + " s left";
    ctx.log(a0::auth0::log_level::info, line + "; next poll in " + std::to_string(wait.count()) + " ms");
    grown = std::min(r.max_poll_interval, grown * 3 / 2);
    co_await sleep_for(wait);
  }
}

struct downloaded {
  std::uint64_t bytes = 0, lines = 0;
};

asio::awaitable<downloaded> download_once(context& ctx, const export_users_request& r, const std::string& location,
                                          const std::string& where) {
  part_file part(r.output_file);
  gzip_line_counter lines;
  std::uint64_t next_log = k_progress_bytes;
  auto sink = [&](std::string_view chunk) {
    lines.feed(chunk);  // before the write: corrupt data stops the download at once
    part.write(chunk);
    if (part.written() >= next_log) {
      ctx.log(a0::auth0::log_level::info, "export download: " + std::to_string(part.written() >> 20) + " MiB so far");
      next_log += k_progress_bytes;
    }
  };
  downloaded d;
  std::optional<std::string> corrupt;
  try {
    d.bytes = co_await ctx.client.download(location, sink, r.max_download_bytes);
    d.lines = lines.finish();
  } catch (const gzip_error& e) {
    corrupt = e.what();
  }
  // Not retryable: the job's file is what it is (a cut connection is a transport error).
  if (corrupt) fail(client_errc::bad_response, *corrupt + " (" + where + "); nothing written to " + r.output_file);
  part.commit();
  co_return d;
}

}  // namespace

milliseconds next_poll_wait(milliseconds grown, std::optional<std::int64_t> time_left_s,
                            const export_users_request& r) {
  grown = std::clamp(grown, r.poll_interval, r.max_poll_interval);
  if (!time_left_s) return grown;
  const auto left = milliseconds{std::clamp<std::int64_t>(*time_left_s, 0, 86400) * 1000};
  return std::clamp(left, r.poll_interval, grown);
}

std::optional<milliseconds> default_timeout_of(std::string_view action_id) {
  if (action_id == k_export_users) return milliseconds{24 * 3600 * 1000};
  return std::nullopt;
}

asio::awaitable<json::object> export_users(context& ctx, export_users_request r) {
  auto job = co_await ctx.client.create_users_export(job_body(r));
  const auto id = string_at(job, "id");
  if (id.empty()) fail(client_errc::bad_response, "the users export job was created without an id");
  ctx.log(a0::auth0::log_level::info, "export job " + id + " created (" +
                                          (r.connection_id.empty() ? std::string("all connections") : r.connection_id) +
                                          ")");
  const auto location = co_await wait_for_job(ctx, r, id);
  const auto where = a0::http::redact_url(location);
  ctx.log(a0::auth0::log_level::info, "export job " + id + " completed; downloading " + where + " to " + r.output_file);
  // A cut connection or a 5xx of the storage host: the file is fetched again from the
  // start while its link lasts (an expired link, 403/404, is not retried here).
  const int retries = std::max(0, ctx.client.config().max_retries);
  for (int attempt = 0;; ++attempt) {
    std::optional<a0::auth0::api_error> failed;
    try {
      const auto d = co_await download_once(ctx, r, location, where);
      ctx.log(a0::auth0::log_level::info, "export job " + id + ": " + std::to_string(d.lines) + " users, " +
                                              std::to_string(d.bytes) + " bytes written to " + r.output_file);
      co_return export_outputs(r.output_file, d.lines, id, d.bytes);
    } catch (const a0::auth0::api_exception& e) {
      failed = e.error();
    }
    const bool transient =
        failed->retryable && (failed->code == client_errc::connection_failed ||
                              failed->code == client_errc::server_error || failed->code == client_errc::timed_out);
    if (!transient || attempt >= retries) throw a0::auth0::api_exception(*failed);
    const milliseconds wait{std::min<std::int64_t>(250LL << attempt, 10000)};
    ctx.log(a0::auth0::log_level::warn, failed->message + "; download again from the start in " +
                                            std::to_string(wait.count()) + " ms (retry " + std::to_string(attempt + 1) +
                                            ")");
    co_await sleep_for(wait);
  }
}

}  // namespace a0::actions
