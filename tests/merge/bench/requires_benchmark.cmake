# cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DGENERATOR=... -P requires_benchmark.cmake
# Configures the project with A0_BUILD_BENCH=ON while find_package(benchmark) is disabled;
# passes when that configure fails with the message of tests/CMakeLists.txt.
file(REMOVE_RECURSE "${BINARY_DIR}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
          -DA0_BUILD_BENCH=ON -DA0_BUILD_TESTS=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE "${BINARY_DIR}")
if(rc EQUAL 0)
  message(FATAL_ERROR "configure without Google Benchmark succeeded; it must fail:\n${out}${err}")
endif()
if(NOT err MATCHES "A0_BUILD_BENCH is ON but Google Benchmark")
  message(FATAL_ERROR "configure failed, but not for the missing Google Benchmark:\n${err}")
endif()
message(STATUS "configure without Google Benchmark failed as it must")
