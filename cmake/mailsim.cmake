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
endif()
if(MAILSIM_WERROR)
  target_compile_options(mailsim_build_flags INTERFACE -Werror)
endif()
if(MAILSIM_SANITIZE)
  target_compile_options(mailsim_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(mailsim_build_flags INTERFACE -fsanitize=address,undefined)
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
