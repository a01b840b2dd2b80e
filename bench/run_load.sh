#!/usr/bin/env bash
# Load test of the counter screens (issue 19 item 7): gunicorn + locust on this machine.
#
#   flock /tmp/bench.lock bash bench/run_load.sh juki_load                      # 50→500 sessions in steps
#   STAGES=500:300 flock /tmp/bench.lock bash bench/run_load.sh juki_load       # 500 sessions, 5 minutes
#
# Needs the bench cluster (`bash bench/pg.sh start`), a seeded 1 M database, and the bench extra
# (`.venv/bin/pip install -e '.[bench]'`: locust, gunicorn). Creates the accounts and targets
# (bench/load_setup.py, 500 clerks + 50 reviewers by default), starts gunicorn on $PORT, samples
# CPU and pg_stat_activity (bench/load_sampler.py), starts the chainer and the 庁内連携 consumer, runs locust headless with the step shape of
# bench/locustfile.py, then writes the per-stage figures (bench/load_stats.py → results/load.jsonl).
# Run files: /tmp/juki-bench/load/run-<stamp>/ (records.csv, samples.jsonl, locust_*.csv, logs).
# The code under test: $BENCH_SRC if set (bench/snapshot.sh), else the work tree.
#
# Settings (environment): WORKERS (2) and THREADS (4): gunicorn gthread; STAGES
# ("50:60,100:60,200:60,300:60,500:180", users:seconds held after the ramp); SPAWN_RATE (2 logins/s:
# each argon2 check costs ~0.3 s of CPU); THINK ("3,10"); P_MOVE / P_CERT (0.15 each); CLERKS (500),
# REVIEWERS (50); SETTLE (20 s after each ramp before measuring); RUN_ID (bench/run_all.sh's).
set -euo pipefail
cd "$(dirname "$0")/.."

DB=${1:?database name (e.g. juki_load)}
ROOT=${BENCH_ROOT:-/tmp/juki-bench}
PORT=${PORT:-8003}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
STAGES=${STAGES:-50:60,100:60,200:60,300:60,500:180}
SPAWN_RATE=${SPAWN_RATE:-2}
CLERKS=${CLERKS:-500}
REVIEWERS=${REVIEWERS:-50}
SETTLE=${SETTLE:-20}
export JUKI_VAR_DIR=${JUKI_VAR_DIR:-$ROOT/var}
export DJANGO_SETTINGS_MODULE=juki.conf.dev
URL=$(bash bench/pg.sh url "$DB")
RUN=$ROOT/load/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN" "$JUKI_VAR_DIR"
[ -x .venv/bin/locust ] && [ -x .venv/bin/gunicorn ] || { echo "locust/gunicorn missing: .venv/bin/pip install -e '.[bench]'" >&2; exit 2; }

.venv/bin/python bench/load_setup.py --database-url "$URL" --clerks "$CLERKS" --reviewers "$REVIEWERS" \
  --seed "${SEED:-$RANDOM}" --out "$RUN/targets.json" | tee "$RUN/setup.json"
psql -h 127.0.0.1 -p "${BENCH_PG_PORT:-55432}" -U postgres -qAt -d "$DB" -c "VACUUM ANALYZE" >/dev/null

PYPATH=${BENCH_SRC:+$BENCH_SRC}
# gthread: a worker's threads overlap one request's database waits with another's Python; two
# workers for the two cores (the GIL keeps one worker's threads on one core).
SERVER=(.venv/bin/gunicorn juki.wsgi:application -b "127.0.0.1:$PORT" -w "$WORKERS" -k gthread --threads "$THREADS"
        --keep-alive 30 --backlog 2048 --timeout 120 --no-control-socket)
DATABASE_URL=$URL PYTHONPATH=${PYPATH}${PYTHONPATH:+:$PYTHONPATH} JUKI_LOG_LEVEL=WARNING PYTHONUNBUFFERED=1 \
  setsid "${SERVER[@]}" >"$RUN/server.log" 2>&1 &
GPID=$!
# The chainer links the log rows, as its service does in production (code from issue 19 on; older
# code links each row in the request itself).
CPID=""
if DATABASE_URL=$URL PYTHONPATH=${PYPATH}${PYTHONPATH:+:$PYTHONPATH} .venv/bin/juki audit chain --help >/dev/null 2>&1; then
  DATABASE_URL=$URL PYTHONPATH=${PYPATH}${PYTHONPATH:+:$PYTHONPATH} JUKI_LOG_LEVEL=INFO \
    setsid .venv/bin/juki audit chain --follow --report-every 30 >"$RUN/chainer.log" 2>&1 &
  CPID=$!
fi
# The 庁内連携 consumer and its receivers run as in the daytime (CONSUMERS=0 leaves them out): set up
# once (the 庁内 PKI, the demo applications, 統一識別番号 for every person: ~25 min at 1 M persons),
# the 随時 destinations' initial fulls taken as delivered (bench/load_linkage.py), the backlog of
# earlier runs sent before the clock starts (not measured), then `juki linkage run` beside the load.
LKPIDS=()
if [ "${CONSUMERS:-1}" = 1 ]; then
  export JUKI_LINKAGE_DIR=${JUKI_LINKAGE_DIR:-$JUKI_VAR_DIR/linkage}
  DATABASE_URL=$URL PYTHONPATH=${PYPATH}${PYTHONPATH:+:$PYTHONPATH} .venv/bin/juki linkage setup >"$RUN/linkage-setup.log" 2>&1
  ONLY=$(DATABASE_URL=$URL PYTHONPATH=${PYPATH}${PYTHONPATH:+:$PYTHONPATH} .venv/bin/python bench/load_linkage.py)
  DATABASE_URL=$URL PYTHONPATH=${PYPATH}${PYTHONPATH:+:$PYTHONPATH} setsid .venv/bin/juki linkage receivers >"$RUN/receivers.log" 2>&1 &
  LKPIDS+=($!)
  sleep 3
  DATABASE_URL=$URL PYTHONPATH=${PYPATH}${PYTHONPATH:+:$PYTHONPATH} .venv/bin/juki linkage once --only "$ONLY" >"$RUN/linkage-backlog.log" 2>&1
  DATABASE_URL=$URL PYTHONPATH=${PYPATH}${PYTHONPATH:+:$PYTHONPATH} JUKI_LOG_LEVEL=INFO \
    setsid .venv/bin/juki linkage run --only "$ONLY" >"$RUN/linkage.log" 2>&1 &
  LKPIDS+=($!)
fi
cleanup() { kill "$SPID" 2>/dev/null || true; kill "$GPID" 2>/dev/null || true; [ -z "$CPID" ] || kill "$CPID" 2>/dev/null || true
            for p in "${LKPIDS[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
            wait "$GPID" 2>/dev/null || true; }
SPID=""
trap cleanup EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/counter/login/" && break
  kill -0 "$GPID" || { cat "$RUN/server.log"; exit 1; }
  sleep 0.2
done
# Warm every worker's imports and templates before the clock starts (not measured).
for _ in $(seq $((WORKERS * 4))); do curl -s -o /dev/null "http://127.0.0.1:$PORT/counter/login/"; done

LOAD_TARGETS=$RUN/targets.json LOAD_RECORDS=$RUN/records.csv LOAD_SCHEDULE=$RUN/schedule.json \
LOAD_STAGES=$STAGES LOAD_SPAWN_RATE=$SPAWN_RATE LOAD_THINK=${THINK:-3,10} \
LOAD_P_MOVE=${P_MOVE:-0.15} LOAD_P_CERT=${P_CERT:-0.15} \
  .venv/bin/locust -f bench/locustfile.py --headless --host "http://127.0.0.1:$PORT" --csv "$RUN/locust" \
  --loglevel WARNING --stop-timeout 30 >"$RUN/locust.log" 2>&1 &
LPID=$!
.venv/bin/python bench/load_sampler.py --database-url "$URL" --gunicorn-pid "$GPID" --locust-pid "$LPID" \
  --out "$RUN/samples.jsonl" &
SPID=$!
wait "$LPID" || echo "locust exited with $? (failures are counted below)" >&2
cleanup
trap - EXIT
tail -5 "$RUN/locust.log"
.venv/bin/python bench/load_stats.py --dir "$RUN" --settle "$SETTLE" --database "$DB" --run-id "${RUN_ID:-}" \
  --server "gunicorn -w $WORKERS -k gthread --threads $THREADS (juki.conf.dev, 127.0.0.1:$PORT)"
