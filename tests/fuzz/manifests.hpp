// The real action manifests (manifests/actions/*.json, A0_MANIFEST_DIR) as the host's
// validate() takes them, for the fuzz targets of the host library.
#pragma once

#include "wfa/host/validate.hpp"

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace a0::fuzz {

inline wfa::host::manifest_set real_manifests() {
  wfa::host::manifest_set out;
  for (const auto& e : std::filesystem::directory_iterator(A0_MANIFEST_DIR)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    out["auth0"].push_back(boost::json::parse(ss.str()).as_object());
  }
  if (out.empty()) throw std::runtime_error("no manifests in " A0_MANIFEST_DIR);
  return out;
}

}  // namespace a0::fuzz
