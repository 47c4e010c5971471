#include "emulator_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace a0::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

json::value http_result::json() const { return json::parse(body); }

std::string http_result::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string{} : it->second;
}

// ------------------------------------------------------------------ https_client

struct https_client::impl {
  std::string host;
  std::uint16_t port;
  asio::io_context ioc;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::unique_ptr<asio::ssl::stream<tcp::socket>> stream;
  beast::flat_buffer buf;

  impl(std::string h, std::uint16_t p, const std::string& ca) : host(std::move(h)), port(p) {
    tls.load_verify_file(ca);
    tls.set_verify_mode(asio::ssl::verify_peer);
  }

  void connect() {
    stream = std::make_unique<asio::ssl::stream<tcp::socket>>(ioc, tls);
    stream->set_verify_callback(asio::ssl::host_name_verification(host));
    tcp::endpoint ep(asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host), port);
    stream->next_layer().connect(ep);
    stream->next_layer().set_option(tcp::no_delay(true));
    if (host == "localhost") SSL_set_tlsext_host_name(stream->native_handle(), host.c_str());
    stream->handshake(asio::ssl::stream_base::client);
    buf.clear();
  }
};

https_client::https_client(std::string host, std::uint16_t port, std::string ca_file)
    : p_(std::make_unique<impl>(std::move(host), port, ca_file)) {}
https_client::~https_client() = default;
https_client::https_client(https_client&&) noexcept = default;
https_client& https_client::operator=(https_client&&) noexcept = default;

void https_client::close() {
  if (!p_->stream) return;
  boost::system::error_code ec;
  p_->stream->next_layer().close(ec);
  p_->stream.reset();
}

http_result https_client::request(std::string_view method, std::string_view target, std::string_view body,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  try {
    if (!p_->stream) p_->connect();
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, p_->host + ":" + std::to_string(p_->port));
    bool has_ct = false;
    for (auto& [k, v] : headers) {
      req.set(k, v);
      std::string lk = k;
      std::transform(lk.begin(), lk.end(), lk.begin(), [](unsigned char c) { return std::tolower(c); });
      has_ct = has_ct || lk == "content-type";
    }
    if (!body.empty() && !has_ct) req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
    req.keep_alive(true);
    req.prepare_payload();
    http::write(*p_->stream, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 30);
    http::read(*p_->stream, p_->buf, parser);
    auto& res = parser.get();
    http_result out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (auto& f : res) {
      std::string k(f.name_string());
      std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
      out.headers[k] = std::string(f.value());
    }
    if (!res.keep_alive()) close();
    return out;
  } catch (const std::exception& e) {
    close();
    throw std::runtime_error(std::string("https_client: ") + std::string(method) + " " + std::string(target) + ": " +
                             e.what());
  }
}

// ------------------------------------------------------------------ emulator

std::string emulator::default_executable() {
  // A0_EMULATOR_EXE runs the same tests against another build (e.g. an older one, to see
  // a new test fail there).
  if (const char* exe = std::getenv("A0_EMULATOR_EXE"); exe && *exe) return exe;
#ifdef A0_EMULATOR_PATH
  return A0_EMULATOR_PATH;
#else
  return "auth0-emulator";
#endif
}

std::string emulator::default_seed() {
#ifdef A0_EMULATOR_DEMO_SEED
  return A0_EMULATOR_DEMO_SEED;
#else
  return {};
#endif
}

emulator::emulator(std::string seed_file, std::vector<std::string> extra_args, std::string executable) {
  std::vector<std::string> args{executable, "--port", "0", "--exit-on-stdin-eof"};
  if (!seed_file.empty()) {
    args.emplace_back("--seed");
    args.push_back(seed_file);
  }
  for (auto& a : extra_args) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("emulator: pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
  const int rc = posix_spawn(&pid_, executable.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
  if (rc != 0) {
    ::close(stdin_fd_);
    ::close(stdout_fd_);
    throw std::runtime_error("emulator: cannot spawn " + executable);
  }
  // Read the one ready line (sanitizer builds start slowly: generous timeout).
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      terminate();
      throw std::runtime_error("emulator: no ready line within 30 s");
    }
    char buf[512];
    const auto n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) {
      terminate();
      throw std::runtime_error("emulator: exited before its ready line (bad seed or arguments?)");
    }
    line.append(buf, static_cast<std::size_t>(n));
  }
  auto ready = json::parse(line.substr(0, line.find('\n'))).as_object();
  port_ = static_cast<std::uint16_t>(ready.at("port").to_number<int>());
  ca_file_ = std::string(ready.at("ca_file").as_string());
  base_url_ = std::string(ready.at("base_url").as_string());
  control_ = std::make_unique<https_client>("127.0.0.1", port_, ca_file_);
}

emulator::~emulator() { terminate(); }

int emulator::terminate() {
  if (pid_ <= 0) return -1;
  control_.reset();
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 500; ++i) {  // up to 10 s, then force
    if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
    if (i == 499) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdin_fd_ = stdout_fd_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string emulator::domain() const { return "127.0.0.1:" + std::to_string(port_); }

https_client emulator::client() const { return https_client("127.0.0.1", port_, ca_file_); }

std::string emulator::token(const std::string& client_id, const std::string& client_secret) {
  json::object body{{"grant_type", "client_credentials"},
                    {"client_id", client_id},
                    {"client_secret", client_secret},
                    {"audience", "https://" + domain() + "/api/v2/"}};
  // No transport retry here: fault rules do apply to /oauth/token.
  auto r = send_control("POST", "/oauth/token", json::serialize(body), false);
  if (r.status != 200) throw std::runtime_error("emulator: token refused: " + r.body);
  return std::string(r.json().at("access_token").as_string());
}

http_result emulator::send_control(std::string_view method, const std::string& target, const std::string& body,
                                   bool retry) {
  std::lock_guard lock(control_mutex_);
  if (!retry) return control_->request(method, target, body);
  try {
    return control_->request(method, target, body);
  } catch (const std::runtime_error&) {
    // A kept-alive control connection may have idled out (server timeout): one fresh try.
    // Safe to repeat: faults never apply to the control API.
    return control_->request(method, target, body);
  }
}

http_result emulator::control(std::string_view method, std::string_view path, const json::value* body) {
  auto r =
      send_control(method, "/__emulator/" + std::string(path), body ? json::serialize(*body) : std::string{}, true);
  if (r.status / 100 != 2)
    throw std::runtime_error("emulator control " + std::string(method) + " " + std::string(path) + ": " + r.body);
  return r;
}

void emulator::reset() { control("POST", "reset"); }
void emulator::seed(const json::value& s) { control("POST", "seed", &s); }
json::object emulator::dump() { return control("GET", "state").json().as_object(); }
json::array emulator::request_log() { return control("GET", "log").json().as_array(); }
void emulator::clear_log() { control("DELETE", "log"); }
json::object emulator::counters() { return control("GET", "counters").json().as_object(); }
void emulator::reset_counters() { control("DELETE", "counters"); }
long emulator::add_fault(const json::object& rule) {
  json::value v = rule;
  return control("POST", "faults", &v).json().at("id").to_number<long>();
}
void emulator::remove_fault(long id) { control("DELETE", "faults/" + std::to_string(id)); }
void emulator::clear_faults() { control("DELETE", "faults"); }
void emulator::set_fault_random_seed(std::uint64_t seed) {
  json::value v = json::object{{"seed", seed}};
  control("PUT", "faults/random", &v);
}
void emulator::set_latency(long ms) {
  json::value v = json::object{{"ms", ms}};
  control("PUT", "latency", &v);
}
void emulator::set_bucket(const std::string& name, double burst, double per_second, const json::object& extra) {
  json::object o = extra;
  o["burst"] = burst;
  o["per_second"] = per_second;
  json::value v = std::move(o);
  control("PUT", "rate-limits/" + name, &v);
}
void emulator::remove_bucket(const std::string& name) { control("DELETE", "rate-limits/" + name); }
void emulator::set_token_lifetime(std::optional<long> seconds) {
  json::value v = json::object{{"seconds", seconds ? json::value(*seconds) : json::value(nullptr)}};
  control("PUT", "token-lifetime", &v);
}

void emulator::set_behaviour(const json::object& b) {
  const json::value v = b;
  control("PUT", "behaviour", &v);
}

std::string emulator::id_token(const json::object& request) {
  const json::value v = request;
  return std::string(control("POST", "id-token", &v).json().at("id_token").as_string());
}

}  // namespace a0::test
