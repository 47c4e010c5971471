# Install rules (`cmake --install BUILD [--prefix P]`); the layout is in README.md "Install".
#   include/wfa/wfa.h, include/wfa/host.hpp, include/wfa/host/*.hpp   component dev
#   lib/libwfa_host.a, lib/cmake/wfa/*, lib/pkgconfig/wfa.pc          component dev
#   bin/flowrun, lib/libwfa_runner.so.1 (wfa/runner.h)                 component flowrun
#   lib/libwfa_runner.so (the link-time name), cmake wfaRunnerTargets  component dev
#   lib/wfa/plugins/libauth0_actions.so                                component plugin
#   share/wfa/manifests/actions/*.json, share/wfa/flows/*.flow.json    component plugin
#   bin/linkplan                                                       component linkplan
# Components map to the Debian packages (cmake/packaging.cmake).
include(CMakePackageConfigHelpers)
# Installing never builds: `cmake --install` does not, and neither do `make install` and
# cpack (whose "preinstall" step would otherwise rebuild the whole tree, tests included).
# Build first (cmake --build), then install or package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(WFA_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/wfa")
set(WFA_INSTALL_DATADIR "${CMAKE_INSTALL_DATADIR}/wfa")

# The ABI header and the host library's headers (the private src/*.hpp stay out).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine_api/include/wfa
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

# wfa::api (header only) and wfa::host (static) in two export sets: a C host that only
# needs wfa.h gets wfa::api without Boost; wfa::host comes with Boost.JSON found.
install(TARGETS wfa_api EXPORT wfaApiTargets COMPONENT dev)
install(EXPORT wfaApiTargets NAMESPACE wfa:: DESTINATION ${WFA_INSTALL_CMAKEDIR} COMPONENT dev)
install(TARGETS wfa_host EXPORT wfaHostTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(EXPORT wfaHostTargets NAMESPACE wfa:: DESTINATION ${WFA_INSTALL_CMAKEDIR} COMPONENT dev)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/wfaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/generated/wfaConfig.cmake
  INSTALL_DESTINATION ${WFA_INSTALL_CMAKEDIR}
  PATH_VARS WFA_INSTALL_PLUGINDIR WFA_INSTALL_DATADIR)
# The package version is the project version. SameMajorVersion: the C ABI's compatibility
# rule (wfa.h: a host and a plugin work together when their majors match).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/generated/wfaConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/generated/wfaConfig.cmake
              ${PROJECT_BINARY_DIR}/generated/wfaConfigVersion.cmake
        DESTINATION ${WFA_INSTALL_CMAKEDIR} COMPONENT dev)

# pkg-config: relocatable (prefix taken from where the .pc file is), so the same file
# works under any --prefix and in an unpacked .deb.
file(RELATIVE_PATH WFA_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" WFA_PC_TO_PREFIX "${WFA_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/wfa.pc.in ${PROJECT_BINARY_DIR}/generated/wfa.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/generated/wfa.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

install(TARGETS flowrun RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT flowrun)

# libwfa_runner.so (wfa/runner.h, the flow runner as a C API): the run-time library ships
# with flowrun (the same runner as a library), its link-time name and CMake target
# (wfa::runner, usable from C: no Boost needed) with the headers in dev.
install(TARGETS wfa_runner EXPORT wfaRunnerTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT flowrun NAMELINK_COMPONENT dev)
install(EXPORT wfaRunnerTargets NAMESPACE wfa:: DESTINATION ${WFA_INSTALL_CMAKEDIR} COMPONENT dev)

# A dlopen'ed plugin in its own folder, not on the loader's path (docs/abi.md, SONAME).
install(TARGETS auth0_actions LIBRARY DESTINATION ${WFA_INSTALL_PLUGINDIR} COMPONENT plugin
        NAMELINK_SKIP)
# The manifests as embedded (with the project version), and the example flows, which
# name the plugin by bare file name (found through the plugin folder).
install(DIRECTORY ${A0_MANIFEST_OUT_DIR}/ DESTINATION ${WFA_INSTALL_DATADIR}/manifests/actions
        COMPONENT plugin FILES_MATCHING PATTERN "*.json")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/manifests/flows/ DESTINATION ${WFA_INSTALL_DATADIR}/flows
        COMPONENT plugin FILES_MATCHING PATTERN "*.json" PATTERN "*.md")

# The tenant-dedup planner (plugin/linkplan/README.md).
install(TARGETS linkplan RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT linkplan)
