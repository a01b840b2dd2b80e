#!/usr/bin/env bash
# Counter search at 1 M persons, end to end in headless Chromium (issue 3).
#
#   bash bench/run_search.sh            # seed juki_search (fresh) if it has no persons, then measure
#   RESEED=1 bash bench/run_search.sh   # always re-create and re-seed juki_search first
#   bash bench/run_search.sh --per-kind 100   # extra arguments go to bench/bench_search.py
#
# Needs the bench cluster (`bash bench/pg.sh start`). Seeding is bench/run_seed.sh (timed,
# appended to results/seed.jsonl) into database $BENCH_DB (default juki_search), so an older
# 1 M database (juki_seed_1000000, made before the search keys existed) is left alone.
# Freeze the code first if src/ is being edited: export BENCH_SRC=$(bash bench/snapshot.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

export BENCH_DB=${BENCH_DB:-juki_search}
PERSONS=${PERSONS:-1000000}
URL=$(bash bench/pg.sh url "$BENCH_DB")
have=$(psql -h 127.0.0.1 -p "${BENCH_PG_PORT:-55432}" -U postgres -qAt -d "$BENCH_DB" \
        -c "SELECT COUNT(*) FROM register_searchkey" 2>/dev/null || echo 0)
if [ -n "${RESEED:-}" ] || [ "${have:-0}" = 0 ]; then
  bash bench/run_seed.sh pg "$PERSONS"
fi
psql -h 127.0.0.1 -p "${BENCH_PG_PORT:-55432}" -U postgres -qAt -d "$BENCH_DB" -c "VACUUM ANALYZE"
export JUKI_VAR_DIR=${JUKI_VAR_DIR:-${BENCH_ROOT:-/tmp/juki-bench}/var}
exec .venv/bin/python bench/bench_search.py --database-url "$URL" "$@"
