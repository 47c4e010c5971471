// A streamed HTTPS GET of one absolute URL on any host (a pre-signed storage URL, say):
// one fresh verified TLS connection, no pool, no Authorization header, the body handed
// to a sink in chunks as it arrives, never held whole. For files far larger than an API
// answer (a users export is gigabytes): no 8 MB limit, only an optional cap.
//
// The URL's query may be a credential (a pre-signed URL's signature): redact_url() is
// what may be logged or put in a message.
#pragma once

#include "http/tls_pool.hpp"  // failure

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace a0::http {

/// Where an absolute https URL points.
struct https_url {
  std::string host;         ///< name or IP literal (no brackets): connect, SNI (names only), verification
  std::string port;         ///< "443" when the URL has none
  std::string target;       ///< path and query as sent ("/" when empty)
  std::string host_header;  ///< authority without userinfo, as the Host header
  std::string redacted;     ///< scheme://authority/path: the query (a credential) left out
};

/// Parses an absolute URL; throws std::invalid_argument naming what is wrong: a scheme
/// other than https, userinfo, no host, a fragment, or control characters.
https_url parse_https_url(std::string_view url);

/// The URL without its query and fragment (for logs and messages); "(unparseable URL)"
/// when it is none.
std::string redact_url(std::string_view url);

struct download_options {
  std::string ca_file;                               ///< extra PEM trust anchors (optional), added to the system store
  std::chrono::milliseconds connect_timeout{10000};  ///< resolve + TCP connect + TLS handshake
  /// No byte for this long (sending the request, or between two reads) fails the
  /// download; a large body takes as long as it flows.
  std::chrono::milliseconds idle_timeout{10000};
  std::string user_agent;
  std::uint64_t max_bytes = 0;  ///< 0: no cap on the body
};

/// What a download came to. The sink saw the body of a 2xx answer only.
struct download_result {
  failure kind = failure::none;
  boost::system::error_code ec;
  unsigned status = 0;      ///< the answer's status, once its header was read
  std::uint64_t bytes = 0;  ///< body bytes handed to the sink
  std::string error_body;   ///< the first 4 KiB of a non-2xx answer's body
};

/// Receives the body in order, chunk by chunk; it may throw to stop the download (the
/// exception leaves stream_get as it is).
using chunk_sink = std::function<void(std::string_view chunk)>;

/// GET url.target from url.host:url.port. Never throws for transport failures (they are
/// in the result); cancellation of the awaiting coroutine ends it at once (failure::cancelled).
boost::asio::awaitable<download_result> stream_get(const https_url& url, const download_options& opts,
                                                   const chunk_sink& sink);

}  // namespace a0::http
