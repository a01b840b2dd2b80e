"""A database that cannot store anything (issue 18, fault 5): a full disk under SQLite (a small tmpfs,
really full) and a read-only PostgreSQL (`default_transaction_read_only`, as a demoted primary or a
DBA's emergency switch would make it), under the web server as deployed (gunicorn).

A change is refused with 503 `storage_unavailable` and 「保存できません」; nothing is half-written. The
refused attempt cannot be written to the access log (the log is in the same database, which refuses
every write), so the request fails loudly instead: a 503 to the caller and a line in the application
log — and a read of a 住民票, whose access-log row cannot be written either, is refused the same way
rather than served unlogged. Once the database can store again, the same server (same processes)
records the change.
"""
from __future__ import annotations

import datetime as dt
import errno
import os
import re
import sqlite3
import subprocess
import time

from .conftest import Register, Web, start_web, until

LEAKS = ("Traceback", "File \"", "psycopg", "OperationalError", "sqlite", "SELECT ", "INSERT ", "sqlstate")
COUNTED = ("register_change", "register_personversion", "register_outboxevent", "audit_accesslog")


def _counts(register: Register) -> dict[str, int]:
    return {table: register.one(f"SELECT COUNT(*) FROM {table}") for table in COUNTED}


def _subject(register: Register) -> tuple[int, int, tuple[str, str, str]]:
    pid, seq, atena, family, given = register.rows(
        "SELECT p.id, p.latest_seq, p.atena_number, v.family_name, v.given_name FROM register_person p "
        "JOIN register_personversion v ON v.id = p.current_id WHERE p.status = 'resident' ORDER BY p.id LIMIT 1")[0]
    return pid, seq, (atena, family, given)


def _change(web: Web, headers: dict, pid: int, seq: int):
    return web.post("/api/v1/changes/erratum-correction", headers=headers,
                    json={"event_date": dt.date.today().isoformat(), "person": {"id": pid, "version": seq},
                          "changes": {"domicile": "福岡県北九州市小倉北区城内99番"}})


def _refused_loudly(register: Register, web: Web, headers: dict, pid: int, seq: int, personal) -> None:
    workers = web.workers()
    change = _change(web, headers, pid, seq)
    read = web.get(f"/api/v1/persons/{pid}", headers=headers)
    for r in (change, read):
        assert r.status_code == 503, (r.status_code, r.text[:300])
        assert r.headers["Content-Type"].startswith("application/problem+json")
        body = r.json()
        assert body["code"] == "storage_unavailable" and "保存できません" in body["detail"], body
        assert not any(leak in r.text for leak in LEAKS) and not any(v in r.text for v in personal), r.text
    # The counter's login (it writes the session and the login's log row): the screen says so too.
    page = web.get("/counter/login/")
    login = web.post("/counter/login/", cookies=page.cookies,
                     data={"csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1],
                           "username": "demo-clerk", "password": register.staff["demo-clerk"], "terminal": "DEMO-01"},
                     headers={"Referer": web.base + "/counter/login/"})
    assert login.status_code == 503 and "保存できません" in login.text and "システムエラー" not in login.text, login.text[:300]
    assert not any(leak in login.text for leak in LEAKS)
    # Nothing logged in the register (the callers count the rows once it can be read again): the
    # refusals are in the application log.
    log = register.log_of("web")
    assert log.count("storage unavailable") >= 3, log[-3000:]
    assert not any(v in log for v in personal)
    assert web.workers() == workers and web.proc.poll() is None


def _works_again(register: Register, web: Web, headers: dict, pid: int, seq: int, workers: set[int]) -> None:
    before = _counts(register)
    change = _change(web, headers, pid, seq)
    assert change.status_code == 201, change.text[:500]
    after = _counts(register)
    assert {t: after[t] - before[t] for t in COUNTED} == {"register_change": 1, "register_personversion": 1,
                                                         "register_outboxevent": 1, "audit_accesslog": 1}
    assert web.workers() == workers and web.proc.poll() is None  # the same processes: nothing restarted


def test_a_full_disk_refuses_a_change_with_storage_unavailable_and_writes_nothing(sqlite_register):
    mount = sqlite_register.var.parent / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"mounting a small tmpfs needs root: {done.stderr}"
    register = Register("sqlite", f"sqlite:///{mount / 'juki.sqlite3'}", sqlite_register.var,
                        staff=sqlite_register.staff)
    holder = None
    try:
        with sqlite3.connect(sqlite_register.sqlite_path) as src, sqlite3.connect(register.sqlite_path) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        pid, seq, personal = _subject(register)
        web = start_web(register, JUKI_TWO_PERSON_VERIFICATION="0")
        headers = web.api_headers()
        workers = web.workers()
        before = _counts(register)
        # Another process holds the register open (as the chainer or a consumer would): the last
        # connection to close would checkpoint and delete the WAL file, freeing its space, and a small
        # write could then fit in the space freed, succeeding whole (with its log row).
        holder = sqlite3.connect(register.sqlite_path)
        holder.execute("SELECT COUNT(*) FROM register_change").fetchone()
        # Fill the disk: what is left, to the last byte a file can take.
        filler = mount / "filler"
        with open(filler, "wb", buffering=0) as f:
            for size in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        f.write(b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        assert os.statvfs(mount).f_bavail == 0
        _refused_loudly(register, web, headers, pid, seq, personal)
        filler.unlink()  # the administrator frees space
        assert _counts(register) == before  # nothing half-written, nothing logged
        _works_again(register, web, headers, pid, seq, workers)
    finally:
        if holder is not None:
            holder.close()
        register.close()
        for _ in range(50):
            if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_read_only_database_refuses_a_change_with_storage_unavailable_and_writes_nothing(pg_register,
                                                                                           own_postgres):
    register = pg_register
    pid, seq, personal = _subject(register)
    web = start_web(register, JUKI_TWO_PERSON_VERIFICATION="0")
    headers = web.api_headers()
    workers = web.workers()

    def read_only(on: bool) -> None:
        with own_postgres.admin() as conn:
            conn.execute("ALTER SYSTEM SET default_transaction_read_only = on" if on
                         else "ALTER SYSTEM RESET default_transaction_read_only")
            conn.execute("SELECT pg_reload_conf()")
        with own_postgres.admin() as conn:  # each session takes the reload before its next statement
            until(lambda: conn.execute("SHOW default_transaction_read_only").fetchone()[0] == ("on" if on else "off"),
                  timeout=10, what="the reload")
        time.sleep(0.3)

    before = _counts(register)
    try:
        read_only(True)
        _refused_loudly(register, web, headers, pid, seq, personal)
    finally:
        read_only(False)
    assert _counts(register) == before  # nothing half-written, nothing logged
    _works_again(register, web, headers, pid, seq, workers)
