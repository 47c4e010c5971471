# Debian packages: `cpack -G DEB` in a build folder (after the build) writes
#   libauth0-actions_<v>_<arch>.deb  the plugin, its manifests and the example flows
#   flowrun_<v>_<arch>.deb           the reference runner and libwfa_runner.so.1 (its C API)
#   wfa-dev_<v>_<arch>.deb           wfa.h, runner.h, the host library, CMake package, wfa.pc
#   auth0-linkplan_<v>_<arch>.deb    linkplan, the tenant-dedup planner
# <v> is the project version (project(VERSION)). Run-time dependencies are computed by
# dpkg-shlibdeps from what each binary really links (libssl3, libboost-json1.81.0,
# libstdc++6, libc6, ...); wfa-dev adds the -dev packages its CMake package needs.
# The packages install under /usr: /usr/bin/flowrun finds /usr/lib/wfa/plugins itself.
set(CPACK_PACKAGE_NAME "auth0-link-account")
set(CPACK_PACKAGE_VENDOR "auth0-link-account")
set(CPACK_PACKAGE_CONTACT "auth0-link-account maintainers <maintainers@auth0-link-account.invalid>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_GENERATOR "DEB")
set(CPACK_COMPONENTS_ALL plugin flowrun dev linkplan)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION "misc")
set(CPACK_DEBIAN_COMPRESSION_TYPE "gzip")  # fast to build and to test

set(CPACK_DEBIAN_PLUGIN_PACKAGE_NAME "libauth0-actions")
set(CPACK_DEBIAN_PLUGIN_PACKAGE_SECTION "libs")
set(CPACK_COMPONENT_PLUGIN_DESCRIPTION
  "Auth0 account linking actions for workflow engines (wfa plugin)\n"
  "libauth0_actions.so, loaded by a workflow runner through the wfa C ABI, with the\n"
  "JSON Schema manifests of its four actions and example flows under /usr/share/wfa.")
set(CPACK_DEBIAN_FLOWRUN_PACKAGE_NAME "flowrun")
set(CPACK_DEBIAN_FLOWRUN_PACKAGE_RECOMMENDS "libauth0-actions (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_FLOWRUN_DESCRIPTION
  "Reference runner for wfa workflow-action plugins\n"
  "flowrun validates and runs flow files over many input rows, loading plugins by\n"
  "name from /usr/lib/wfa/plugins. libwfa_runner.so.1 runs the same flows one row at\n"
  "a time for other engines through a C API (wfa/runner.h, in wfa-dev).")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME "wfa-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION "libdevel")
# wfa::host (static) needs Boost.JSON's and RE2's headers and libraries at the consumer's
# link time (RE2 found through pkg-config).
# The link-time name libwfa_runner.so points into flowrun's libwfa_runner.so.1.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libboost1.81-dev, libboost-json1.81-dev, libre2-dev, pkg-config, flowrun (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "libauth0-actions (= ${PROJECT_VERSION}), pkg-config")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "wfa C ABI header, C++ host library, CMake package and pkg-config file\n"
  "wfa/wfa.h (the plugin ABI, C99), wfa/host.hpp and libwfa_host.a, wfa/runner.h and\n"
  "libwfa_runner.so, find_package(wfa) with wfa::api, wfa::runner and wfa::host, and wfa.pc.")
set(CPACK_DEBIAN_LINKPLAN_PACKAGE_NAME "auth0-linkplan")
set(CPACK_DEBIAN_LINKPLAN_PACKAGE_RECOMMENDS "flowrun (= ${PROJECT_VERSION}), libauth0-actions (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_LINKPLAN_DESCRIPTION
  "Plans the account links of an Auth0 tenant dedup\n"
  "linkplan reads an Auth0 users export (gzipped NDJSON) and writes who links into whom\n"
  "as the inputs of the link flow, with every refused account and its reason.")
include(CPack)
