#!/usr/bin/env bash
# Builds the benchmarks (and the servers they start) with two jobs at most, then runs each from
# the repository root, where their default configuration paths point. Arguments go to every
# benchmark run, so pick one with HOTLINE_BENCH when passing its flags, e.g.
#   HOTLINE_BENCH=ticket_bench scripts/bench.sh --duration=10s --clients=8
#   HOTLINE_BENCH=kb_bench scripts/bench.sh --target_passages=1000000
#   HOTLINE_BENCH=kb_service_bench scripts/bench.sh --rate=500 --clients=16 --duration=20s
#   HOTLINE_BENCH=metrics_bench scripts/bench.sh --tickets=1000000 --rate=1000 --duration=60s
#   HOTLINE_BENCH=portal_bench scripts/bench.sh --citizen_rate=1000 --flood_rate=5000
#   HOTLINE_BENCH=ticket_list_bench scripts/bench.sh --tickets=1000000 --store=/var/tmp/lists
# Benchmarks are not tests: scripts/test.sh does not run them, and their numbers depend on the
# machine (fsync latency above all), so compare runs on the same host only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# target:path-under-the-build-directory
BENCHES=(ticket_bench:tests/ticket_bench kb_bench:services/kb/kb_bench
  kb_service_bench:services/kb/kb_service_bench metrics_bench:services/metrics/metrics_bench
  department_suggest_bench:services/ticket/department_suggest_bench
  ticket_list_bench:services/ticket/ticket_list_bench
  identity_bench:services/identity/identity_bench portal_bench:services/gateway/portal_bench)

install_dependencies
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/hotline-ccache}"
if [ ! -f "$HOTLINE_BUILD/build.ninja" ]; then
  log "configuring $HOTLINE_BUILD"
  cmake -S "$HOTLINE_ROOT" -B "$HOTLINE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# Only what the benchmarks need (each depends on the server binaries it runs), never "all":
# gRPC translation units need about 1 GiB each and the machine may be shared.
targets=("${BENCHES[@]%%:*}")
log "building ${targets[*]} (-j${HOTLINE_JOBS:-2})"
cmake --build "$HOTLINE_BUILD" -j "${HOTLINE_JOBS:-2}" --target "${targets[@]}"

cd "$HOTLINE_ROOT"
status=0
for bench in "${BENCHES[@]}"; do
  name="${bench%%:*}"
  # Only the named benchmarks when HOTLINE_BENCH is set, e.g. HOTLINE_BENCH=kb_bench.
  if [ -n "${HOTLINE_BENCH:-}" ] && [[ " $HOTLINE_BENCH " != *" $name "* ]]; then continue; fi
  log "running $name"
  "$HOTLINE_BUILD/${bench#*:}" "$@" || status=$?
done
exit "$status"
