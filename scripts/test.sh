#!/usr/bin/env bash
# Installs what is missing, builds, starts a Redis of its own on a free port, runs every test
# through ctest and exits non-zero on any failure. Benchmarks are not part of this run
# (see scripts/bench.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

install_dependencies
install_axe_core
# Formatting first: it takes seconds and needs no build.
bash "$HOTLINE_ROOT/scripts/format_check.sh"
build_all
# Clang's analysis of the lock annotations, over the flags of the build just made (a
# sanitizer run, which builds with clang already, leaves it out).
if [ "${HOTLINE_THREAD_SAFETY:-1}" = 1 ]; then
  bash "$HOTLINE_ROOT/scripts/thread_safety.sh" "$HOTLINE_BUILD"
fi

redis_dir="$(mktemp -d)"
redis_port="$(free_port)"
cleanup() {
  if [ -f "$redis_dir/redis.pid" ]; then kill "$(cat "$redis_dir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$redis_dir"
}
trap cleanup EXIT
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" --save '' \
  --appendonly yes --daemonize yes --pidfile "$redis_dir/redis.pid" \
  --logfile "$redis_dir/redis.log"
wait_for_port "$redis_port" 20 || { echo "test Redis did not start" >&2; exit 1; }
export HOTLINE_TEST_REDIS="127.0.0.1:$redis_port"
log "test Redis on $HOTLINE_TEST_REDIS"

log "running tests"
# A library the sanitizer builds load into every test process (scripts/sanitize.sh).
if [ -n "${HOTLINE_TEST_PRELOAD:-}" ]; then export LD_PRELOAD="$HOTLINE_TEST_PRELOAD"; fi
ctest --test-dir "$HOTLINE_BUILD" --output-on-failure -j "${HOTLINE_TEST_JOBS:-2}" "$@"
