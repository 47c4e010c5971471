#include "test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace a0::test {

namespace {

template <class T, void (*F)(T*)>
struct deleter {
  void operator()(T* p) const noexcept { F(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, deleter<X509_EXTENSION, X509_EXTENSION_free>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test pki: ") + what);
}

pkey_ptr new_key() {
  pkey_ptr k{EVP_EC_gen("P-256")};
  check(k != nullptr, "EC key");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ext_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str())};
  check(ext != nullptr, "extension");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "add extension");
}

x509_ptr new_cert(EVP_PKEY* key, const std::string& cn, long serial) {
  x509_ptr c{X509_new()};
  check(c != nullptr, "X509_new");
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 24 * 3600);
  X509_set_pubkey(c.get(), key);
  auto* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return c;
}

std::string pem_of(X509* c) {
  bio_ptr b{BIO_new(BIO_s_mem())};
  check(PEM_write_bio_X509(b.get(), c) == 1, "PEM cert");
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of(EVP_PKEY* k) {
  bio_ptr b{BIO_new(BIO_s_mem())};
  check(PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM key");
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

pki make_pki(const std::vector<std::string>& dns_names, const std::vector<std::string>& ips) {
  auto ca_key = new_key();
  auto ca = new_cert(ca_key.get(), "a0 test CA", 1);
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "sign CA");

  auto key = new_key();
  auto leaf = new_cert(key.get(), dns_names.empty() ? "a0 test server" : dns_names.front(), 2);
  X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get()));
  std::string san;
  for (const auto& d : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : ips) san += (san.empty() ? "IP:" : ",IP:") + ip;
  add_ext(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (!san.empty()) add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san);
  check(X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) > 0, "sign leaf");

  return pki{pem_of(ca.get()), pem_of(leaf.get()), pem_of(key.get())};
}

}  // namespace a0::test
