#include <wfa/host/redact.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace wfa::host {

namespace {

bool word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// RFC 3986 percent-encoding: unreserved bytes stay, every other byte is %XX. `plus`:
// a space is '+' (application/x-www-form-urlencoded, as in a token request's body).
std::string percent_encode(std::string_view s, bool plus, bool lower_hex) {
  const char* hex = lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (word_char(static_cast<char>(c)) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (plus && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string base64(std::string_view s) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
    out += {digits[v >> 18], digits[(v >> 12) & 63], digits[(v >> 6) & 63], digits[v & 63]};
  }
  if (i + 1 == s.size()) {
    unsigned v = (unsigned char)s[i] << 16;
    out += {digits[v >> 18], digits[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == s.size()) {
    unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
    out += {digits[v >> 18], digits[(v >> 12) & 63], digits[(v >> 6) & 63], '='};
  }
  return out;
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
  // A secret inside serialised JSON appears escaped (quotes, backslashes, controls);
  // some serialisers also write '/' as "\/".
  std::string quoted = boost::json::serialize(boost::json::value(boost::json::string(secret)));
  std::string escaped = quoted.substr(1, quoted.size() - 2);
  if (escaped != secret) insert_one(escaped);
  if (escaped.find('/') != std::string::npos) {
    std::string slashes;
    for (char c : escaped) slashes += c == '/' ? std::string("\\/") : std::string(1, c);
    insert_one(std::move(slashes));
  }
  // A server that reflects a request shows it encoded: a form body or a query
  // (percent-encoding, space as %20 or '+', upper- or lower-case hex).
  for (bool plus : {false, true})
    for (bool lower : {false, true}) {
      std::string enc = percent_encode(secret, plus, lower);
      if (enc != secret) insert_one(std::move(enc));
    }
}

void redactor::add_basic_credentials(std::string_view user, std::string_view password) {
  if (password.empty()) return;
  // RFC 7617 sends base64(user ":" password); RFC 6749 (2.3.1) form-encodes both first.
  insert(base64(std::string(user) + ":" + std::string(password)));
  insert(base64(percent_encode(user, true, false) + ":" + percent_encode(password, true, false)));
  longest_first();
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
