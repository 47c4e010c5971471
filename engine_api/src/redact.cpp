#include <wfa/host/redact.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace wfa::host {

namespace {

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

void secret_leaves(const boost::json::value& v, std::vector<std::string>& out) {
  if (const auto* s = v.if_string()) {
    out.emplace_back(*s);
  } else if (const auto* a = v.if_array()) {
    for (const auto& e : *a) secret_leaves(e, out);
  } else if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) secret_leaves(kv.value(), out);
  } else if (v.is_number()) {
    out.push_back(boost::json::serialize(v));
  }
}

void redactor::insert(std::string_view secret) {
  if (secret.empty()) return;
  auto insert_one = [this](std::string s) {
    for (const auto& have : secrets_)
      if (have.text == s) return;
    bool whole_word = s.size() < short_secret;
    secrets_.push_back({std::move(s), whole_word});
  };
  insert_one(std::string(secret));
  // A secret inside serialised JSON appears escaped (quotes, backslashes, controls).
  std::string quoted = boost::json::serialize(boost::json::value(boost::json::string(secret)));
  std::string escaped = quoted.substr(1, quoted.size() - 2);
  if (escaped != secret) insert_one(std::move(escaped));
}

void redactor::longest_first() {
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const entry& a, const entry& b) { return a.text.size() > b.text.size(); });
}

void redactor::add(std::string_view secret) {
  insert(secret);
  longest_first();
}

void redactor::add(std::span<const std::string> secrets) {
  for (const auto& s : secrets) insert(s);
  longest_first();
}

std::string redactor::redact(std::string_view text) const {
  std::string out(text);
  for (const auto& s : secrets_) {
    std::size_t pos = 0;
    while ((pos = out.find(s.text, pos)) != std::string::npos) {
      const std::size_t end = pos + s.text.size();
      if (s.whole_word && ((pos > 0 && word_char(out[pos - 1])) || (end < out.size() && word_char(out[end])))) {
        ++pos;
        continue;
      }
      out.replace(pos, s.text.size(), secret_mask);
      pos += secret_mask.size();
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
