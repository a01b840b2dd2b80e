#!/usr/bin/env bash
# Seed benchmark: fresh migrated database + the real 町字 dictionary, then time
# `juki seed --persons N --seed 1` under /usr/bin/time -v (wall clock + peak RSS of the
# seeding process; the PostgreSQL server's own memory is not included).
#
#   bash bench/run_seed.sh pg 1000000
#   bash bench/run_seed.sh sqlite 1000000
#
# PostgreSQL: needs `bash bench/pg.sh start`; uses database juki_seed_<N> (recreated), or $BENCH_DB.
# SQLite: writes /tmp/juki-bench/sqlite/seed_<N>.sqlite3 (recreated).
# Results: one JSON line appended to $BENCH_OUT (default /tmp/juki-bench/results/seed.jsonl).
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${1:?pg|sqlite}
PERSONS=${2:-1000000}
SEED=${SEED:-1}
TOWNS=${TOWNS:-/work/shared/data/kitakyushu-towns.csv}
ROOT=${BENCH_ROOT:-/tmp/juki-bench}
BENCH_OUT=${BENCH_OUT:-$ROOT/results/seed.jsonl}
export JUKI_VAR_DIR=${JUKI_VAR_DIR:-$ROOT/var}   # local secrets of juki.conf.dev live here, not in the repo
export DJANGO_SETTINGS_MODULE=juki.conf.dev
if [ -n "${BENCH_SRC:-}" ]; then   # frozen code under test (bench/snapshot.sh)
  export PYTHONPATH=$BENCH_SRC${PYTHONPATH:+:$PYTHONPATH}
  COMMIT=$(cat "$BENCH_SRC/COMMIT" 2>/dev/null || echo unknown)
else
  COMMIT=$(git rev-parse HEAD)$( [ -z "$(git status --porcelain src)" ] || echo "+dirty")  # `|| echo`: a clean tree must not end the script under set -e
fi
mkdir -p "$ROOT/results" "$ROOT/logs" "$JUKI_VAR_DIR"

case "$ENGINE" in
  pg)
    DB=${BENCH_DB:-juki_seed_$PERSONS}   # BENCH_DB=juki_search: keep the older 1M database
    export DATABASE_URL=$(bash bench/pg.sh createdb "$DB" 2>/dev/null | tail -1)
    ;;
  sqlite)
    mkdir -p "$ROOT/sqlite"
    F="$ROOT/sqlite/seed_$PERSONS.sqlite3"
    rm -f "$F" "$F-wal" "$F-shm"
    export DATABASE_URL="sqlite:///$F"
    ;;
  *) echo "engine must be pg or sqlite" >&2; exit 2 ;;
esac

echo "== $ENGINE: migrate + load-towns ($DATABASE_URL)"
.venv/bin/juki migrate -v 0
.venv/bin/juki load-towns "$TOWNS"

LOG="$ROOT/logs/seed_${ENGINE}_${PERSONS}.time"
echo "== $ENGINE: juki seed --persons $PERSONS --seed $SEED"
/usr/bin/time -v -o "$LOG" .venv/bin/juki seed --persons "$PERSONS" --seed "$SEED" --no-progress

wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$LOG")
rss_kb=$(awk -F': ' '/Maximum resident set size/{print $2}' "$LOG")
user=$(awk -F': ' '/User time/{print $2}' "$LOG")
sys=$(awk -F': ' '/System time/{print $2}' "$LOG")
secs=$(python3 - "$wall" <<'PY'
import sys
parts = [float(p) for p in sys.argv[1].split(":")]
s = 0.0
for p in parts:
    s = s * 60 + p
print(f"{s:.1f}")
PY
)
if [ "$ENGINE" = pg ]; then
  size=$(psql -h 127.0.0.1 -p "${BENCH_PG_PORT:-55432}" -U postgres -qAt -d "$DB" -c "SELECT pg_database_size(current_database())")
else
  size=$(( $(stat -c %s "$F") + $(stat -c %s "$F-wal" 2>/dev/null || echo 0) ))
fi
rate=$(python3 -c "print(round($PERSONS/$secs))")
line=$(printf '{"bench":"seed","commit":"%s","engine":"%s","persons":%s,"seed":%s,"wall_s":%s,"persons_per_s":%s,"peak_rss_mib":%s,"user_s":%s,"sys_s":%s,"db_bytes":%s,"date":"%s"}' \
  "$COMMIT" "$ENGINE" "$PERSONS" "$SEED" "$secs" "$rate" "$(( rss_kb / 1024 ))" "$user" "$sys" "$size" "$(date -Is)")
echo "$line" | tee -a "$BENCH_OUT"
