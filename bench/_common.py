"""Shared helpers of the benchmark scripts (not part of the test suite)."""
from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_ROOT = Path(os.environ.get("BENCH_ROOT", "/tmp/juki-bench"))
RESULTS = BENCH_ROOT / "results"

BENCH_USER = "bench-clerk"
BENCH_PASSWORD = "Kokura-Yahata-ward-7-2026!"  # throwaway benchmark database only
BENCH_TERMINAL = "BENCH-01"


def setup_django(database_url: str | None, db_options: dict | None = None) -> None:
    """Point juki at the benchmark database (local secrets under /tmp, not the repo) and set up Django.

    `db_options` (experiments only) are merged into DATABASES["default"]["OPTIONS"] before the
    first connection, e.g. {"server_side_binding": true, "prepare_threshold": 5}.
    """
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("JUKI_VAR_DIR", str(BENCH_ROOT / "var"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")
    src = src_dir()
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    import django

    django.setup()
    if db_options:
        from django.conf import settings

        settings.DATABASES["default"].setdefault("OPTIONS", {}).update(db_options)


REPO = Path(__file__).resolve().parent.parent


def src_dir() -> Path:
    """The code under test: $BENCH_SRC (a snapshot from bench/snapshot.sh) or the work tree's src/."""
    return Path(os.environ.get("BENCH_SRC") or REPO / "src")


def src_info() -> dict:
    src = src_dir()
    if (src / "COMMIT").exists():
        return {"src": str(src), "commit": (src / "COMMIT").read_text().strip(), "dirty": False}
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], text=True, capture_output=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "src"], text=True,
                                    capture_output=True).stdout.strip())
    except OSError:
        commit, dirty = "", None
    return {"src": str(src), "commit": commit, "dirty": dirty}


def server_env(**extra) -> dict:
    """Environment for a juki subprocess that runs the same code (BENCH_SRC first on PYTHONPATH)."""
    env = dict(os.environ, **extra)
    if os.environ.get("BENCH_SRC"):
        env["PYTHONPATH"] = os.environ["BENCH_SRC"] + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def bench_actor():
    """A clerk on a terminal (created once per database)."""
    from juki.accounts.models import Staff, Terminal
    from juki.accounts.services import staff_create
    from juki.audit.gate import Actor

    terminal, _ = Terminal.objects.get_or_create(code=BENCH_TERMINAL, defaults={"name": "ベンチ端末", "location": "ベンチマーク"})
    user = Staff.objects.filter(username=BENCH_USER).first()
    if user is None:
        user = staff_create(username=BENCH_USER, password=BENCH_PASSWORD, role="clerk", full_name="ベンチ 太郎")
    else:
        # Not staff_set_password: the same password again is refused by the history rule (C01).
        from juki.rights.services import role_grant_ensure

        role_grant_ensure(user, "clerk")
    return Actor(user=user, terminal=terminal)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def summary_ms(seconds: list[float]) -> dict:
    ms = [x * 1000 for x in seconds]
    return {
        "n": len(ms),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
        "p50_ms": round(pct(ms, 50), 2),
        "p95_ms": round(pct(ms, 95), 2),
        "p99_ms": round(pct(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else None,
    }


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "loadavg": os.getloadavg()}


def record(name: str, data: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / f"{name}.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(data, ensure_ascii=False) + "\n")
    print(json.dumps(data, ensure_ascii=False, indent=2))


def pg_conn_args(database_url: str) -> dict:
    from urllib.parse import urlparse

    u = urlparse(database_url)
    return {"host": u.hostname or "127.0.0.1", "port": str(u.port or 5432), "user": u.username or "postgres"}


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the app server started by a bench listens on `port`."""
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; see the server log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server started with start_new_session=True, with its workers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
