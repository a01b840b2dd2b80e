#!/usr/bin/env bash
# The summary set of BENCHMARKS.md in one run, against a fresh 1 M database (issue 19 item 1):
#   seed → person + household over HTTP → counter search over HTTP (Chromium) → changes (with
#   pgbench) → certificate PDF → load (locust, 50 → 500 sessions),
# then the dated table with the same-run ratios (bench/run_all_table.py).
#
#   bash bench/pg.sh start
#   bash bench/run_all.sh              # measures HEAD (frozen with bench/snapshot.sh)
#   bash bench/run_all.sh <commit>     # or another commit
#
# Every timed stage runs under `flock /tmp/bench.lock` (one timed benchmark at a time on this
# shared machine); the lock is released between stages. Database $BENCH_DB (default juki_all) is
# dropped and re-created. Output: /tmp/juki-bench/all/<run id>/ (each stage's log, its result
# lines, stages.tsv with each stage's seconds) and summary.md, the table to paste into BENCHMARKS.md.
# Needs the bench extra (`.venv/bin/pip install -e '.[bench]'`), /usr/bin/chromium + playwright
# (test extra), pgbench, and the town dictionary (TOWNS=, as bench/run_seed.sh).
# SKIP="search,load" leaves stages out (their rows say "not run").
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=${BENCH_ROOT:-/tmp/juki-bench}
DB=${BENCH_DB:-juki_all}
PERSONS=${PERSONS:-1000000}
SKIP=${SKIP:-}
LOCK=${BENCH_LOCK:-/tmp/bench.lock}
export JUKI_VAR_DIR=${JUKI_VAR_DIR:-$ROOT/var}
export BENCH_SRC=$(bash bench/snapshot.sh "${1:-HEAD}")
export RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/all/$RUN_ID
mkdir -p "$OUT" "$ROOT/results"
URL=$(bash bench/pg.sh url "$DB")
case "$DB" in juki_all*|juki_load*) ;; *) echo "BENCH_DB must be juki_all* or juki_load* (it is dropped)" >&2; exit 2 ;; esac
echo "run $RUN_ID: commit $(cat "$BENCH_SRC/COMMIT"), database $DB, output $OUT"
printf 'stage\tstart_utc\tseconds\n' > "$OUT/stages.tsv"
date -u +%Y-%m-%dT%H:%M:%SZ > "$OUT/started"

# stage NAME RESULTS_FILE CMD...: run CMD under the lock, keep its log, the lines it appended to
# RESULTS_FILE (results/*.jsonl) and its wall time.
stage() {
  local name=$1 file=$2; shift 2
  if [[ ",$SKIP," == *",$name,"* ]]; then echo "== $name: skipped"; return; fi
  echo "== $name (waiting for $LOCK from $(date -u +%H:%M:%S) UTC)"
  # Under the lock: the clock starts once it is held (another session's benchmark is not this
  # stage's time), and the result lines are counted then (nobody else appends while it is held).
  flock "$LOCK" bash -c 'f=$1; shift; { [ -f "$f" ] && wc -l < "$f" || echo 0; } > "$0.before"
    date -u +%H:%M:%S > "$0.start"; date +%s > "$0.t0"; "$@"; rc=$?; date +%s > "$0.t1"
    [ -f "$f" ] && tail -n +"$(( $(cat "$0.before") + 1 ))" "$f" > "$0.jsonl"; exit $rc' \
    "$OUT/$name" "$file" "$@" 2>&1 | tee "$OUT/$name.log"
  printf '%s\t%s\t%s\n' "$name" "$(cat "$OUT/$name.start")" "$(( $(cat "$OUT/$name.t1") - $(cat "$OUT/$name.t0") ))" >> "$OUT/stages.tsv"
}

R=$ROOT/results
stage seed "$R/seed.jsonl" env BENCH_DB="$DB" bash bench/run_seed.sh pg "$PERSONS"
flock "$LOCK" psql -h 127.0.0.1 -p "${BENCH_PG_PORT:-55432}" -U postgres -qAt -d "$DB" -c "VACUUM ANALYZE"  # heavy: not beside another run
stage http "$R/http.jsonl" .venv/bin/python bench/bench_http.py --database-url "$URL" --server gunicorn \
  --requests 2000 --max-seconds 60
stage search "$R/search.jsonl" .venv/bin/python bench/bench_search.py --database-url "$URL" --per-kind 60 --seed 4
stage changes "$R/changes.jsonl" .venv/bin/python bench/bench_changes.py --database-url "$URL" \
  --phases move,birth,mix,wardmove --n 3000 --max-seconds 30 --seed 933
stage pdf "$R/certificate.jsonl" .venv/bin/python bench/bench_certificate.py --runs 200
stage load "$R/load.jsonl" bash bench/run_load.sh "$DB"

date -u +%Y-%m-%dT%H:%M:%SZ > "$OUT/ended"
.venv/bin/python bench/run_all_table.py "$OUT" | tee "$OUT/summary.md"
