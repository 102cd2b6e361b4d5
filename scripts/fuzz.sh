#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer, runs each for a while and reports executions, coverage and crashes.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default 600 s, every target)
#
# The build directory is $HOTLINE_FUZZ_BUILD (default build-asan). Each target fuzzes a working
# corpus in <build>/fuzz/<target>/corpus, seeded from tests/fuzz/corpus/<target> (the committed
# seeds stay small); crash inputs are kept in <build>/fuzz/<target>/artifacts. Exits non-zero
# when a target crashed or did not build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_TARGETS=(analyzer cleaner importers search page_tokens gateway_request ticket_machine)

SECONDS_PER_TARGET="${1:-600}"
if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || ((SECONDS_PER_TARGET == 0)); then
  echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]; targets: ${ALL_TARGETS[*]}" >&2
  exit 2
fi
(($# > 0)) && shift
TARGETS=("$@")
((${#TARGETS[@]} > 0)) || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  if [[ " ${ALL_TARGETS[*]} " != *" $t "* ]]; then
    echo "unknown target '$t'; targets: ${ALL_TARGETS[*]}" >&2
    exit 2
  fi
done

FUZZ_BUILD="${HOTLINE_FUZZ_BUILD:-$HOTLINE_ROOT/build-asan}"
# Two jobs at most: gRPC translation units need about 1 GiB each under the sanitizers.
JOBS="${HOTLINE_JOBS:-2}"
((JOBS <= 2)) || JOBS=2

# libFuzzer ships with clang; only this script needs them.
HOTLINE_PACKAGES+=(clang-14 libclang-rt-14-dev libfuzzer-14-dev)
install_dependencies

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/hotline-ccache}"
export CCACHE_BASEDIR="$HOTLINE_ROOT" CCACHE_NOHASHDIR=1

cache="$FUZZ_BUILD/CMakeCache.txt"
if [ -f "$cache" ] && ! grep -q '^HOTLINE_FUZZ:BOOL=ON' "$cache"; then
  echo "$FUZZ_BUILD is configured without HOTLINE_FUZZ; set HOTLINE_FUZZ_BUILD to another directory" >&2
  exit 2
fi
if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
  log "configuring $FUZZ_BUILD (clang-14, address+undefined, fuzzers)"
  CC=clang-14 CXX=clang++-14 cmake -S "$HOTLINE_ROOT" -B "$FUZZ_BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOTLINE_SANITIZERS=address,undefined \
    -DHOTLINE_FUZZ=ON >/dev/null
fi

# One target at a time, so that one that does not build is reported and the others still run.
declare -A built
for t in "${TARGETS[@]}"; do
  log "building fuzz_$t (-j$JOBS)"
  if cmake --build "$FUZZ_BUILD" -j "$JOBS" --target "fuzz_$t"; then built[$t]=1; fi
done

# A report stops the target at once (the build makes UBSan's fatal too), with a readable stack.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
symbolizer="$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)"
[ -z "$symbolizer" ] || export ASAN_SYMBOLIZER_PATH="$symbolizer" UBSAN_SYMBOLIZER_PATH="$symbolizer"

summary=()
crashes=()
for t in "${TARGETS[@]}"; do
  if [ -z "${built[$t]:-}" ]; then
    summary+=("$(printf '%-16s %14s %8s  %s' "$t" - - "BUILD FAILED")")
    crashes+=("$t: did not build (see the build output above)")
    continue
  fi
  binary="$FUZZ_BUILD/tests/fuzz/fuzz_$t"
  work="$FUZZ_BUILD/fuzz/$t"
  # Targets that need scratch files (page_tokens' stores) make them here; a crash leaves them.
  rm -rf "$work/tmp"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
  cp -n "$HOTLINE_ROOT/tests/fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null || true
  args=(-max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=60
        -rss_limit_mb=4096 -artifact_prefix="$work/artifacts/")
  dict="$HOTLINE_ROOT/tests/fuzz/$t.dict"
  [ -f "$dict" ] && args+=(-dict="$dict")
  log "fuzzing $t for ${SECONDS_PER_TARGET}s (log: $work/fuzz.log)"
  status=0
  TMPDIR="$work/tmp" "$binary" "${args[@]}" "$work/corpus" >"$work/fuzz.log" 2>&1 || status=$?

  execs="$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz.log" | tail -1 | grep -a -o '[0-9]*$' || true)"
  cov="$(grep -a -E '^#[0-9]+' "$work/fuzz.log" | grep -a -o 'cov: [0-9]*' | tail -1 | grep -a -o '[0-9]*$' || true)"
  artifact="$(grep -a -o 'Test unit written to .*' "$work/fuzz.log" | tail -1 | sed 's/^Test unit written to //' || true)"
  if ((status == 0)); then
    result="ok"
  elif grep -a -q 'fuzz target set-up failed' "$work/fuzz.log"; then
    result="SET-UP FAILED: $(grep -a -m1 'fuzz target set-up failed' "$work/fuzz.log")"
    crashes+=("$t: set-up failed, see $work/fuzz.log")
  else
    # The first line that says what went wrong: a broken check, or a sanitizer's summary.
    what="$(grep -a -m1 -E 'check failed|^SUMMARY: |ERROR: libFuzzer|ERROR: [A-Za-z]*Sanitizer|runtime error|terminate called' "$work/fuzz.log" || true)"
    result="CRASHED (exit $status): ${what:-see the log}"
    crashes+=("$t: ${artifact:-no crash file written} (log: $work/fuzz.log)")
  fi
  summary+=("$(printf '%-16s %14s %8s  %s' "$t" "${execs:--}" "${cov:--}" "$result")")
done

echo
printf '%-16s %14s %8s  %s\n' target executions cov result
printf '%s\n' "${summary[@]}"
if ((${#crashes[@]} > 0)); then
  echo
  echo "failures (replay a crash with <build>/tests/fuzz/fuzz_<target> <crash file>):"
  printf '  %s\n' "${crashes[@]}"
  exit 1
fi
