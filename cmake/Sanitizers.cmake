# Instrumented builds, each in a build directory of its own (scripts/sanitize.sh, scripts/fuzz.sh):
#   -DHOTLINE_SANITIZERS=address,undefined   the whole suite under ASan and UBSan
#   -DHOTLINE_SANITIZERS=thread              the concurrent tests under TSan
#   -DHOTLINE_FUZZ=ON                        libFuzzer targets (clang only), on top of the above
# Every target is instrumented, generated protobuf code included, so a fault is caught where it
# happens rather than where it surfaces. Debian's own libraries stay uninstrumented.
set(HOTLINE_SANITIZERS "" CACHE STRING "Comma-separated -fsanitize= list for every target")
option(HOTLINE_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)

if(HOTLINE_SANITIZERS)
  add_compile_options(-fsanitize=${HOTLINE_SANITIZERS} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${HOTLINE_SANITIZERS})
  if(HOTLINE_SANITIZERS MATCHES "undefined")
    # A report is a failure, not a line in a log nobody reads.
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

if(HOTLINE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HOTLINE_FUZZ needs clang (CMAKE_CXX_COMPILER=clang++)")
  endif()
  # Coverage feedback everywhere; only the fuzz targets link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
