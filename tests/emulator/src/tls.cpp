#include "tls.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace emu {
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
  if (!ok) throw std::runtime_error(std::string("emulator pki: ") + what);
}

pkey_ptr new_key() {
  pkey_ptr k{EVP_EC_gen("P-256")};
  check(k != nullptr, "EC key");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ext_ptr ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value)};
  check(ext != nullptr, "extension");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "add extension");
}

x509_ptr new_cert(EVP_PKEY* key, const char* cn) {
  x509_ptr c{X509_new()};
  check(c != nullptr, "X509_new");
  X509_set_version(c.get(), 2);
  // Random serials: a client that cached an earlier run's CA must not confuse the two.
  unsigned char serial[8];
  check(RAND_bytes(serial, sizeof serial) == 1, "serial");
  serial[0] &= 0x7f;
  std::unique_ptr<BIGNUM, deleter<BIGNUM, BN_free>> bn{BN_bin2bn(serial, sizeof serial, nullptr)};
  check(bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(c.get())) != nullptr, "serial set");
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 7L * 24 * 3600);
  check(X509_set_pubkey(c.get(), key) == 1, "pubkey");
  auto* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  return c;
}

template <class F>
std::string to_pem(F write) {
  bio_ptr b{BIO_new(BIO_s_mem())};
  check(b != nullptr && write(b.get()) == 1, "PEM write");
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

pem_bundle make_pki() {
  auto ca_key = new_key();
  auto ca = new_cert(ca_key.get(), "auth0-emulator local CA");
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "sign CA");

  auto key = new_key();
  auto cert = new_cert(key.get(), "localhost");
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  add_ext(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_ext(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(cert.get(), ca.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  add_ext(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "sign server");

  pem_bundle out;
  out.ca_cert = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, ca.get()); });
  out.server_cert = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  out.server_key =
      to_pem([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  return out;
}

}  // namespace emu
