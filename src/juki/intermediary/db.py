"""The platform's database: roles, schema, tenants, and a connection per tenant role (ADR 0026).

- `im_owner` owns the tables; nobody logs in as it (the admin URL sets the role to create them).
- `im_app` holds the table rights; each tenant logs in as `im_t_<code>`, a member of `im_app` and of
  nothing else, so row-level security (`tenant = im_tenant()`, the tenant of the logged-in role)
  limits every statement it runs, however it is written (C19).
- `im_operator` may only call `platform_status()`: counts and times per tenant, no person.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

OWNER, APP, OPERATOR = "im_owner", "im_app", "im_operator"
_CODE = re.compile(r"[0-9]{6}")


def role_of(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise ValueError(f"地方公共団体コードは6桁の数字です: {code!r}")
    return f"im_t_{code}"


def url_as(url: str, role: str) -> str:
    """The same server and database, logged in as `role`."""
    params = conninfo_to_dict(url)
    params.pop("password", None)
    return make_conninfo(**{**params, "user": role})


def _ensure_role(cur, name: str, *, login: bool) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    if cur.fetchone() is None:
        cur.execute(sql.SQL("CREATE ROLE {} " + ("LOGIN" if login else "NOLOGIN")
                            + " NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(sql.Identifier(name)))


def create_database(admin_url: str, name: str) -> str:
    """The platform's database on a server (the demo's and the tests' own cluster); its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(**{**conninfo_to_dict(admin_url), "dbname": name})


def init(admin_url: str) -> None:
    """Roles and schema (idempotent). `admin_url` may create roles (a superuser, at installation)."""
    schema = resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        cur = conn.cursor()
        for name, login in ((OWNER, False), (APP, False), (OPERATOR, True)):
            _ensure_role(cur, name, login=login)
        cur.execute(sql.SQL("GRANT CREATE, USAGE ON SCHEMA public TO {}").format(sql.Identifier(OWNER)))
        cur.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(OWNER)))
        with conn.transaction():
            cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
            cur.execute(schema)
            cur.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC")
            cur.execute(sql.SQL("GRANT SELECT ON tenant TO {}").format(sql.Identifier(APP)))
            cur.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON replica, fugo, inquiry, feed_batch TO {}")
                        .format(sql.Identifier(APP)))
            # 情報提供等記録 is append-only for the service: no UPDATE, no DELETE (the 7-year purge is the
            # owner's, issue 18).
            cur.execute(sql.SQL("GRANT SELECT, INSERT ON record TO {}").format(sql.Identifier(APP)))
            cur.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(sql.Identifier(APP)))
            cur.execute("REVOKE ALL ON FUNCTION platform_status() FROM PUBLIC")
            cur.execute(sql.SQL("GRANT EXECUTE ON FUNCTION platform_status() TO {}").format(sql.Identifier(OPERATOR)))
        cur.execute(sql.SQL("REVOKE {} FROM current_user").format(sql.Identifier(OWNER)))


def add_tenant(admin_url: str, code: str, name: str) -> str:
    """A municipality joins the platform: its login role and its tenant row. Idempotent; returns the role."""
    role = role_of(code)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        cur = conn.cursor()
        _ensure_role(cur, role, login=True)
        cur.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(APP), sql.Identifier(role)))
        cur.execute("INSERT INTO tenant (code, name, role) VALUES (%s, %s, %s) "
                    "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name", (code, name, role))
    return role


class Connections:
    """One connection per (thread, role): the server's request threads each keep their own."""

    def __init__(self, url: str):
        self.url = url
        self._local = threading.local()

    def get(self, role: str) -> psycopg.Connection:
        pool = self._local.__dict__.setdefault("conns", {})
        conn = pool.get(role)
        if conn is None or conn.closed or conn.broken:
            conn = pool[role] = psycopg.connect(url_as(self.url, role))
        return conn

    def tenant(self, code: str) -> psycopg.Connection:
        return self.get(role_of(code))

    def rollback_all(self) -> None:
        """After a statement failed: this thread's connections may be left inside an aborted transaction."""
        for conn in self._local.__dict__.get("conns", {}).values():
            if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()

    def close(self) -> None:
        for conn in self._local.__dict__.get("conns", {}).values():
            conn.close()
        self._local.__dict__["conns"] = {}


def purge(admin_url: str, *, today: dt.date, execute: bool) -> list[dict]:
    """The 情報提供等記録 past their 保存期限 (`keep_until < today`, 7 years: 番号法施行令29条) and the inquiries
    (with their sealed answers) received before the same seven years (from midnight in Japan), held ones
    excepted; per tenant, one `record_purge` row with the counts. The service may not delete a record: this
    runs on the installer's connection (a superuser, as for `init`) as the tables' owner (`juki intermediary
    purge`, daily)."""
    day = today.replace(year=today.year - 7) if not (today.month == 2 and today.day == 29) \
        else today.replace(year=today.year - 7, day=28)
    before = dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    done = []
    with psycopg.connect(admin_url) as conn, conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER)))
        for (code,) in conn.execute("SELECT code FROM tenant ORDER BY code").fetchall():
            records = conn.execute("SELECT count(*) FROM record WHERE tenant = %s AND keep_until < %s",
                                   (code, today)).fetchone()[0]
            inquiries = conn.execute("SELECT count(*) FROM inquiry WHERE tenant = %s AND received_at < %s "
                                     "AND state <> 'held'", (code, before)).fetchone()[0]
            if execute:
                conn.execute("DELETE FROM record WHERE tenant = %s AND keep_until < %s", (code, today))
                conn.execute("DELETE FROM inquiry WHERE tenant = %s AND received_at < %s AND state <> 'held'",
                             (code, before))
                conn.execute("INSERT INTO record_purge (tenant, before, records, inquiries) VALUES (%s, %s, %s, %s)",
                             (code, today, records, inquiries))
            done.append({"tenant": code, "records": records, "inquiries": inquiries, "before": today.isoformat(),
                         "inquiries_before": day.isoformat()})
    return done
