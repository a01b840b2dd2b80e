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

# PostgreSQL's own CPU seconds (the COPYs, the index builds): the postmaster's and its children's,
# reaped ones included (cutime/cstime), so the seed's whole CPU bill can be set against 2 cores.
pg_cpu() {
  local pidfile=${BENCH_PG_DIR:-$ROOT/pg}/data/postmaster.pid
  [ "$ENGINE" = pg ] && [ -r "$pidfile" ] || { echo 0; return; }
  python3 - "$(head -1 "$pidfile")" <<'PY'
import os, sys
pm = sys.argv[1]
tick = os.sysconf("SC_CLK_TCK")
def times(pid, children):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in (f[11:15] if children else f[11:13]))
total = times(pm, True)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            if open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1] == pm:
                total += times(pid, True)
        except OSError:
            pass
print(total / tick)
PY
}

LOG="$ROOT/logs/seed_${ENGINE}_${PERSONS}.time"
echo "== $ENGINE: juki seed --persons $PERSONS --seed $SEED"
pg_before=$(pg_cpu)
/usr/bin/time -v -o "$LOG" .venv/bin/juki seed --persons "$PERSONS" --seed "$SEED" --no-progress
pg_cpu_s=$(python3 -c "print(round($(pg_cpu) - $pg_before, 1))")

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
line=$(printf '{"bench":"seed","commit":"%s","engine":"%s","persons":%s,"seed":%s,"wall_s":%s,"persons_per_s":%s,"peak_rss_mib":%s,"user_s":%s,"sys_s":%s,"postgres_cpu_s":%s,"db_bytes":%s,"date":"%s"}' \
  "$COMMIT" "$ENGINE" "$PERSONS" "$SEED" "$secs" "$rate" "$(( rss_kb / 1024 ))" "$user" "$sys" "$pg_cpu_s" "$size" "$(date -Is)")
echo "$line" | tee -a "$BENCH_OUT"
