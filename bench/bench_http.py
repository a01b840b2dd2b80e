"""Person + household over HTTP, one client, against a real server on 127.0.0.1.

    .venv/bin/python bench/bench_http.py --database-url postgresql://postgres@127.0.0.1:55432/juki_seed_1000000

Starts `juki runserver 127.0.0.1:PORT --noreload --insecure` (or gunicorn with --server
gunicorn, if installed) with DJANGO_SETTINGS_MODULE=juki.conf.dev against the database, gets a
bearer token from POST /api/v1/auth/token, then for --requests random persons:
GET /api/v1/persons/{id}, then GET /api/v1/households/{household_id} (from the first answer),
then — the same-run baseline — GET /api/v1/master/wards. Keep-alive HTTP/1.1 connection,
loopback only, bounded by --requests and --max-seconds. Reports p50/p95/p99 of each call and
of the pair. The server is stopped at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL"))
    ap.add_argument("--port", type=int, default=8001)
    ap.add_argument("--requests", type=int, default=2000, help="person+household pairs (upper bound)")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--max-seconds", type=float, default=180)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--server", choices=("runserver", "gunicorn"), default="runserver")
    ap.add_argument("--server-log", default=str(c.BENCH_ROOT / "logs" / "http_server.log"))
    return ap.parse_args()


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return resp.status, (json.loads(raw) if raw else {})
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError


def start_server(args, env) -> subprocess.Popen:
    log = open(args.server_log, "w")
    if args.server == "gunicorn":
        exe = ROOT / ".venv" / "bin" / "gunicorn"
        if not exe.exists():
            raise SystemExit("gunicorn is not installed in .venv (.venv/bin/pip install gunicorn)")
        cmd = [str(exe), "juki.wsgi:application", "-b", f"127.0.0.1:{args.port}", "-w", "1", "--threads", "1",
               "-k", "sync", "--keep-alive", "5"]
    else:
        cmd = [str(ROOT / ".venv" / "bin" / "juki"), "runserver", f"127.0.0.1:{args.port}", "--noreload", "--insecure"]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


def main():
    args = parse()
    c.setup_django(args.database_url)
    from django.db import connection

    c.bench_actor()  # bench-clerk + terminal BENCH-01
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*), MAX(id) FROM register_person")
        persons, pmax = cur.fetchone()
    rng = random.Random(args.seed)
    ids = [rng.randint(1, pmax) for _ in range(args.requests + args.warmup)]
    engine = connection.vendor
    pg_version = None
    if engine == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            pg_version = cur.fetchone()[0]
    connection.close()

    env = c.server_env(DJANGO_SETTINGS_MODULE="juki.conf.dev", DATABASE_URL=args.database_url,
                       JUKI_VAR_DIR=os.environ["JUKI_VAR_DIR"], PYTHONUNBUFFERED="1", JUKI_LOG_LEVEL="WARNING")
    Path(args.server_log).parent.mkdir(parents=True, exist_ok=True)
    proc = start_server(args, env)
    try:
        c.wait_port(args.port, proc)
        cl = Client(args.port)
        cl.headers = {"X-Terminal-Id": c.BENCH_TERMINAL}  # the token is bound to this terminal (ADR 0015)
        st, tok = cl.call("POST", "/api/v1/auth/token", {"username": c.BENCH_USER, "password": c.BENCH_PASSWORD})
        if st != 201:
            raise SystemExit(f"token: HTTP {st} {tok}")
        cl.headers = {"Authorization": f"Bearer {tok['token']}", "X-Terminal-Id": c.BENCH_TERMINAL,
                      "Accept": "application/json"}
        lat = {"person": [], "household": [], "pair": [], "wards": []}
        errors: dict[str, int] = {}
        started = None
        deadline = time.perf_counter() + args.max_seconds
        done = 0
        for i, pid in enumerate(ids):
            if i == args.warmup:
                started = time.perf_counter()
            t0 = time.perf_counter()
            st1, person = cl.call("GET", f"/api/v1/persons/{pid}")
            t1 = time.perf_counter()
            if st1 != 200:
                errors[f"person {st1}"] = errors.get(f"person {st1}", 0) + 1
                continue
            st2, household = cl.call("GET", f"/api/v1/households/{person['household_id']}")
            t2 = time.perf_counter()
            st3, _ = cl.call("GET", "/api/v1/master/wards")
            t3 = time.perf_counter()
            if st2 != 200 or st3 != 200:
                errors[f"household {st2} / wards {st3}"] = errors.get(f"household {st2} / wards {st3}", 0) + 1
                continue
            if i >= args.warmup:
                lat["person"].append(t1 - t0)
                lat["household"].append(t2 - t1)
                lat["pair"].append(t2 - t0)
                lat["wards"].append(t3 - t2)
                done += 1
            if t3 > deadline:
                break
        elapsed = time.perf_counter() - (started or time.perf_counter())
    finally:
        c.stop_server(proc)

    stats = {k: c.summary_ms(v) for k, v in lat.items()}
    result = {
        "bench": "http", "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": c.machine(),
        "code": c.src_info(), "engine": engine, "postgresql": pg_version, "server": args.server, "persons_in_register": persons,
        "pairs": done, "seconds": round(elapsed, 1), "errors": errors, "latency": stats,
        "ratio_pair_p95_to_wards_p95": round(stats["pair"]["p95_ms"] / stats["wards"]["p95_ms"], 2) if done else None,
        "ratio_person_p50_to_wards_p50": round(stats["person"]["p50_ms"] / stats["wards"]["p50_ms"], 2) if done else None,
    }
    c.record("http", result)


if __name__ == "__main__":
    main()
