// The tenant's users export jobs (POST /api/v2/jobs/users-exports, GET /api/v2/jobs/{id})
// and the storage host that serves a completed export at its pre-signed URL.
//
// As Auth0 documents them (docs/auth0-api.md, "Users export job"): a job moves pending ->
// processing (percentage_done, time_left_seconds) -> completed (location) or failed; the
// file is gzipped NDJSON, one user a line, with the requested fields (paths such as
// identities[0].connection, renamed by export_as); the location is on another host, expires,
// and that host refuses a request that also carries an Authorization header (storage
// services refuse two authentication mechanisms; the Management token must not leave the
// tenant anyway).
#include "tenant.hpp"

#include "util.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace emu {
namespace json = boost::json;

namespace {

// One path of a `fields` entry: "email", "user_metadata.country", "identities[0].connection".
const json::value* at_path(const json::object& user, std::string_view path) {
  const json::value* cur = nullptr;
  const json::object* obj = &user;
  while (!path.empty()) {
    const auto dot = path.find('.');
    std::string_view part = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    std::optional<std::size_t> index;
    if (const auto br = part.find('['); br != std::string_view::npos && part.back() == ']') {
      std::size_t i = 0;
      const auto digits = part.substr(br + 1, part.size() - br - 2);
      if (std::from_chars(digits.data(), digits.data() + digits.size(), i).ec != std::errc{}) return nullptr;
      index = i;
      part = part.substr(0, br);
    }
    if (!obj) return nullptr;
    cur = obj->if_contains(part);
    if (!cur) return nullptr;
    if (index) {
      if (!cur->is_array() || *index >= cur->get_array().size()) return nullptr;
      cur = &cur->get_array()[*index];
    }
    obj = cur->is_object() ? &cur->get_object() : nullptr;
  }
  return cur;
}

// gzip (RFC 1952) of `text`, in one deflate run.
std::string gzip(const std::string& text) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

bool has(const std::vector<std::string>& scopes, std::string_view s) {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}

long long epoch_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The predefined set Auth0 exports when no `fields` are given (its docs list the exact set
// per format; this stand-in exports these).
const char* const k_default_fields[] = {"user_id",      "email",      "email_verified", "name",
                                        "nickname",     "created_at", "updated_at",     "last_login",
                                        "logins_count", "identities", "blocked"};

}  // namespace

void tenant::set_export_behaviour(const json::object& cfg) {
  if (const auto* d = cfg.if_contains("duration_ms")) {
    if (!d->is_int64() || d->get_int64() < 0) throw std::invalid_argument("duration_ms must be an integer >= 0");
    exports_.duration_ms = d->get_int64();
  }
  if (const auto* t = cfg.if_contains("url_ttl_s")) {
    if (!t->is_int64()) throw std::invalid_argument("url_ttl_s must be an integer");
    exports_.url_ttl_s = t->get_int64();
  }
  if (const auto* f = cfg.if_contains("fail_next")) {
    if (!f->is_bool()) throw std::invalid_argument("fail_next must be a boolean");
    exports_.fail_next = f->get_bool();
  }
  if (const auto* c = cfg.if_contains("corrupt_next")) {
    if (!c->is_null() && !(c->is_string() && (c->get_string() == "truncate" || c->get_string() == "garbage")))
      throw std::invalid_argument("corrupt_next must be \"truncate\", \"garbage\" or null");
    exports_.corrupt_next = c->is_null() ? std::string() : std::string(c->get_string());
  }
  if (const auto* d = cfg.if_contains("download_stall_ms")) {
    if (!d->is_int64() || d->get_int64() < 0) throw std::invalid_argument("download_stall_ms must be an integer >= 0");
    exports_.download_stall_ms = d->get_int64();
  }
}

response tenant::jobs_route(const request& req, const std::vector<std::string>& segs,
                            const std::vector<std::string>& scopes) {
  if (segs.size() == 4 && segs[3] == "users-exports" && req.method == "POST") {
    if (!has(scopes, "read:users"))
      return mgmt_error(403, "Insufficient scope, expected any of: read:users", "insufficient_scope");
    return create_export(req);
  }
  if (segs.size() == 4 && req.method == "GET") {
    if (!has(scopes, "read:users") && !has(scopes, "create:users"))
      return mgmt_error(403, "Insufficient scope, expected any of: create:users,read:users", "insufficient_scope");
    return get_job(segs[3]);
  }
  return mgmt_error(404, "Not Found");
}

response tenant::create_export(const request& req) {
  boost::system::error_code ec;
  auto body = json::parse(req.body, ec);
  if (ec || !body.is_object()) return mgmt_error(400, "Payload validation error: 'Invalid JSON'", "invalid_body");
  const auto& b = body.get_object();
  export_job job;
  job.format = "json";
  if (const auto* f = b.if_contains("format")) {
    if (!f->is_string() || (f->get_string() != "json" && f->get_string() != "csv"))
      return mgmt_error(
          400, "Payload validation error: 'No enum match for: " + json::serialize(*f) + "' on property format.",
          "invalid_body");
    job.format = std::string(f->get_string());
    if (job.format == "csv")  // the stand-in writes JSON only
      return mgmt_error(501, "auth0-emulator: format csv is not emulated; use json");
  }
  if (const auto* c = b.if_contains("connection_id")) {
    if (!c->is_string())
      return mgmt_error(400, "Payload validation error: 'Expected type string' on property connection_id.",
                        "invalid_body");
    const auto it = std::find_if(connections_.begin(), connections_.end(), [&](const json::object& con) {
      const auto* id = con.if_contains("id");
      return id && id->is_string() && id->get_string() == c->get_string();
    });
    if (it == connections_.end()) return mgmt_error(400, "The connection does not exist", "invalid_body");
    job.connection_id = std::string(c->get_string());
    job.connection = std::string(it->at("name").as_string());
  }
  if (const auto* l = b.if_contains("limit")) {
    if (!l->is_int64() || l->get_int64() < 1)
      return mgmt_error(400, "Payload validation error: 'limit' must be a positive integer.", "invalid_body");
    job.limit = l->get_int64();
  }
  if (const auto* f = b.if_contains("fields")) {
    if (!f->is_array())
      return mgmt_error(400, "Payload validation error: 'Expected type array' on property fields.", "invalid_body");
    for (const auto& e : f->get_array()) {
      const auto* name = e.is_object() ? e.get_object().if_contains("name") : nullptr;
      if (!name || !name->is_string() || name->get_string().empty())
        return mgmt_error(400, "Payload validation error: 'Missing required property: name' on property fields.",
                          "invalid_body");
      std::string as(name->get_string());
      if (const auto* x = e.get_object().if_contains("export_as"); x && x->is_string())
        as = std::string(x->get_string());
      job.fields.emplace_back(std::string(name->get_string()), as);
    }
  }
  if (job.fields.empty())
    for (const char* f : k_default_fields) job.fields.emplace_back(f, f);
  job.id = "job_" + new_id(16, false);
  job.created_at = now_iso();
  job.started = std::chrono::steady_clock::now();
  job.fail = exports_.fail_next;
  exports_.fail_next = false;
  job.corrupt = std::move(exports_.corrupt_next);
  exports_.corrupt_next.clear();
  auto answer = job_json(job, "pending");
  jobs_.emplace(job.id, std::move(job));
  return json_response(201, answer);
}

json::object tenant::job_json(const export_job& job, std::string_view status) const {
  json::array fields;
  for (const auto& [name, as] : job.fields) {
    json::object f{{"name", name}};
    if (as != name) f["export_as"] = as;
    fields.push_back(std::move(f));
  }
  json::object o{{"type", "users_export"},       {"status", status},
                 {"format", job.format},         {"fields", std::move(fields)},
                 {"created_at", job.created_at}, {"id", job.id}};
  if (job.limit) o["limit"] = job.limit;
  if (!job.connection_id.empty()) {
    o["connection_id"] = job.connection_id;
    o["connection"] = job.connection;
  }
  return o;
}

response tenant::get_job(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return mgmt_error(404, "The job does not exist.", "inexistent_job");
  auto& job = it->second;
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - job.started).count();
  const long long total = std::max<long long>(exports_.duration_ms, 1);
  if (elapsed < total / 4) return json_response(200, job_json(job, "pending"));
  if (elapsed < total) {
    auto o = job_json(job, "processing");
    o["percentage_done"] = elapsed * 100 / total;
    o["time_left_seconds"] = (total - elapsed + 999) / 1000;
    return json_response(200, o);
  }
  if (job.fail) return json_response(200, job_json(job, "failed"));
  if (job.file.empty()) {
    // Written once, when the job completes: the users as they are now.
    std::string ndjson;
    long long n = 0;
    for (const auto& [uid, user] : users_) {
      if (job.limit && n >= job.limit) break;
      if (!job.connection_id.empty()) {
        const auto* c = at_path(user, "identities[0].connection");
        if (!c || !c->is_string() || c->get_string() != job.connection) continue;
      }
      json::object line;
      for (const auto& [name, as] : job.fields)
        if (const auto* v = at_path(user, name)) line[as] = *v;
      ndjson += json::serialize(line);
      ndjson += '\n';
      ++n;
    }
    job.file = gzip(ndjson);
    // Test knobs: a file cut before its gzip trailer, or with its deflate data damaged
    // (the CRC can no longer match; the header stays valid gzip).
    if (job.corrupt == "truncate") job.file.resize(job.file.size() - std::min<std::size_t>(job.file.size() / 2, 12));
    if (job.corrupt == "garbage")
      for (std::size_t i = 10; i < job.file.size() - 8; i += 3) job.file[i] = static_cast<char>(job.file[i] ^ 0x5a);
    job.expires = epoch_now() + exports_.url_ttl_s;
    job.signature = sign(job.id + "." + std::to_string(job.expires));
  }
  auto o = job_json(job, "completed");
  o["location"] = "https://127.0.0.1:" + std::to_string(storage_port_) + "/exports/" + job.id +
                  ".json.gz?expires=" + std::to_string(job.expires) + "&signature=" + job.signature;
  return json_response(200, o);
}

response tenant::storage(const request& req) {
  // An XML body, as object stores answer.
  auto refuse = [](unsigned status, std::string_view code, std::string_view message) {
    response r;
    r.status = status;
    r.content_type = "application/xml";
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) + "</Code><Message>" +
             std::string(message) + "</Message></Error>";
    return r;
  };
  if (req.method != "GET")
    return refuse(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  if (!req.authorization.empty())
    return refuse(400, "InvalidArgument",
                  "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
                  "parameter or the Authorization header should be specified");
  const auto q = req.target.find('?');
  const std::string path = req.target.substr(0, q);
  const std::string query = q == std::string::npos ? std::string{} : req.target.substr(q + 1);
  constexpr std::string_view prefix = "/exports/", suffix = ".json.gz";
  if (path.rfind(prefix, 0) != 0 || path.size() <= prefix.size() + suffix.size() ||
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
    return refuse(404, "NoSuchKey", "The specified key does not exist.");
  const auto id = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  const auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.file.empty())
    return refuse(404, "NoSuchKey", "The specified key does not exist.");
  const auto& job = it->second;
  if (query != "expires=" + std::to_string(job.expires) + "&signature=" + job.signature)
    return refuse(403, "SignatureDoesNotMatch",
                  "The request signature we calculated does not match the signature you provided.");
  if (epoch_now() > job.expires) return refuse(403, "AccessDenied", "Request has expired");
  response r;
  r.content_type = "application/gzip";
  r.body = job.file;
  return r;
}

}  // namespace emu
