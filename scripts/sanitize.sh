#!/usr/bin/env bash
# The test suite under clang's sanitizers, each in a build directory of its own:
#   scripts/sanitize.sh [address] [CTEST_ARGS...]   every test under AddressSanitizer and
#                                                   UndefinedBehaviorSanitizer (build-asan,
#                                                   which scripts/fuzz.sh shares)
#   scripts/sanitize.sh thread [CTEST_ARGS...]      every C++ test under ThreadSanitizer
#                                                   (build-tsan)
# A report fails the test that triggered it. Not part of the default test run: the
# instrumented build alone takes longer than the rest of CI (figures in README.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
HOTLINE_PACKAGES+=(clang-14 libclang-rt-14-dev libfuzzer-14-dev)
install_dependencies

mode="address"
if [ "${1:-}" = "address" ] || [ "${1:-}" = "thread" ]; then mode="$1"; shift; fi
case "$mode" in
  address)
    build="${HOTLINE_ASAN_BUILD:-$HOTLINE_ROOT/build-asan}"
    configure=(-DHOTLINE_SANITIZERS=address,undefined -DHOTLINE_FUZZ=ON)
    # Leaks are reported at exit; a server's clean shutdown must free what it took.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    selection=()
    ;;
  thread)
    build="${HOTLINE_TSAN_BUILD:-$HOTLINE_ROOT/build-tsan}"
    configure=(-DHOTLINE_SANITIZERS=thread)
    # Debian's Abseil is not instrumented: the preloaded library tells TSan what absl::Mutex
    # does, and the suppressions name what remains out of sight (both explained in their files).
    export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$HOTLINE_ROOT/tests/support/tsan.supp}"
    export HOTLINE_TEST_PRELOAD="$build/tests/support/libhotline_tsan_absl_sync.so"
    # Every C++ test (GoogleTest names have a dot): group commit under concurrent writers,
    # streams and their hubs, worker pools, shutdown with calls in flight, the serving loop's
    # rebuild, and all the rest. The Python system tests drive whole processes against
    # wall-clock limits set for the normal build; run them with CTEST_ARGS if wanted.
    selection=(-R '\.')
    ;;
esac

if [ ! -f "$build/build.ninja" ]; then
  log "configuring $build ($mode)"
  CC=clang-14 CXX=clang++-14 cmake -S "$HOTLINE_ROOT" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "${configure[@]}" >/dev/null
fi
start=$SECONDS
HOTLINE_BUILD="$build" HOTLINE_THREAD_SAFETY=0 bash "$HOTLINE_ROOT/scripts/test.sh" "${selection[@]}" "$@"
log "$mode sanitizer run passed in $((SECONDS - start)) s"
