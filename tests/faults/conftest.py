"""Faults (issue 18), each a test: real `juki` processes on a register of the test's own, killed with
SIGKILL at random points, restarted, and the outcome checked row by row.

The register is the suite's kind: an SQLite file, or — when the suite runs with a PostgreSQL
DATABASE_URL — a database of the test's own on that server (never the suite's own database). Where
PostgreSQL itself is the point (a restart, a read-only database) the test starts a cluster of its own
from Debian's postgresql-15 (`juki.intermediary.cluster`), whichever kind the suite runs on.

Each process runs with the demo's settings (juki.conf.dev: its secrets in the register's var
directory, shared by every process of that register). Everything a test starts is killed, and every
directory and database it made removed, in its teardown, whatever the outcome.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
import pytest

from juki.intermediary import cluster

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PERSONS = 200  # the template's seeded residents


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(predicate, *, timeout: float, step: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)


def kill9(proc: subprocess.Popen) -> None:
    """SIGKILL to the process and everything it started (its own session: a forked worker of `juki seed`,
    gunicorn's workers), as a crash or systemd's kill would; then reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it does not end."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    kill9(proc)


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(_with_db(url, "postgres"), autocommit=True)


@dataclass
class Register:
    """A register of the test's own: its database (SQLite file or PostgreSQL database) and its var
    directory (the demo settings' secrets, the 庁内連携's folder). `juki(...)` runs a command to its end;
    `start(...)` starts a process the teardown kills."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    var: Path
    procs: list[subprocess.Popen] = field(default_factory=list)
    staff: dict[str, str] = field(default_factory=dict)  # username → password (the template's demo_staff)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
        env.update({"DJANGO_SETTINGS_MODULE": "juki.conf.dev", "DATABASE_URL": self.url, "JUKI_VAR_DIR": str(self.var),
                    "JUKI_LINKAGE_DIR": str(self.var / "linkage"), "PYTHONPATH": str(ROOT),
                    "JUKI_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
        env.pop("JUKI_CS_DATABASE_URL", None)
        return env

    @property
    def sqlite_path(self) -> Path:
        assert self.kind == "sqlite"
        return Path(urlsplit(self.url).path)

    def juki(self, *args, check: bool = True, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "juki.cli", *map(str, args)], env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check:
            assert done.returncode == 0, f"juki {' '.join(map(str, args))}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def start(self, argv: list[str], *, env: dict | None = None, stdout=subprocess.PIPE, log: str = "") -> subprocess.Popen:
        """Start a process; its stderr goes to `logs/<log>.log` beside the var directory (`log_of`)."""
        logs = self.var.parent / "logs"
        logs.mkdir(exist_ok=True)
        name = log or Path(str(argv[1] if len(argv) > 1 else argv[0])).name
        with open(logs / f"{name}.log", "a") as err:
            proc = subprocess.Popen([str(a) for a in argv], env={**self.env, **(env or {})}, stdout=stdout, stderr=err,
                                    text=True, start_new_session=True)
        self.procs.append(proc)
        return proc

    def log_of(self, name: str) -> str:
        path = self.var.parent / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_juki(self, *args, log: str = "", **kw) -> subprocess.Popen:
        return self.start([sys.executable, "-m", "juki.cli", *args], log=log or f"juki-{args[0]}", **kw)

    def start_writer(self, *args, **kw) -> subprocess.Popen:
        return self.start([sys.executable, str(HERE / "writer.py"), *args], log="writer", **kw)

    def rows(self, query: str, params: tuple = ()) -> list[tuple]:
        """A read of the register from this process (plain SQL, `%s` placeholders)."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.sqlite_path, timeout=30) as db:
                return db.execute(query.replace("%s", "?"), params).fetchall()
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def one(self, query: str, params: tuple = ()):
        return self.rows(query, params)[0][0]

    def settle(self, timeout: float = 30) -> None:
        """After a kill: wait until the killed processes' PostgreSQL sessions have ended. A COMMIT the
        client sent before it died is still carried out by its backend, so what committed is known only
        then. (SQLite has no server: the killed process's commit is in the file or not.)"""
        if self.kind != "postgresql":
            return
        db = urlsplit(self.url).path.lstrip("/")
        until(lambda: self.one("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                               (db,)) == 0, timeout=timeout, what="the killed processes' sessions to end")

    def close(self) -> None:
        for proc in self.procs:
            try:
                kill9(proc)
            except Exception:  # noqa: BLE001 - the next process is still killed
                pass
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        self.procs.clear()


def _suite_url() -> str:
    return os.environ.get("DATABASE_URL", "")


def suite_kind() -> str:
    return "postgresql" if _suite_url().startswith(("postgres://", "postgresql://")) else "sqlite"


def build(register: Register) -> None:
    """A migrated register with the demo dictionary, PERSONS seeded residents, a clerk (`demo-clerk`) and
    terminal DEMO-01, the 庁内連携's certificates, signing key and applications, the audit chain linked
    (tests/faults/build.py: the operator's commands in one process)."""
    done = subprocess.run([sys.executable, str(HERE / "build.py"), str(PERSONS)], env=register.env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"build: {done.returncode}\n{done.stdout}\n{done.stderr[-5000:]}"
    register.staff = json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class Template:
    kind: str
    directory: Path  # holds var/ (and, for SQLite, juki.sqlite3)
    url: str
    staff: dict[str, str]
    cleanup: list = field(default_factory=list)
    made: int = 0

    def copy(self, name: str) -> tuple[Path, str]:
        """A directory of its own (the var directory copied) and the database's URL."""
        self.made += 1
        directory = Path(tempfile.mkdtemp(prefix=f"juki-faults-{name}-"))
        shutil.copytree(self.directory / "var", directory / "var")
        if self.kind == "sqlite":
            target = directory / "juki.sqlite3"
            with sqlite3.connect(self.directory / "juki.sqlite3") as src, sqlite3.connect(target) as dst:
                src.backup(dst)
            src.close()
            dst.close()
            target.chmod(0o600)
            return directory, f"sqlite:///{target}"
        db = f"juki_faults_{os.getpid()}_{id(self) % 10000}_{self.made}"
        with _admin(self.url) as conn:
            conn.execute(f'CREATE DATABASE "{db}" TEMPLATE "{urlsplit(self.url).path.lstrip("/")}"')
        return directory, _with_db(self.url, db)

    def close(self) -> None:
        for step in reversed(self.cleanup):
            try:
                step()
            except Exception:  # noqa: BLE001 - the other steps still run
                pass
        self.cleanup.clear()


def drop(url: str) -> None:
    if url.startswith("postgres"):
        with _admin(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


def _template(kind: str) -> Template:
    directory = Path(tempfile.mkdtemp(prefix="juki-faults-template-"))
    url = (_with_db(_suite_url(), f"juki_faults_template_{os.getpid()}") if kind == "postgresql"
           else f"sqlite:///{directory / 'juki.sqlite3'}")
    made = Template(kind, directory, url, {})
    made.cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    try:
        if kind == "postgresql":
            drop(url)
            with _admin(url) as conn:
                conn.execute(f'CREATE DATABASE "{urlsplit(url).path.lstrip("/")}"')
            made.cleanup.append(lambda: drop(url))
        register = Register(kind, url, directory / "var")
        build(register)
        made.staff = register.staff
        return made
    except BaseException:
        made.close()
        raise


@dataclass
class OwnPostgres:
    """A PostgreSQL 15 cluster of the tests' own, and a built register on it to copy from."""

    cluster: cluster.Cluster
    template: Template

    def pg_ctl(self, *args: str) -> None:
        data = self.cluster.directory / "data"
        done = subprocess.run(cluster._as_postgres([str(cluster.PGBIN / "pg_ctl"), "-D", str(data), "-l",
                                                    str(self.cluster.directory / "server.log"), "-w", *args]),
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr or done.stdout

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.cluster.url, autocommit=True)


def _own_postgres(suite: Future | None) -> OwnPostgres:
    """The cluster, and its register: restored from the suite's template when the suite runs on
    PostgreSQL (pg_dump | pg_restore, with the same var directory and so the same keys), else built."""
    directory = Path(tempfile.mkdtemp(prefix="juki-faults-pg-"))  # not pytest's tmp: postgres must reach it
    var = Path(tempfile.mkdtemp(prefix="juki-faults-pg-var-"))
    made = Template("postgresql", var, "", {})
    made.cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    made.cleanup.append(lambda: shutil.rmtree(var, ignore_errors=True))
    try:
        pg = cluster.start(directory, fast=True)
        made.cleanup.append(pg.stop)
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE juki_template")
        made.url = _with_db(pg.url, "juki_template")
        source = suite.result() if suite is not None else None
        if source is not None and source.kind == "postgresql":
            shutil.copytree(source.directory / "var", var / "var")
            dump = subprocess.run([str(cluster.PGBIN / "pg_dump"), "-Fc", "-d", source.url], capture_output=True,
                                  timeout=300, check=False)
            assert dump.returncode == 0, dump.stderr.decode()[-2000:]
            restore = subprocess.run([str(cluster.PGBIN / "pg_restore"), "--no-owner", "-d", made.url],
                                     input=dump.stdout, capture_output=True, timeout=300, check=False)
            assert restore.returncode == 0, restore.stderr.decode()[-2000:]
            made.staff = dict(source.staff)
        else:
            register = Register("postgresql", made.url, var / "var")
            build(register)
            made.staff = register.staff
        return OwnPostgres(pg, made)
    except BaseException:
        made.close()
        raise


class Builds:
    """The session's registers, built side by side (each a few processes) the first time one is needed,
    if the session's tests need them: the suite's kind (`register`), one on the tests' own PostgreSQL
    cluster (`pg_register`) and an SQLite one (`sqlite_register`: the suite's own on the SQLite pass)."""

    def __init__(self, session):
        self.pool = ThreadPoolExecutor(max_workers=3)
        self.futures: dict[str, Future] = {}
        names = {name for item in session.items for name in getattr(item, "fixturenames", ())}
        self.wanted = {"suite": bool(names & {"register", "template"}),
                       "postgres": bool(names & {"pg_register", "own_postgres"}),
                       "sqlite": "sqlite_register" in names}

    def _start(self, name: str) -> Future:
        if name not in self.futures:
            if name == "suite" or (name == "sqlite" and suite_kind() == "sqlite"):
                self.futures[name] = self.futures.get("suite") or self.pool.submit(_template, suite_kind())
                self.futures["suite" if name == "sqlite" else name] = self.futures[name]
            elif name == "sqlite":
                self.futures[name] = self.pool.submit(_template, "sqlite")
            else:  # from the suite's template, when it is PostgreSQL and wanted anyway
                suite = self._start("suite") if suite_kind() == "postgresql" and self.wanted["suite"] else None
                self.futures[name] = self.pool.submit(_own_postgres, suite)
        return self.futures[name]

    def get(self, name: str):
        for other, wanted in self.wanted.items():
            if wanted:
                self._start(other)
        return self._start(name).result()

    def close(self) -> None:
        for future in {id(f): f for f in self.futures.values()}.values():
            try:
                made = future.result()
            except BaseException:  # noqa: BLE001 - a failed build cleaned up after itself
                continue
            (made.template if isinstance(made, OwnPostgres) else made).close()
        self.pool.shutdown()


@pytest.fixture(scope="session")
def builds(request) -> Builds:
    made = Builds(request.session)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="session")
def template(builds) -> Template:
    """The suite's kind of register, built once: each test gets a copy (`register`)."""
    return builds.get("suite")


@pytest.fixture
def register(template, request) -> Register:
    directory, url = template.copy(request.node.name[:20].replace("_", "-").strip("-"))
    reg = Register(template.kind, url, directory / "var", staff=dict(template.staff))
    try:
        yield reg
    finally:
        reg.close()
        drop(url)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def sqlite_register(builds, request) -> Register:
    """A register of the test's own on SQLite, whichever kind the suite runs on."""
    template = builds.get("sqlite")
    directory, url = template.copy(request.node.name[:20].replace("_", "-").strip("-"))
    reg = Register("sqlite", url, directory / "var", staff=dict(template.staff))
    try:
        yield reg
    finally:
        reg.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def own_postgres(builds) -> OwnPostgres:
    if not cluster.available():
        pytest.fail("PostgreSQL 15 (Debian's postgresql-15) is needed: ./scripts/test installs it")
    return builds.get("postgres")


@pytest.fixture
def pg_register(own_postgres, request) -> Register:
    """A register of the test's own on the tests' own PostgreSQL cluster."""
    directory, url = own_postgres.template.copy(request.node.name[:20].replace("_", "-").strip("-"))
    reg = Register("postgresql", url, directory / "var", staff=dict(own_postgres.template.staff))
    try:
        yield reg
    finally:
        reg.close()
        drop(url)
        shutil.rmtree(directory, ignore_errors=True)


def children(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (gunicorn's workers)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


@dataclass
class Web:
    """The register's web server as deployed: gunicorn with deploy/gunicorn.conf.py (gthread workers), on a
    loopback port instead of nginx's unix socket."""

    register: Register
    proc: subprocess.Popen
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> set[int]:
        return children(self.proc.pid)

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.base + path, timeout=kw.pop("timeout", 20), allow_redirects=False, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return requests.post(self.base + path, timeout=kw.pop("timeout", 20), allow_redirects=False, **kw)

    def api_headers(self, username: str = "demo-clerk", terminal: str = "DEMO-01") -> dict[str, str]:
        r = self.post("/api/v1/auth/token", json={"username": username, "password": self.register.staff[username]},
                      headers={"X-Terminal-Id": terminal})
        assert r.status_code == 201, r.text[:500]
        return {"Authorization": f"Bearer {r.json()['token']}", "X-Terminal-Id": terminal}


def start_web(register: Register, **env: str) -> Web:
    port = free_port()
    proc = register.start([sys.executable, "-m", "gunicorn", "-c", ROOT / "deploy" / "gunicorn.conf.py"],
                          env={"JUKI_GUNICORN_BIND": f"127.0.0.1:{port}", "JUKI_WEB_WORKERS": "2",
                               "JUKI_LOG_LEVEL": "INFO", **env}, stdout=subprocess.DEVNULL, log="web")
    web = Web(register, proc, port)

    def ready() -> bool:
        assert proc.poll() is None, register.log_of("web")[-3000:]
        try:
            return web.get("/counter/login/", timeout=5).status_code == 200 and len(web.workers()) == 2
        except requests.ConnectionError:
            return False

    until(ready, timeout=60, step=0.2, what="gunicorn")
    return web
