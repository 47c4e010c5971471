#include "http/secret_mask.hpp"

#include "http/percent_encoding.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace a0::http {

std::string base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

void add_secret_forms(std::vector<std::string>& forms, std::string_view secret) {
  if (secret.size() < min_masked_secret) return;
  auto add = [&](std::string f) {
    if (std::find(forms.begin(), forms.end(), f) == forms.end()) forms.push_back(std::move(f));
  };
  add(std::string(secret));
  const std::string pct = pct_encode(secret);
  add(pct);
  std::string lower = pct;
  for (std::size_t i = 0; i < lower.size(); ++i)
    if (lower[i] == '%' && i + 2 < lower.size()) {
      lower[i + 1] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i + 1])));
      lower[i + 2] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[i + 2])));
    }
  add(lower);
  std::string escaped;
  for (const char c : secret) {
    if (c == '/') escaped += '\\';
    escaped += c;
  }
  add(escaped);
  const std::string b64 = base64(secret);
  add(b64);
  // Without its padding: a reflected value is often cut at the first '='.
  add(b64.substr(0, b64.find('=')));
}

std::string mask_secrets(std::string text, const std::vector<std::string>& forms) {
  // Longest first: a form that contains another is masked whole.
  std::vector<const std::string*> order;
  for (const auto& f : forms)
    if (!f.empty()) order.push_back(&f);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->size() > b->size(); });
  for (const auto* f : order) {
    for (std::size_t at = text.find(*f); at != std::string::npos; at = text.find(*f, at + 3))
      text.replace(at, f->size(), "***");
  }
  constexpr std::string_view ellipsis = "...";
  if (text.size() >= ellipsis.size() && text.ends_with(ellipsis)) {
    const std::size_t end = text.size() - ellipsis.size();
    bool cut = false;
    for (const auto* f : order) {
      // The longest tail before "..." that is a proper prefix of f (min_masked_secret at least).
      for (std::size_t len = std::min(f->size() - 1, end); len >= min_masked_secret && !cut; --len) {
        if (text.compare(end - len, len, *f, 0, len) == 0) {
          text.replace(end - len, len, "***");
          cut = true;
        }
      }
      if (cut) break;
    }
  }
  return text;
}

}  // namespace a0::http
