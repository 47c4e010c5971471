// RFC 6901 JSON Pointer escaping and parsing, and the path helpers of the merge.
#include "detail.hpp"
#include "merge/merge.hpp"

namespace merge {

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  detail::append_escaped(out, key);
  return out;
}

std::vector<std::string> parse_pointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;  // the whole document
  if (pointer.front() != '/') {
    throw invalid_argument("JSON Pointer \"" + std::string(pointer) + "\" must be empty or start with '/'");
  }
  std::string current;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(current));
      current.clear();
      continue;
    }
    if (pointer[i] != '~') {
      current += pointer[i];
      continue;
    }
    const char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
    if (next != '0' && next != '1') {
      throw invalid_argument("JSON Pointer \"" + std::string(pointer) +
                             "\" has '~' not followed by 0 or 1 (write ~0 for '~', ~1 for '/')");
    }
    current += next == '0' ? '~' : '/';
    ++i;
  }
  return tokens;
}

namespace detail {

void append_escaped(std::string& out, std::string_view key) {
  for (const char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
}

void append_token(std::string& pointer, std::string_view key) {
  pointer += '/';
  append_escaped(pointer, key);
}

bool is_excluded(std::string_view pointer, const std::vector<std::string>& excluded) noexcept {
  for (const auto& e : excluded) {
    // Escaping is canonical (only ~0 and ~1 exist), so a string prefix on a token
    // boundary is exactly "at or below".
    if (pointer.size() >= e.size() && pointer.compare(0, e.size(), e) == 0 &&
        (pointer.size() == e.size() || pointer[e.size()] == '/')) {
      return true;
    }
  }
  return false;
}

}  // namespace detail
}  // namespace merge
