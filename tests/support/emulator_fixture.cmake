# a0_emulator_fixture: spawns the auth0-emulator for tests and benchmarks
# (emulator_fixture.hpp). Consumers get A0_EMULATOR_PATH and A0_EMULATOR_DEMO_SEED.
function(a0_define_emulator_fixture)
  set(dir ${CMAKE_SOURCE_DIR}/tests/support)
  add_library(a0_emulator_fixture STATIC ${dir}/emulator_fixture.cpp)
  target_include_directories(a0_emulator_fixture PUBLIC ${dir})
  target_link_libraries(a0_emulator_fixture PUBLIC Boost::json OpenSSL::SSL Threads::Threads a0::options)
  target_compile_definitions(a0_emulator_fixture PUBLIC
    A0_EMULATOR_PATH="$<TARGET_FILE:auth0-emulator>"
    A0_EMULATOR_DEMO_SEED="${CMAKE_SOURCE_DIR}/manifests/emulator/demo.seed.json")
  # GCC 12 -Wtsan on Asio's fences (see tests/emulator/CMakeLists.txt).
  if("thread" IN_LIST A0_SANITIZE)
    target_compile_options(a0_emulator_fixture PUBLIC $<$<COMPILE_LANGUAGE:CXX>:-Wno-tsan>)
  endif()
  # auth0-emulator is defined in tests/emulator; resolved at generate time.
  add_dependencies(a0_emulator_fixture auth0-emulator)
endfunction()

# tests/plugin/client adds emulator_tests.cpp as soon as this target exists. While that
# file is not in the tree yet, define the target after tests/plugin so the tree configures.
set(_client_dir ${CMAKE_SOURCE_DIR}/tests/plugin/client)
if(EXISTS ${_client_dir}/CMakeLists.txt AND NOT EXISTS ${_client_dir}/emulator_tests.cpp)
  cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR}/tests
                 CALL a0_define_emulator_fixture)
else()
  a0_define_emulator_fixture()
endif()
