# a0_require(TEST [PROGRAM name...] [PATHS path...] [LABELS label...])
#
# The one way a check whose prerequisite is missing shows up: TEST is still registered,
# as a test that fails saying what is missing (and the configure warns), so CI goes red
# instead of silently running less. Sets A0_REQUIRE_MISSING in the caller's scope: empty
# when everything is there (the caller then adds the real test), else the reason.
#   PROGRAM  found with find_program into the cache variable A0_<NAME> (node -> A0_NODE)
#   PATHS    files or folders that must exist (e.g. tests/node/node_modules/ajv)
#   LABELS   the labels of the real test, so `ctest -L` still selects it
function(a0_require test)
  cmake_parse_arguments(ARG "" "" "PROGRAM;PATHS;LABELS" ${ARGN})
  set(missing "")
  foreach(prog IN LISTS ARG_PROGRAM)
    string(TOUPPER "A0_${prog}" var)
    string(MAKE_C_IDENTIFIER "${var}" var)
    find_program(${var} ${prog})
    if(NOT ${var})
      list(APPEND missing "${prog} not found (${var})")
    endif()
  endforeach()
  foreach(path IN LISTS ARG_PATHS)
    if(NOT EXISTS "${path}")
      list(APPEND missing "${path} does not exist")
    endif()
  endforeach()
  if(missing)
    list(JOIN missing "; " missing)
    message(WARNING "${test} is registered as a failing test: ${missing}. Run scripts/bootstrap, then configure again.")
    add_test(NAME ${test}
             COMMAND ${CMAKE_COMMAND} "-DWHAT=${test}: ${missing}"
                     -P ${PROJECT_SOURCE_DIR}/cmake/missing_prerequisite.cmake)
    if(ARG_LABELS)
      set_tests_properties(${test} PROPERTIES LABELS "${ARG_LABELS}")
    endif()
  endif()
  set(A0_REQUIRE_MISSING "${missing}" PARENT_SCOPE)
endfunction()
