# Included by the top-level CMakeLists.txt when PPROCD_FUZZ is ON, before any
# target is defined: every target of ours (and the generated proto code) is
# compiled with libFuzzer's coverage instrumentation and AddressSanitizer +
# UndefinedBehaviorSanitizer, every report fatal. Debian's gRPC, protobuf
# and abseil stay as they are (gcc builds, same libstdc++). Only the fuzz
# targets are meant to be built: `ninja fuzz`.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "PPROCD_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer)
# -O1 and line tables (enough for the sanitizers' stack traces): a fifth
# less compile time than -O2 -g, which scripts/test pays on a fresh clone.
set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -gline-tables-only -DNDEBUG")
add_link_options(-fsanitize=address,undefined)
# The unit and integration tests are built by the gcc build, not this one.
set(BUILD_TESTING OFF CACHE BOOL "Build the tests (off in a fuzzing build)" FORCE)
