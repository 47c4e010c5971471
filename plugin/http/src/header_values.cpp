#include "http/header_values.hpp"

namespace a0::http {

bool is_safe_header_value(std::string_view value) noexcept {
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool is_token68(std::string_view value) noexcept {
  std::size_t i = 0;
  for (; i < value.size(); ++i) {
    const char c = value[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < value.size(); ++i)
    if (value[i] != '=') return false;
  return true;
}

}  // namespace a0::http
