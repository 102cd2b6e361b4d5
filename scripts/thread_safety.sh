#!/usr/bin/env bash
# Clang's thread-safety analysis over every translation unit of ours: the ABSL_GUARDED_BY and
# ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations are only comments to gcc. Parses each file with
# clang (-fsyntax-only, so no second build) using the flags of the normal build's
# compile_commands.json, and fails on any warning of the analysis.
#   scripts/thread_safety.sh [BUILD_DIR]   (default: the normal build, built first)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
install_dependencies
build="${1:-$HOTLINE_BUILD}"
[ -n "${1:-}" ] || build_all
[ -f "$build/compile_commands.json" ] || { echo "$build/compile_commands.json is missing" >&2; exit 2; }

log "thread-safety analysis (clang-14 -Wthread-safety) of our sources"
# One command line per translation unit of ours (generated protobuf code is not annotated).
python3 - "$build/compile_commands.json" "$HOTLINE_ROOT" > "$build/thread_safety.commands" <<'PY'
import json, shlex, sys
entries, root = json.load(open(sys.argv[1])), sys.argv[2]
for e in entries:
    source = e["file"]
    if not source.startswith(root + "/") or "/gen/" in source or source.startswith(root + "/build"):
        continue
    args = shlex.split(e["command"])[1:]
    keep, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c"):
            skip = True
            continue
        keep.append(a)
    print(shlex.join(["clang++-14", "-fsyntax-only", "-Wthread-safety",
                      "-Wno-unknown-warning-option"] + keep + [source]))
PY
count=$(wc -l < "$build/thread_safety.commands")
start=$SECONDS
report="$build/thread_safety.log"
# Two at a time, as every build here.
(cd "$build" && xargs -P "${HOTLINE_JOBS:-2}" -d '\n' -I{} sh -c '{} 2>&1' < thread_safety.commands) > "$report" || true
warnings=$(grep -c "warning: .*\[-Wthread-safety" "$report" || true)
errors=$(grep -c "error:" "$report" || true)
log "$count files in $((SECONDS - start)) s: $warnings thread-safety warnings, $errors errors"
if [ "$warnings" -gt 0 ] || [ "$errors" -gt 0 ]; then
  grep -E "(warning: .*\[-Wthread-safety|error:)" "$report" | sort -u >&2
  exit 1
fi
