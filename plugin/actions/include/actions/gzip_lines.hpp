// Counts the lines of a gzipped text as its compressed bytes arrive, inflating into a
// fixed buffer that is never kept: a users export of gigabytes is checked and counted in
// constant memory while it is written to disk.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace a0::actions {

/// Corrupt or truncated gzip data (the message says which and where).
class gzip_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class gzip_line_counter {
 public:
  gzip_line_counter();
  ~gzip_line_counter();
  gzip_line_counter(const gzip_line_counter&) = delete;
  gzip_line_counter& operator=(const gzip_line_counter&) = delete;

  /// The next compressed bytes; throws gzip_error on data that is not gzip. Members
  /// written one after another (RFC 1952 allows it) are read as one stream.
  void feed(std::string_view compressed);
  /// At the end of the input: the number of lines (a last line without its newline
  /// counts). Throws gzip_error when the input is empty or stops inside a member (its
  /// CRC and length trailer are checked by zlib).
  std::uint64_t finish();

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace a0::actions
