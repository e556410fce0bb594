# Shared build settings: warnings, sanitizers and the helpers every module uses.

add_library(mailsim_build_flags INTERFACE)
target_compile_options(mailsim_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wimplicit-fallthrough
  # At -O2/-O3 this warning fires inside Boost 1.74 Asio's scheduler; it stays on where the
  # optimizer does not invent paths.
  $<$<CONFIG:Debug>:-Wnull-dereference>)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports false -Wrestrict overlaps in inlined std::string concatenation at -O2 and
  # above (GCC bug 105651), which -Werror would turn into a broken release build.
  target_compile_options(mailsim_build_flags INTERFACE -Wno-restrict)
  # Likewise -Wmaybe-uninitialized at -O2 and above, on std::optional, std::shared_ptr and
  # braced temporaries of nested aggregates (the release preset's tests stopped on it). The
  # dev and sanitizer builds (-O0, clang) keep the warning.
  target_compile_options(mailsim_build_flags INTERFACE
    $<$<NOT:$<CONFIG:Debug>>:-Wno-maybe-uninitialized>)
endif()
if(MAILSIM_WERROR)
  target_compile_options(mailsim_build_flags INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # Boost 1.74's Asio recognizes C++20 coroutines only under GCC (under Clang it looks for
  # the Coroutines TS), so Clang with libstdc++ must be told that co_await is there; every
  # target gets it so that all translation units see the same Asio.
  add_compile_definitions(BOOST_ASIO_HAS_CO_AWAIT=1)
endif()

# Profile-guided optimization (GCC), driven by tools/build_pgo.sh: MAILSIM_PGO=generate
# builds code that writes a profile of what it runs into MAILSIM_PGO_DIR; MAILSIM_PGO=use
# compiles with that profile. Profile files are named by object paths relative to the build
# folder, so the training build and the optimized one may live in different folders. Code
# changed since the profile was taken is compiled as without one (no mismatch error).
set(MAILSIM_PGO "" CACHE STRING "Profile-guided optimization: empty, generate or use")
set(MAILSIM_PGO_DIR "" CACHE PATH "The profile's folder (MAILSIM_PGO=generate or use)")
if(MAILSIM_PGO)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU" OR NOT MAILSIM_PGO_DIR)
    message(FATAL_ERROR "MAILSIM_PGO needs GCC and MAILSIM_PGO_DIR")
  endif()
  if(MAILSIM_PGO STREQUAL "generate")
    add_compile_options(-fprofile-generate=${MAILSIM_PGO_DIR} -fprofile-update=single
                        -fprofile-prefix-path=${CMAKE_BINARY_DIR})
    add_link_options(-fprofile-generate=${MAILSIM_PGO_DIR})
  elseif(MAILSIM_PGO STREQUAL "use")
    add_compile_options(-fprofile-use=${MAILSIM_PGO_DIR} -fprofile-partial-training
                        -fprofile-prefix-path=${CMAKE_BINARY_DIR} -Wno-missing-profile
                        -Wno-coverage-mismatch)
    # A stale profile also brings warnings that no option names ("missing counts for called
    # function"): with a profile, warnings are not errors (the dev and CI builds keep -Werror).
    target_compile_options(mailsim_build_flags INTERFACE -Wno-error)
  else()
    message(FATAL_ERROR "MAILSIM_PGO is '${MAILSIM_PGO}'; expected generate, use or empty")
  endif()
endif()

# MAILSIM_FUZZ is declared here, before any library, because with Clang it also decides how
# the libraries are instrumented (below); fuzz/CMakeLists.txt adds the libFuzzer binaries.
option(MAILSIM_FUZZ "Build the libFuzzer binaries (Clang only)" OFF)
option(MAILSIM_SANITIZE_THREAD "Build with ThreadSanitizer (the tsan preset)" OFF)
if(MAILSIM_SANITIZE AND MAILSIM_SANITIZE_THREAD)
  message(FATAL_ERROR "MAILSIM_SANITIZE and MAILSIM_SANITIZE_THREAD exclude each other: "
                      "ThreadSanitizer cannot share a process with AddressSanitizer")
endif()
if(MAILSIM_SANITIZE)
  target_compile_options(mailsim_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(mailsim_build_flags INTERFACE -fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # clang-14's -fsanitize=function (part of "undefined" in C++) cannot emit a coroutine:
    # "Cannot represent a difference across sections". It checks only calls through a
    # function pointer of the wrong type, which the other checks and the tests still catch.
    target_compile_options(mailsim_build_flags INTERFACE -fno-sanitize=function)
  endif()
  if(MAILSIM_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # Coverage instrumentation on every library, so that one sanitizer build serves both the
    # tests and the fuzz_<target> binaries, whose coverage then reaches the code under test.
    # Outside a fuzzer the ASan runtime supplies the coverage callbacks as no-ops.
    target_compile_options(mailsim_build_flags INTERFACE -fsanitize=fuzzer-no-link)
  endif()
endif()
if(MAILSIM_SANITIZE_THREAD)
  target_compile_options(mailsim_build_flags INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(mailsim_build_flags INTERFACE -fsanitize=thread)
endif()

# mailsim_add_library(NAME SOURCES... [DEPS libs...])
# One module = one folder = one library target; headers are included from the project root,
# e.g. #include "reference-server/core/line_reader.hpp".
function(mailsim_add_library name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${arg_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${arg_DEPS} PRIVATE mailsim_build_flags ${arg_PRIVATE_DEPS})
endfunction()

# mailsim_add_test(NAME SOURCES... DEPS libs... [LABELS labels...])
# A GoogleTest executable registered with ctest, one ctest case per test.
function(mailsim_add_test name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${arg_DEPS} mailsim_test_support GTest::gtest GTest::gtest_main
                        mailsim_build_flags)
  if(NOT arg_LABELS)
    set(arg_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${arg_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
