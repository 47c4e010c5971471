// wfa/host/journal.hpp -- the record of a long run, so that running it again resumes it.
//
// A journal is a file of JSON lines. The first line names the flow it belongs to:
//   {"wfa_journal":1,"flow":"<flow digest>"}
// and every later line is one finished row: its key (row_key of its inputs), whether it
// ended ok, and the result line the runner printed for it:
//   {"key":"<32 hex>","ok":true,"result":{...}}
// Nothing is written when a row starts; a row that was in flight when the process died
// has no line and runs again. A row whose line says ok (or failed, unless failed rows
// are to be retried) is skipped by a run that reopens the journal.
//
// Durability: each line is written with one write(2) on an O_APPEND descriptor as soon
// as its row ends, so it survives the process being killed; fdatasync runs at most every
// `sync_interval` (default 100 ms) and at close, so a machine crash loses at most the
// lines of that interval (their rows run again). A torn last line (no newline: the
// machine died inside a write) is cut off on open; any other unreadable line refuses the
// journal, naming the line, since skipping rows on a guess could lose a write.
//
// Memory: 16 bytes per finished row read back on open (10 million rows: 160 MB); rows
// finished by this run are not held.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wfa::host {

/// A journal that cannot be used; what() names the file, the line and what to do.
class journal_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A 128-bit key of a JSON value, as 32 lowercase hex digits: FNV-1a over its canonical
/// form (object members sorted by key at every depth, no spaces, strings and numbers as
/// Boost.JSON serialises them). Equal for the same row written with other key order or
/// spacing; 1 and 1.0 differ. Not a defence against inputs crafted to collide: the rows
/// are the user's own.
std::string row_key(const boost::json::object& inputs);
std::string value_key(const boost::json::value& v);

class journal {
 public:
  struct options {
    bool retry_failed = false;  ///< rows that ended failed run again
    std::chrono::milliseconds sync_interval{100};
  };
  struct counts {
    std::size_t ok = 0, failed = 0;  ///< distinct rows read back on open (failed: never ok)
    bool torn_tail_cut = false;      ///< a partial last line was removed
  };

  /// Opens `path` for the flow whose digest is `flow_digest`, creating it (with its header
  /// line) when it does not exist or is empty. Throws journal_error when the file belongs
  /// to another flow, is not a journal, or has an unreadable line before its last.
  journal(const std::string& path, std::string_view flow_digest, options opts);
  journal(const std::string& path, std::string_view flow_digest) : journal(path, flow_digest, options{}) {}
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// What the journal holds for a row (read back on open): the last result counts.
  enum class status { none, ok, failed };
  status lookup(std::string_view key) const;
  /// Whether a row with this key is finished: ok, or failed and failed rows are not retried.
  bool finished(std::string_view key) const;
  /// Appends one finished row (thread-safe). `result_line` is the runner's JSON line.
  /// Throws journal_error when the write fails (disk full): the caller must stop, since
  /// rows that end after it would otherwise run again on resume.
  void record(std::string_view key, bool ok, std::string_view result_line);
  /// fdatasync now (also done by the destructor).
  void sync();

  const counts& read_back() const noexcept { return counts_; }
  const std::string& path() const noexcept { return path_; }

 private:
  struct key128 {
    std::uint64_t hi = 0, lo = 0;
    auto operator<=>(const key128&) const = default;
  };
  static bool parse_key(std::string_view hex, key128& out);

  std::string path_;
  options opts_;
  int fd_ = -1;
  counts counts_;
  std::vector<key128> ok_, failed_;  // sorted, rows read back on open (a key in both: ok)
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_sync_;
  bool dirty_ = false;
};

}  // namespace wfa::host
