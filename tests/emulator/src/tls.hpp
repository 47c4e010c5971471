// In-memory PKI for the emulator: a throwaway CA and a server certificate for
// localhost / 127.0.0.1, so clients can verify peer and host name like in production.
#pragma once

#include <string>

namespace emu {

struct pem_bundle {
  std::string ca_cert;      ///< PEM of the CA that signed server_cert (what clients trust)
  std::string server_cert;  ///< PEM, SAN = DNS:localhost, IP:127.0.0.1
  std::string server_key;   ///< PEM private key of server_cert
};

/// Generates a fresh P-256 CA and server certificate (OpenSSL 3 EVP API). Throws on failure.
pem_bundle make_pki();

}  // namespace emu
