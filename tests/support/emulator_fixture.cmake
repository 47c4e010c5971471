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
  # workaround(gcc12): -Wtsan on Asio's fences (see tests/emulator/CMakeLists.txt).
  if("thread" IN_LIST A0_SANITIZE)
    target_compile_options(a0_emulator_fixture PUBLIC $<$<COMPILE_LANGUAGE:CXX>:-Wno-tsan>)
  endif()
  # auth0-emulator is defined in tests/emulator; resolved at generate time.
  add_dependencies(a0_emulator_fixture auth0-emulator)
endfunction()

a0_define_emulator_fixture()
