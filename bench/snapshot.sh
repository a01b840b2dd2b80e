#!/usr/bin/env bash
# Freeze the code under test: export src/ of a commit (default HEAD) to /tmp and print the path
# to use as BENCH_SRC, so every benchmark of a session runs the same code even while src/ is being
# edited. The scripts put BENCH_SRC first on PYTHONPATH (ahead of the editable install).
#
#   export BENCH_SRC=$(bash bench/snapshot.sh)        # or: bash bench/snapshot.sh <commit>
set -euo pipefail
cd "$(dirname "$0")/.."
rev=$(git rev-parse "${1:-HEAD}")
dir=${BENCH_ROOT:-/tmp/juki-bench}/src-${rev:0:12}
if [ ! -d "$dir/src" ]; then
  mkdir -p "$dir"
  git archive "$rev" src | tar -x -C "$dir"
  echo "$rev" > "$dir/src/COMMIT"
fi
echo "$dir/src"
