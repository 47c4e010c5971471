#include "http/percent_encoding.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace a0::http {

// Boost.URL's encoder with RFC 3986's unreserved set: every other byte becomes %XX with
// upper-case hex (encoding_opts' defaults: no '+' for space, no lower-case hex).
std::string pct_encode(std::string_view raw) {
  return boost::urls::encode(boost::urls::string_view(raw.data(), raw.size()), boost::urls::unreserved_chars);
}

}  // namespace a0::http
