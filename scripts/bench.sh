#!/usr/bin/env bash
# Builds the benchmarks (and the servers they start) with two jobs at most, then runs each from
# the repository root, where their default configuration paths point. Arguments go to every
# benchmark, e.g.
#   scripts/bench.sh --duration=10s --clients=8
# Benchmarks are not tests: scripts/test.sh does not run them, and their numbers depend on the
# machine (fsync latency above all), so compare runs on the same host only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BENCHES=(ticket_bench)

install_dependencies
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/hotline-ccache}"
if [ ! -f "$HOTLINE_BUILD/build.ninja" ]; then
  log "configuring $HOTLINE_BUILD"
  cmake -S "$HOTLINE_ROOT" -B "$HOTLINE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# Only what the benchmarks need (each depends on the server binaries it runs), never "all":
# gRPC translation units need about 1 GiB each and the machine may be shared.
log "building ${BENCHES[*]} (-j${HOTLINE_JOBS:-2})"
cmake --build "$HOTLINE_BUILD" -j "${HOTLINE_JOBS:-2}" --target "${BENCHES[@]}"

cd "$HOTLINE_ROOT"
status=0
for bench in "${BENCHES[@]}"; do
  log "running $bench $*"
  "$HOTLINE_BUILD/tests/$bench" "$@" || status=$?
done
exit "$status"
