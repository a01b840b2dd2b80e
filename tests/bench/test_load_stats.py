"""bench/load_stats.py: the per-stage windows and figures of a load test (the bench itself runs on demand)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("load_stats", BENCH / "load_stats.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


stats = _load()
SCHEDULE = {"epoch": 1000.0, "stages": [{"users": 50, "start": 0, "ramp_end": 25, "end": 85},
                                        {"users": 100, "start": 85, "ramp_end": 110, "end": 120}]}


def test_each_stage_is_measured_after_its_ramp_and_settling():
    w = stats.windows(SCHEDULE, settle=20)
    assert [(x["users"], x["start"], x["end"]) for x in w] == [(50, 1045.0, 1085.0), (100, 1120.0, 1120.0)]


def test_logins_are_apart_and_failures_of_every_request_count():
    rows = [{"start": 1050.0 + i, "name": "person", "ms": float(10 * (i + 1)), "ok": True} for i in range(10)]
    rows += [{"start": 1051.0, "name": "login (argon2)", "ms": 900.0, "ok": True},
             {"start": 1052.0, "name": "search", "ms": 5.0, "ok": False},
             {"start": 1090.0, "name": "person", "ms": 9999.0, "ok": False}]  # after the window
    out = stats.latency(rows, 1045.0, 1085.0)
    assert out["requests"] == 11 and out["logins"] == 1 and out["failures"] == 1
    assert out["p50_ms"] == 50.0 and out["p95_ms"] == 100.0
    assert out["rps"] == round(11 / 40, 1)
    assert out["by_name"]["person"]["n"] == 10


def test_resources_average_cpu_and_count_waiting_sessions():
    samples = [{"t": 1050.0 + i, "cpu": {"gunicorn": 1.0 + i, "postgres": 0.5}, "machine_busy": 1.8,
                "pg": [{"state": "active", "type": "Lock", "event": "transactionid", "n": 2},
                       {"state": "idle", "type": "Client", "event": "ClientRead", "n": 30}]} for i in range(2)]
    out = stats.resources(samples, 1045.0, 1085.0)
    assert out["cpu_cores"] == {"gunicorn": 1.5, "postgres": 0.5}
    assert out["pg_active_by_wait"] == {"Lock:transactionid": 2.0}  # idle connections are not waits
