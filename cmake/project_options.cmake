# Shared compile settings. Every target links a0::options so that warnings and
# sanitizers are uniform across the tree.
add_library(a0_options INTERFACE)
add_library(a0::options ALIAS a0_options)
target_compile_options(a0_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic>)
# Boost.Asio's deprecated paths are never used.
target_compile_definitions(a0_options INTERFACE BOOST_ASIO_NO_DEPRECATED)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
  # workaround(gcc12): false positives at -O2 that -Werror turns into build failures:
  # - mismatched-new-delete: Asio's awaitable frames pair their own operator new
  #   (aligned_alloc via thread_info_base) with the matching operator delete, but GCC
  #   sees through only half of the inlining (GCC PR 109224).
  # - maybe-uninitialized: libstdc++'s own std::regex compiler (_M_insert_lookahead),
  #   and Beast/Asio temporaries moved into coroutine frames.
  target_compile_options(a0_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wno-mismatched-new-delete -Wno-maybe-uninitialized>)
endif()
if(A0_WERROR)
  target_compile_options(a0_options INTERFACE -Werror)
endif()

if(A0_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "A0_BUILD_FUZZ needs clang (libFuzzer): use the fuzz preset")
  endif()
  # Coverage feedback for libFuzzer in every object; only the fuzz executables link
  # libFuzzer itself (-fsanitize=fuzzer, tests/fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(A0_SANITIZE)
  list(JOIN A0_SANITIZE "," _a0_san)
  # Applied globally so that every object (tests, plugin .so, tools) is instrumented.
  # Line tables only (-g1), and the presets build at -Og: a report still names file and
  # line, and the build takes a third of the time of -O2 -g (sanitized Asio coroutines
  # are the bulk of it), which keeps CI within its budget.
  add_compile_options(-fsanitize=${_a0_san} -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${_a0_san})
  if("thread" IN_LIST A0_SANITIZE)
    # workaround(gcc12): GCC warns that TSan does not model Asio's atomic_thread_fence; with -Werror
    # that breaks every Asio user in the tsan build.
    add_compile_options(-Wno-tsan)
  endif()
  if("undefined" IN_LIST A0_SANITIZE)
    add_compile_options(-fno-sanitize-recover=undefined)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      # clang 14's -fsanitize=function (part of "undefined" there, not in GCC) puts
      # prologue data into coroutine frames' split functions that the assembler cannot
      # encode ("Cannot represent a difference across sections" on every Asio coroutine).
      add_compile_options(-fno-sanitize=function)
    endif()
  endif()
endif()
