#include <wfa/host/redact.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace wfa::host {

void redactor::add(std::string_view secret) {
  if (secret.empty()) return;
  auto insert = [this](std::string s) {
    if (std::find(secrets_.begin(), secrets_.end(), s) != secrets_.end()) return;
    secrets_.push_back(std::move(s));
  };
  insert(std::string(secret));
  // A secret inside serialised JSON appears escaped (quotes, backslashes, controls).
  std::string quoted = boost::json::serialize(boost::json::value(boost::json::string(secret)));
  std::string escaped = quoted.substr(1, quoted.size() - 2);
  if (escaped != secret) insert(std::move(escaped));
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string redactor::redact(std::string_view text) const {
  std::string out(text);
  for (const auto& s : secrets_) {
    std::size_t pos = 0;
    while ((pos = out.find(s, pos)) != std::string::npos) {
      out.replace(pos, s.size(), "***");
      pos += 3;
    }
  }
  return out;
}

void redactor::redact(boost::json::value& v) const {
  if (secrets_.empty()) return;
  if (auto* s = v.if_string()) {
    std::string r = redact(std::string_view(*s));
    if (r.size() != s->size() || r != std::string_view(*s)) *s = r;
  } else if (auto* a = v.if_array()) {
    for (auto& e : *a) redact(e);
  } else if (auto* o = v.if_object()) {
    boost::json::object out;
    out.reserve(o->size());
    for (auto& kv : *o) {
      boost::json::value child = std::move(kv.value());
      redact(child);
      out[redact(std::string_view(kv.key()))] = std::move(child);
    }
    *o = std::move(out);
  }
}

}  // namespace wfa::host
