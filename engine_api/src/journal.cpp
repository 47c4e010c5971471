#include <wfa/host/journal.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace json = boost::json;

namespace wfa::host {
namespace {

// GCC and clang have a 128-bit integer; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 u128;

// FNV-1a, 128-bit (offset basis and prime from the FNV specification).
class fnv128 {
 public:
  void add(std::string_view s) noexcept {
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= prime_;
    }
  }
  std::string hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(32, '0');
    u128 v = h_;
    for (int i = 31; i >= 0; --i) {
      out[static_cast<std::size_t>(i)] = digits[static_cast<unsigned>(v & 0xf)];
      v >>= 4;
    }
    return out;
  }

 private:
  static constexpr u128 prime_ = (static_cast<u128>(1) << 88) + 0x13b;
  u128 h_ = (static_cast<u128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
};

void canonical(const json::value& v, fnv128& h);

// An object's canonical form: members sorted by key (fed to the hash piece by piece,
// never materialised whole).
void canonical(const json::object& o, fnv128& h) {
  std::vector<const json::key_value_pair*> members;
  members.reserve(o.size());
  for (const auto& kv : o) members.push_back(&kv);
  std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) { return a->key() < b->key(); });
  h.add("{");
  bool first = true;
  for (const auto* kv : members) {
    if (!first) h.add(",");
    first = false;
    h.add(json::serialize(json::string_view(kv->key())));
    h.add(":");
    canonical(kv->value(), h);
  }
  h.add("}");
}

void canonical(const json::value& v, fnv128& h) {
  switch (v.kind()) {
    case json::kind::object: canonical(v.get_object(), h); return;
    case json::kind::array: {
      h.add("[");
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) h.add(",");
        first = false;
        canonical(e, h);
      }
      h.add("]");
      return;
    }
    default: h.add(json::serialize(v));
  }
}

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

std::string value_key(const json::value& v) {
  fnv128 h;
  canonical(v, h);
  return h.hex();
}

std::string row_key(const json::object& inputs) {
  fnv128 h;
  canonical(inputs, h);  // not copied into a json::value: this runs once per row
  return h.hex();
}

bool journal::parse_key(std::string_view hex, key128& out) {
  if (hex.size() != 32) return false;
  std::uint64_t parts[2] = {0, 0};
  for (std::size_t i = 0; i < 32; ++i) {
    char c = hex[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else
      return false;
    parts[i / 16] = (parts[i / 16] << 4) | d;
  }
  out = {parts[0], parts[1]};
  return true;
}

journal::journal(const std::string& path, std::string_view flow_digest, options opts) : path_(path), opts_(opts) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) throw journal_error("journal " + path + ": cannot open: " + errno_text(errno));
  try {
    // Read the whole file in blocks; keep only the keys.
    std::string buf;
    std::string chunk(1 << 16, '\0');
    off_t offset = 0;
    off_t good_end = 0;  // end of the last complete line
    std::size_t number = 0;
    bool header_seen = false;
    auto fail = [&](std::size_t n, const std::string& what) {
      throw journal_error("journal " + path + ":" + std::to_string(n) + ": " + what);
    };
    auto take_line = [&](std::string_view text) {
      ++number;
      json::error_code ec;
      json::value v = json::parse(text, ec);
      if (!header_seen) {
        const json::object* o = ec ? nullptr : v.if_object();
        const json::value* version = o ? o->if_contains("wfa_journal") : nullptr;
        const json::value* flow = o ? o->if_contains("flow") : nullptr;
        if (!version || !flow || !flow->is_string())
          fail(number, "not a flowrun journal (its first line has no \"wfa_journal\" header); use another file");
        if (!version->is_int64() || version->get_int64() != 1)
          fail(number, "journal format " + json::serialize(*version) + " is not 1 (written by another version)");
        if (flow->get_string() != flow_digest)
          fail(number, "this journal belongs to another flow (digest " + std::string(flow->get_string()) +
                           ", this flow's is " + std::string(flow_digest) +
                           "): refusing to resume; use another --journal file, or remove this one to start over");
        header_seen = true;
        return;
      }
      const json::object* o = ec ? nullptr : v.if_object();
      const json::value* key = o ? o->if_contains("key") : nullptr;
      const json::value* ok = o ? o->if_contains("ok") : nullptr;
      key128 k;
      if (!key || !key->is_string() || !parse_key(key->get_string(), k) || !ok || !ok->is_bool())
        fail(number, "unreadable journal line (not {\"key\":<32 hex>,\"ok\":<bool>,...}); refusing to resume");
      (ok->get_bool() ? ok_ : failed_).push_back(k);
    };
    for (;;) {
      ssize_t n = ::pread(fd_, chunk.data(), chunk.size(), offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw journal_error("journal " + path + ": cannot read: " + errno_text(errno));
      }
      if (n == 0) break;
      offset += n;
      buf.append(chunk.data(), static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
        take_line(std::string_view(buf).substr(start, nl - start));
        good_end += static_cast<off_t>(nl - start + 1);
      }
      buf.erase(0, start);
    }
    if (!buf.empty()) {
      // A torn last line: the process or machine died inside its write. Its row has no
      // result here, so it runs again; cut it so the next line starts clean.
      if (::ftruncate(fd_, good_end) != 0)
        throw journal_error("journal " + path + ": cannot cut its torn last line: " + errno_text(errno));
      counts_.torn_tail_cut = true;
    }
    // Distinct rows; a row that failed and later succeeded (retried) counts as ok.
    std::sort(ok_.begin(), ok_.end());
    ok_.erase(std::unique(ok_.begin(), ok_.end()), ok_.end());
    std::sort(failed_.begin(), failed_.end());
    failed_.erase(std::unique(failed_.begin(), failed_.end()), failed_.end());
    std::vector<key128> failed_only;
    std::set_difference(failed_.begin(), failed_.end(), ok_.begin(), ok_.end(), std::back_inserter(failed_only));
    failed_ = std::move(failed_only);
    counts_.ok = ok_.size();
    counts_.failed = failed_.size();
    if (!header_seen) {
      std::string header = json::serialize(json::object{{"wfa_journal", 1}, {"flow", flow_digest}}) + "\n";
      if (::write(fd_, header.data(), header.size()) != static_cast<ssize_t>(header.size()))
        throw journal_error("journal " + path + ": cannot write: " + errno_text(errno));
      if (::fdatasync(fd_) != 0) throw journal_error("journal " + path + ": cannot sync: " + errno_text(errno));
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
  last_sync_ = std::chrono::steady_clock::now();
}

journal::~journal() {
  if (fd_ >= 0) {
    if (dirty_) ::fdatasync(fd_);
    ::close(fd_);
  }
}

journal::status journal::lookup(std::string_view key) const {
  key128 k;
  if (!parse_key(key, k)) return status::none;
  // A row that failed and then, retried, succeeded has both lines: ok wins.
  if (std::binary_search(ok_.begin(), ok_.end(), k)) return status::ok;  // failed_ holds no ok key
  if (std::binary_search(failed_.begin(), failed_.end(), k)) return status::failed;
  return status::none;
}

bool journal::finished(std::string_view key) const {
  status s = lookup(key);
  return s == status::ok || (s == status::failed && !opts_.retry_failed);
}

void journal::record(std::string_view key, bool ok, std::string_view result_line) {
  while (!result_line.empty() && result_line.back() == '\n') result_line.remove_suffix(1);
  std::string line;
  line.reserve(result_line.size() + 64);
  line += "{\"key\":\"";
  line += key;
  line += ok ? "\",\"ok\":true,\"result\":" : "\",\"ok\":false,\"result\":";
  line += result_line.empty() ? std::string_view("null") : result_line;
  line += "}\n";
  std::lock_guard lock(mu_);
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw journal_error("journal " + path_ + ": cannot write: " + errno_text(errno) +
                          " (stop now: rows finished after this would run again on resume)");
    }
    done += static_cast<std::size_t>(n);
  }
  dirty_ = true;
  auto now = std::chrono::steady_clock::now();
  if (now - last_sync_ >= opts_.sync_interval) {
    ::fdatasync(fd_);
    dirty_ = false;
    last_sync_ = now;
  }
}

void journal::sync() {
  std::lock_guard lock(mu_);
  if (::fdatasync(fd_) != 0) throw journal_error("journal " + path_ + ": cannot sync: " + errno_text(errno));
  dirty_ = false;
  last_sync_ = std::chrono::steady_clock::now();
}

}  // namespace wfa::host
