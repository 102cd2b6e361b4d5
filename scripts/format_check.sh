#!/usr/bin/env bash
# Fails when a tracked C++ or proto source differs from what clang-format makes of it under the
# committed .clang-format (Google style, 100 columns). Debian 12's clang-format-14, so every
# machine formats the same way.
#   scripts/format_check.sh          lists the files that need formatting, exits 1 if any do
#   scripts/format_check.sh --fix    formats them in place
set -euo pipefail
source "$(dirname "$0")/lib.sh"
install_dependencies
cd "$HOTLINE_ROOT"

mapfile -t sources < <(git ls-files '*.cc' '*.h' '*.proto')
if [ "${1:-}" = --fix ]; then
  clang-format-14 -i "${sources[@]}"
  exit 0
fi
log "format check (clang-format-14) of ${#sources[@]} files"
unformatted=()
for f in "${sources[@]}"; do
  clang-format-14 --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]} > 0)); then
  echo "not formatted (run scripts/format_check.sh --fix):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
