// The action manifests, embedded at build time from manifests/actions/*.json (the one
// source of truth; see CMakeLists.txt). Static for the life of the library (WFA-6).
#pragma once

#include <wfa/wfa.h>

#include <cstdint>

namespace a0::abi {

extern const wfa_action k_actions[];
extern const std::uint32_t k_action_count;

}  // namespace a0::abi
