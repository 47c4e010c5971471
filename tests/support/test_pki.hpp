// A throw-away CA and server certificate, generated in memory for the client's TLS tests
// (no files checked in, no expiry to maintain).
#pragma once

#include <string>
#include <vector>

namespace a0::test {

struct pki {
  std::string ca_pem;    ///< trust anchor to give the client (ca_file)
  std::string cert_pem;  ///< server leaf certificate, signed by the CA
  std::string key_pem;   ///< server private key
};

/// Leaf certificate with the given DNS and IP subjectAltNames.
pki make_pki(const std::vector<std::string>& dns_names, const std::vector<std::string>& ips);

}  // namespace a0::test
