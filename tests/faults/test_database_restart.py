"""PostgreSQL restarted under traffic (issue 18, fault 4).

The register's web server as deployed (gunicorn, deploy/gunicorn.conf.py: two gthread workers with
persistent database connections) is asked in a loop for the counter's login page (it reads the
terminals) and for a 住民票 over the API (a gated read that writes its access-log row), while its
PostgreSQL (a cluster of the test's own) is restarted with `pg_ctl restart -m fast`. Requests may fail
while the database is down; afterwards the same gunicorn master and the same workers answer again
without being restarted. Every failure is an error page or a problem+json without a traceback, a
database message or personal data.
"""
from __future__ import annotations

import threading
import time
from collections import Counter

from .conftest import start_web, until

LEAKS = ("Traceback", "File \"", "psycopg", "OperationalError", "Error:", "SELECT ", "INSERT ", "sqlstate")


def test_requests_succeed_again_after_a_database_restart_without_restarting_juki(pg_register, own_postgres):
    register = pg_register
    pid, atena, family, given = register.rows(
        "SELECT p.id, p.atena_number, v.family_name, v.given_name FROM register_person p "
        "JOIN register_personversion v ON v.id = p.current_id WHERE p.status = 'resident' ORDER BY p.id LIMIT 1")[0]
    personal = (family, given, atena)
    web = start_web(register)
    headers = web.api_headers()
    person = web.get(f"/api/v1/persons/{pid}", headers=headers)
    assert person.status_code == 200, person.text[:300]
    assert all(value in person.text for value in personal)  # what no error below may show
    master, workers = web.proc.pid, web.workers()
    logs_before = register.one("SELECT COUNT(*) FROM audit_accesslog WHERE function = 'person.view'")

    seen: list[tuple[str, float, str, int, str, str]] = []  # (phase, t, what, status, content type, body)
    phase = ["before"]
    halt = threading.Event()

    def traffic():
        while not halt.is_set():
            for what, path, kw in (("login page", "/counter/login/", {}),
                                   ("API person", f"/api/v1/persons/{pid}", {"headers": headers})):
                try:
                    r = web.get(path, timeout=15, **kw)
                    seen.append((phase[0], time.monotonic(), what, r.status_code, r.headers.get("Content-Type", ""),
                                 r.text))
                except Exception as exc:  # noqa: BLE001 - a refused or cut connection is recorded, not raised
                    seen.append((phase[0], time.monotonic(), what, 0, type(exc).__name__, ""))
            time.sleep(0.02)

    thread = threading.Thread(target=traffic, daemon=True)
    thread.start()
    try:
        until(lambda: len(seen) >= 10, timeout=30, what="traffic before the restart")
        phase[0] = "restart"
        started = time.monotonic()
        own_postgres.pg_ctl("-m", "fast", "restart")
        restarted = time.monotonic()
        phase[0] = "after"

        def recovered() -> bool:  # the last 10 of each kind, all after the restart, all 200
            after = [s for s in seen if s[0] == "after"]
            return all(len(tail := [s for s in after if s[2] == what][-10:]) == 10 and {s[3] for s in tail} == {200}
                       for what in ("login page", "API person"))

        until(recovered, timeout=60, step=0.1, what="requests to succeed again after the restart")
    finally:
        halt.set()
        thread.join(timeout=30)

    # The same processes answer: nothing restarted juki.
    assert web.proc.poll() is None and web.proc.pid == master and web.workers() == workers
    assert {s[3] for s in seen if s[0] == "before"} == {200}
    failed = [s for s in seen if s[3] != 200]
    summary = Counter((s[0], s[2], s[3], s[4].split(";")[0],
                       s[5][s[5].find('"code"'):][:30] if "json" in s[4] else "") for s in failed)
    print(f"restart took {restarted - started:.2f} s; {len(seen)} requests, failures: {dict(summary)}")
    recovered_at = max(s[1] for s in failed) - restarted if failed else 0.0
    print(f"last failure {recovered_at:+.2f} s after pg_ctl restart returned")
    for _, _, what, status, ctype, body in failed:
        # An answer of the server's own, 503 to try again, never a connection the server dropped.
        assert status == 503, (what, status, ctype)
        assert not any(leak in body for leak in LEAKS), body[:500]
        assert not any(value in body for value in personal)
        if what == "API person":
            assert ctype.startswith("application/problem+json") and '"database_unavailable"' in body, body[:300]
        else:
            assert "データベースに接続できません" in body, body[:300]
    # A read that failed wrote no access-log row; each one answered 200 wrote exactly one.
    ok_reads = sum(1 for s in seen if s[2] == "API person" and s[3] == 200)
    assert register.one("SELECT COUNT(*) FROM audit_accesslog WHERE function = 'person.view'") == logs_before + ok_reads
    log = register.log_of("web")
    assert not any(value in log for value in personal)
