// auth0-emulator: a local HTTPS Auth0 tenant for tests, demos and benchmarks.
// Usage and the ready-line contract are in tests/emulator/README.md.
#include "server.hpp"
#include "tls.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

struct options {
  std::string seed, state_dir, cert, key, ca;
  unsigned port = 0;
  long token_lifetime = -1, generate = 0, latency = 0, idle = 120;
  bool exit_on_eof = false;
};

[[noreturn]] void usage(const std::string& err) {
  std::cerr << "auth0-emulator: " << err << "\n"
            << "usage: auth0-emulator [--seed FILE] [--port N] [--state-dir DIR]\n"
               "         [--cert PEM --key PEM --ca PEM] [--token-lifetime S]\n"
               "         [--generate-users N] [--latency MS] [--idle-timeout S] [--exit-on-stdin-eof]\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> long {
      const auto v = value();
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) usage(a + ": not a non-negative number: " + v);
      return n;
    };
    if (a == "--seed")
      o.seed = value();
    else if (a == "--port") {
      const long p = number();
      if (p > 65535) usage("--port out of range");
      o.port = static_cast<unsigned>(p);
    } else if (a == "--state-dir")
      o.state_dir = value();
    else if (a == "--cert")
      o.cert = value();
    else if (a == "--key")
      o.key = value();
    else if (a == "--ca")
      o.ca = value();
    else if (a == "--token-lifetime")
      o.token_lifetime = number();
    else if (a == "--generate-users")
      o.generate = number();
    else if (a == "--latency")
      o.latency = number();
    else if (a == "--idle-timeout")
      o.idle = number();
    else if (a == "--exit-on-stdin-eof")
      o.exit_on_eof = true;
    else if (a == "--help" || a == "-h")
      usage("help");
    else
      usage("unknown argument " + a);
  }
  if ((o.cert.empty() != o.key.empty()) || (!o.cert.empty() && o.ca.empty()))
    usage("--cert, --key and --ca go together");
  return o;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The --seed file as a JSON object; the error names the file and what is wrong.
json::value load_seed_file(const std::string& path) {
  boost::system::error_code ec;
  auto v = json::parse(read_file(path), ec);
  if (ec) throw std::runtime_error("--seed " + path + ": not valid JSON: " + ec.message());
  if (!v.is_object()) throw std::runtime_error("--seed " + path + ": seed must be a JSON object");
  return v;
}

}  // namespace

int main(int argc, char** argv) try {
  const auto opt = parse(argc, argv);
  json::value seed =
      opt.seed.empty() ? json::value(json::object{{"domain", "emulator.local"}}) : load_seed_file(opt.seed);
  if (opt.generate > 0) emu::generate_pairs(seed.get_object(), static_cast<std::size_t>(opt.generate));
  auto state = [&]() -> emu::emulator_state {
    try {
      return emu::emulator_state(seed);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("--seed " + (opt.seed.empty() ? std::string("(built-in)") : opt.seed) + ": " + e.what());
    }
  }();
  if (opt.token_lifetime >= 0) state.api.set_token_lifetime(opt.token_lifetime);
  state.global_latency_ms = opt.latency;

  asio::ssl::context tls(asio::ssl::context::tls_server);
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  std::string ca_file;
  std::filesystem::path owned_dir;  // a temp dir we made: removed again on a clean exit
  if (!opt.cert.empty()) {
    tls.use_certificate_chain_file(opt.cert);
    tls.use_private_key_file(opt.key, asio::ssl::context::pem);
    ca_file = std::filesystem::absolute(opt.ca).string();
  } else {
    const auto pki = emu::make_pki();
    tls.use_certificate_chain(asio::buffer(pki.server_cert));
    tls.use_private_key(asio::buffer(pki.server_key), asio::ssl::context::pem);
    std::filesystem::path dir = opt.state_dir;
    if (dir.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "auth0-emulator-XXXXXX").string();
      if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
      dir = tmpl;
      owned_dir = dir;
    }
    std::filesystem::create_directories(dir);
    const auto path = std::filesystem::absolute(dir / "ca.pem");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << pki.ca_cert;
    ca_file = path.string();
  }

  asio::io_context ioc(1);
  const auto port =
      emu::start_server(ioc, tls, state, static_cast<std::uint16_t>(opt.port), std::chrono::seconds(opt.idle));
  state.api.set_listen_port(port);  // its own API audiences are https://{127.0.0.1,localhost}:PORT/api/v2/
  const auto storage_port = emu::start_storage_server(ioc, tls, state);
  state.api.set_storage_port(storage_port);  // where completed users exports are downloaded

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { ioc.stop(); });
  asio::posix::stream_descriptor in(ioc);
  std::array<char, 256> inbuf{};
  std::function<void(boost::system::error_code, std::size_t)> on_read;
  if (opt.exit_on_eof) {
    in.assign(::dup(STDIN_FILENO));
    on_read = [&](boost::system::error_code ec, std::size_t) {
      if (ec) {
        ioc.stop();  // parent gone or closed our stdin: do not outlive it
        return;
      }
      in.async_read_some(asio::buffer(inbuf), on_read);
    };
    in.async_read_some(asio::buffer(inbuf), on_read);
  }

  const json::object ready{{"port", port},
                           {"ca_file", ca_file},
                           {"base_url", "https://127.0.0.1:" + std::to_string(port)},
                           {"storage_url", "https://127.0.0.1:" + std::to_string(storage_port)}};
  std::cout << json::serialize(ready) << std::endl;
  ioc.run();
  if (!owned_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(owned_dir, ec);
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "auth0-emulator: " << e.what() << "\n";
  return 1;
}
