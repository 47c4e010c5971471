// The HTTPS front: accepts TLS connections on 127.0.0.1, applies latency and fault
// rules with async timers (never blocking other connections), rate limits, then
// hands the request to the tenant or the control API.
#pragma once

#include "control.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>

namespace emu {

/// Binds 127.0.0.1:port (0 = any free port) and starts accepting on `ioc`.
/// Returns the bound port. `state` and `tls` must outlive the io_context run.
/// A kept-alive connection idle for `idle_timeout` is closed.
std::uint16_t start_server(boost::asio::io_context& ioc, boost::asio::ssl::context& tls, emulator_state& state,
                           std::uint16_t port, std::chrono::seconds idle_timeout = std::chrono::seconds(120));

/// The storage host of completed exports (tenant::storage), on its own port: another
/// origin than the tenant, as a pre-signed URL is. No faults, latency or rate limits.
std::uint16_t start_storage_server(boost::asio::io_context& ioc, boost::asio::ssl::context& tls, emulator_state& state);

}  // namespace emu
