#!/usr/bin/env bash
# Throwaway PostgreSQL 15 server for the benchmarks (loopback only, trust auth, data under /tmp).
#
#   bash bench/pg.sh start            # initdb (first time) + start on 127.0.0.1:$BENCH_PG_PORT
#   bash bench/pg.sh createdb NAME    # (re)create an empty database; prints its DATABASE_URL
#   bash bench/pg.sh url NAME         # prints postgresql://postgres@127.0.0.1:PORT/NAME
#   bash bench/pg.sh stop             # stop the server (data stays until `destroy`)
#   bash bench/pg.sh destroy          # stop and delete the data directory
#   bash bench/pg.sh status
#
# Server settings are PostgreSQL 15 defaults (shared_buffers 128MB, max_wal_size 1GB, fsync on)
# unless BENCH_PG_OPTS adds "-c name=value" pairs. initdb refuses root, so it runs as `postgres`.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
BENCH_PG_DIR=${BENCH_PG_DIR:-/tmp/juki-bench/pg}
BENCH_PG_PORT=${BENCH_PG_PORT:-55432}
BENCH_PG_OPTS=${BENCH_PG_OPTS:-}
DATA="$BENCH_PG_DIR/data"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql_() { psql -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

cmd=${1:-status}
case "$cmd" in
  start)
    mkdir -p "$BENCH_PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$BENCH_PG_DIR"
    if [ ! -f "$DATA/PG_VERSION" ]; then
      as_pg "$PGBIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C >"$BENCH_PG_DIR/initdb.log"
    fi
    if as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      echo "already running on 127.0.0.1:$BENCH_PG_PORT"; exit 0
    fi
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$BENCH_PG_DIR/log" -w \
      -o "-p $BENCH_PG_PORT -k $BENCH_PG_DIR -c listen_addresses=127.0.0.1 $BENCH_PG_OPTS" start >/dev/null
    echo "PostgreSQL $(psql_ -c 'SHOW server_version') on 127.0.0.1:$BENCH_PG_PORT (data $DATA)"
    ;;
  createdb)
    name=${2:?database name}
    psql_ -d postgres -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
    echo "postgresql://postgres@127.0.0.1:$BENCH_PG_PORT/$name"
    ;;
  url)
    echo "postgresql://postgres@127.0.0.1:$BENCH_PG_PORT/${2:?database name}"
    ;;
  stop)
    if [ -f "$DATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null && echo stopped
    else
      echo "not running"
    fi
    ;;
  destroy)
    bash "$0" stop || true
    rm -rf "$BENCH_PG_DIR"
    echo "removed $BENCH_PG_DIR"
    ;;
  status)
    if [ -f "$DATA/PG_VERSION" ]; then as_pg "$PGBIN/pg_ctl" -D "$DATA" status || true; else echo "no cluster at $DATA"; fi
    ;;
  *)
    echo "usage: $0 start|createdb NAME|url NAME|stop|destroy|status" >&2; exit 2
    ;;
esac
