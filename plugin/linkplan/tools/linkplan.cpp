// linkplan: plans who links into whom from an Auth0 users export.
//
//   linkplan USERS.ndjson[.gz] --policy oldest|most-logins|prefer-connection:NAME
//            --out PAIRS.jsonl [--refused REFUSED.jsonl] [--summary]
//
// Reads the export twice (gzip or plain, detected from the content), writes the pairs (the
// link flow's inputs, one primary's links adjacent) and the refused accounts with their
// reason. Outputs are written to FILE.tmp and renamed when the plan is complete, so a
// failed run never leaves a partial plan under the name given. Exit 0, or 2 with one
// message on stderr for bad usage or a bad export.
#include <linkplan/plan.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace json = boost::json;
namespace lp = a0::linkplan;

namespace {

constexpr std::size_t max_line = 16u << 20;  // a user with whole metadata fits many times

// Lines of a gzip or plain file (zlib reads both), with truncation and corruption reported.
class line_reader {
 public:
  explicit line_reader(const std::string& path) : path_(path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw lp::error(path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw lp::error(path + ": not a regular file (the export is read twice)");
    f_.reset(gzopen(path.c_str(), "rb"));
    if (!f_) throw lp::error(path + ": cannot open: " + std::strerror(errno));
    gzbuffer(f_.get(), 256 * 1024);
  }

  // The next line without its newline; nullopt at the end. The view lives until the next call.
  std::optional<std::string_view> next() {
    for (;;) {
      if (auto nl = buf_.find('\n', pos_); nl != std::string::npos) {
        std::string_view line(buf_.data() + pos_, nl - pos_);
        pos_ = nl + 1;
        ++line_no_;
        return line;
      }
      if (eof_) {
        if (pos_ == buf_.size()) return std::nullopt;
        std::string_view line(buf_.data() + pos_, buf_.size() - pos_);  // last line, no newline
        pos_ = buf_.size();
        ++line_no_;
        return line;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      if (buf_.size() > max_line)
        throw lp::error(path_ + ": line " + std::to_string(line_no_ + 1) + " is longer than 16 MiB");
      const std::size_t old = buf_.size();
      buf_.resize(old + chunk);
      const int n = gzread(f_.get(), buf_.data() + old, chunk);
      if (n < 0) fail();
      buf_.resize(old + static_cast<std::size_t>(n));
      if (n == 0) {
        int err = Z_OK;
        gzerror(f_.get(), &err);
        if (err != Z_OK) fail();
        eof_ = true;
      }
    }
  }

  std::uint64_t line_no() const { return line_no_; }

  // Reads to the end; throws the gzip error, if any.
  void drain() {
    buf_.clear();
    pos_ = 0;
    while (!eof_ && next()) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
  }

 private:
  [[noreturn]] void fail() {
    int err = Z_OK;
    const char* msg = gzerror(f_.get(), &err);
    if (err == Z_BUF_ERROR)
      throw lp::error(path_ + ": the gzip stream is truncated (after line " + std::to_string(line_no_) + ")");
    if (err == Z_ERRNO) throw lp::error(path_ + ": read error: " + std::strerror(errno));
    throw lp::error(path_ + ": corrupt gzip data after line " + std::to_string(line_no_) + " (" + msg + ")");
  }

  struct closer {
    void operator()(gzFile f) const { gzclose(f); }
  };
  static constexpr unsigned chunk = 256 * 1024;
  std::string path_;
  std::unique_ptr<gzFile_s, closer> f_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::uint64_t line_no_ = 0;
};

// FILE.tmp, renamed to FILE by commit(); removed when the run fails.
class output {
 public:
  explicit output(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) throw lp::error(tmp_ + ": cannot write: " + std::strerror(errno));
  }
  ~output() {
    if (!committed_) {
      out_.close();
      std::error_code ec;
      std::filesystem::remove(tmp_, ec);
    }
  }
  std::ostream& stream() { return out_; }
  void commit() {
    out_.flush();
    out_.close();
    if (!out_) throw lp::error(tmp_ + ": write failed");
    std::filesystem::rename(tmp_, path_);
    committed_ = true;
  }

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

void write_string(std::ostream& o, std::string_view s) { o << json::serialize(json::string_view(s.data(), s.size())); }

int usage(std::string_view msg) {
  std::cerr << "linkplan: " << msg << "\n"
            << "usage: linkplan USERS.ndjson[.gz] --policy oldest|most-logins|prefer-connection:NAME\n"
               "                --out PAIRS.jsonl [--refused REFUSED.jsonl] [--summary]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string users, out_path, refused_path;
  std::optional<lp::policy> pol;
  bool summary = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw lp::error(std::string(a) + " needs a value");
        return argv[++i];
      };
      if (a == "--policy")
        pol = lp::parse_policy(value());
      else if (a == "--out")
        out_path = value();
      else if (a == "--refused")
        refused_path = value();
      else if (a == "--summary")
        summary = true;
      else if (a == "-h" || a == "--help")
        return usage("plans account links from a users export"), 0;
      else if (a.size() > 1 && a[0] == '-')
        return usage("unknown option " + std::string(a));
      else if (users.empty())
        users = a;
      else
        return usage("one export file only");
    }
  } catch (const lp::error& e) {
    return usage(e.what());
  }
  if (users.empty()) return usage("no export file given");
  if (!pol) return usage("--policy is required");
  if (out_path.empty()) return usage("--out is required");

  try {
    lp::planner planner(*pol);
    // Planner errors name the line; the file is named here.
    auto in_file = [&](auto&& step) {
      try {
        step();
      } catch (const lp::error& e) {
        throw lp::error(users + ": " + e.what());
      }
    };
    {
      line_reader r(users);
      try {
        while (auto line = r.next()) in_file([&] { planner.first_pass(*line, r.line_no()); });
      } catch (const lp::error&) {
        // Deflate has no checksum per block: corrupt data often shows first as a line that
        // is not JSON. The CRC at the end of the stream tells which it was.
        r.drain();
        throw;
      }
    }
    in_file([&] { planner.start_second_pass(); });

    output pairs(out_path);
    std::optional<output> refused;
    if (!refused_path.empty()) refused.emplace(refused_path);
    auto on_refused = [&](const lp::refusal& x) {
      if (!refused) return;
      auto& o = refused->stream();
      o << "{\"user_id\":";
      write_string(o, x.user_id);
      o << ",\"reason\":\"" << x.reason << "\",\"line\":" << x.line << "}\n";
    };
    auto on_pair = [&](const lp::pair& p) {
      auto& o = pairs.stream();
      o << "{\"primary_user_id\":";
      write_string(o, p.primary_user_id);
      o << ",\"secondary_user_id\":";
      write_string(o, p.secondary_user_id);
      o << "}\n";
    };
    {
      line_reader r(users);
      while (auto line = r.next()) in_file([&] { planner.second_pass(*line, r.line_no(), on_refused); });
    }
    lp::summary s;
    in_file([&] { s = planner.finish(on_pair, on_refused); });
    pairs.commit();
    if (refused) refused->commit();

    if (summary) {
      json::object by_reason;
      std::uint64_t total = 0;
      for (const auto& [reason, n] : s.refused) {
        by_reason[reason] = n;
        total += n;
      }
      std::cout << json::serialize(json::object{{"accounts", s.accounts},
                                                {"clusters", s.clusters},
                                                {"pairs", s.pairs},
                                                {"kept_primaries", s.kept_primaries},
                                                {"refused", total},
                                                {"refused_by_reason", std::move(by_reason)}})
                << "\n";
    }
    return 0;
  } catch (const lp::error& e) {
    std::cerr << "linkplan: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "linkplan: " << e.what() << "\n";
    return 2;
  }
}
