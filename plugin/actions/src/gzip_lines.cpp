#include "actions/gzip_lines.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace a0::actions {

struct gzip_line_counter::state {
  z_stream z{};
  bool ended = false;  // the last member's trailer was read
  bool any = false;    // some compressed byte came
  bool last_newline = true;
  std::uint64_t lines = 0, in_total = 0;
  std::array<unsigned char, 64 * 1024> out{};

  // One inflate call into `out`, its newlines counted; returns zlib's code and how many
  // bytes it produced.
  std::pair<int, std::size_t> step() {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const uInt before = z.avail_in;
    const int rc = inflate(&z, Z_NO_FLUSH);
    in_total += before - z.avail_in;
    const std::size_t produced = out.size() - z.avail_out;
    if (produced) {
      lines += static_cast<std::uint64_t>(std::count(out.data(), out.data() + produced, '\n'));
      last_newline = out[produced - 1] == '\n';
    }
    return {rc, produced};
  }
};

gzip_line_counter::gzip_line_counter() : s_(std::make_unique<state>()) {
  // 15 + 16: gzip framing only (a zlib or raw deflate stream is not an export file).
  if (inflateInit2(&s_->z, 15 + 16) != Z_OK) throw gzip_error("cannot start zlib's inflate");
}

gzip_line_counter::~gzip_line_counter() { inflateEnd(&s_->z); }

void gzip_line_counter::feed(std::string_view in) {
  auto& s = *s_;
  auto& z = s.z;
  if (!in.empty()) s.any = true;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (z.avail_in == 0) return;
    if (s.ended) {  // another member follows
      inflateReset(&z);
      s.ended = false;
    }
    const auto [rc, produced] = s.step();
    if (rc == Z_STREAM_END) {
      s.ended = true;
      continue;
    }
    if (rc == Z_OK || (rc == Z_BUF_ERROR && produced)) continue;
    const std::string why = z.msg ? z.msg : "zlib error " + std::to_string(rc);
    throw gzip_error("the export file is not valid gzip (" + why + ") near compressed byte " +
                     std::to_string(s.in_total));
  }
}

std::uint64_t gzip_line_counter::finish() {
  auto& s = *s_;
  if (!s.any) throw gzip_error("the export file is empty (no gzip data)");
  // inflate may still hold output for a full buffer: drain it before judging the end.
  while (!s.ended) {
    const auto [rc, produced] = s.step();
    if (rc == Z_STREAM_END) {
      s.ended = true;
      break;
    }
    if (!produced)
      throw gzip_error("the export file is truncated: the gzip stream stops after " + std::to_string(s.in_total) +
                       " compressed bytes, before its end");
  }
  return s.lines + (s.last_newline ? 0 : 1);
}

}  // namespace a0::actions
