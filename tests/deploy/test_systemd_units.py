"""deploy/systemd: every unit is well-formed (systemd-analyze verify), sandboxed and run as user juki, and
each ExecStart names a juki command that really exists with arguments its parser accepts — a renamed
command or subcommand fails here, not on the city's server at night."""
from __future__ import annotations

import re
import runpy
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from tests.deploy.support import DEPLOY, ROOT

UNITS = DEPLOY / "systemd"
VENV_BIN = "/opt/juki/.venv/bin/"

# The long-running processes README names (its tour and its command list), one unit each.
DAEMONS = {
    "juki-web.service": "gunicorn -c /opt/juki/deploy/gunicorn.conf.py",
    "juki-chainer.service": "juki audit chain --follow",
    "juki-linkage.service": "juki linkage run",
    "juki-jukinet.service": "juki jukinet run",
    "juki-intermediary-link.service": "juki intermediary-link run",
    "juki-cs.service": "juki cs serve",
}
# The scheduled jobs, as their docstrings ask (hourly, daily, every few minutes).
TIMERS = {
    "juki-audit-checkpoint": ("juki audit checkpoint", "*-*-* *:05:00"),
    "juki-audit-verify": ("juki audit verify", "*-*-* 02:30:00"),
    "juki-anomaly-report": ("juki anomaly-report", "*-*-* 00:30:00"),
    "juki-protection-alerts": ("juki protection-alerts", "*-*-* 06:45:00"),
    "juki-seals-sweep": ("juki seals-sweep", "*-*-* 01:00:00"),
    "juki-cards-sweep": ("juki cards-sweep", "*-*-* 01:15:00"),
    "juki-kiosk-cleanup": ("juki kiosk-cleanup", "*:0/5"),
    "juki-cs-purge": ("juki cs purge", "*-*-* 03:00:00"),
    "juki-retention-purge": ("juki retention purge", "*-*-* 04:00:00"),
    "juki-backup-full": ("juki backup run --type full", "Sun *-*-* 01:30:00"),
    "juki-backup": ("juki backup run --type diff", "Mon..Sat *-*-* 01:30:00"),
    "juki-backup-verify": ("juki backup verify", "*-*-* 05:00:00"),
}
# pgBackRest reads PostgreSQL's data directory: these run as Debian's postgres user, without the
# StateDirectory that would hand /var/lib/juki to it, writing only the backups and the repository.
BACKUP_UNITS = {"juki-backup-full.service", "juki-backup.service", "juki-backup-verify.service"}
CS_UNITS = {"juki-cs.service", "juki-cs-purge.service"}  # the CS's own environment (ADR 0022)
HARDENING = {"NoNewPrivileges": ["yes"], "ProtectSystem": ["strict"], "ReadWritePaths": ["/var/lib/juki"],
             "PrivateTmp": ["yes"], "ProtectHome": ["yes"], "CapabilityBoundingSet": [""]}


def parse(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as systemd reads it: sections of keys, each key with every value given (in order)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{path.name}: {raw!r}"
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def units(suffix: str) -> dict[str, dict]:
    return {p.name: parse(p) for p in sorted(UNITS.glob(f"*{suffix}"))}


def test_the_units_are_the_expected_set():
    services = units(".service")
    long_running = {n: " ".join(s["Service"]["ExecStart"]) for n, s in services.items() if s["Service"]["Type"] != ["oneshot"]}
    assert long_running == {n: VENV_BIN + c for n, c in DAEMONS.items()}
    scheduled = {n.removesuffix(".service"): " ".join(s["Service"]["ExecStart"])
                 for n, s in services.items() if s["Service"]["Type"] == ["oneshot"]}
    assert scheduled == {n: VENV_BIN + c for n, (c, _) in TIMERS.items()}
    timers = units(".timer")
    assert {n.removesuffix(".timer"): (t["Timer"]["Unit"], t["Timer"]["OnCalendar"]) for n, t in timers.items()} == {
        n: ([f"{n}.service"], [cal]) for n, (_, cal) in TIMERS.items()}
    assert all(t["Install"]["WantedBy"] == ["timers.target"] for t in timers.values())
    target = parse(UNITS / "juki.target")
    assert sorted(target["Unit"]["Wants"][0].split()) == sorted(DAEMONS)
    assert all(services[n]["Install"]["WantedBy"] == ["juki.target"] for n in DAEMONS)


@pytest.mark.parametrize("name", sorted(p.name for p in UNITS.glob("*.service")))
def test_each_service_runs_sandboxed_as_juki(name):
    service = parse(UNITS / name)["Service"]
    if name in BACKUP_UNITS:
        assert service["User"] == ["postgres"] and "StateDirectory" not in service
        assert service["ReadWritePaths"][0].split()[:2] == ["/var/lib/juki/backups", "/var/lib/pgbackrest"]
        assert service["WorkingDirectory"] == ["/var/lib/juki/backups"] and service["NoNewPrivileges"] == ["yes"]
        assert service["ProtectSystem"] == ["strict"] and service["CapabilityBoundingSet"] == [""]
        return
    assert service["User"] == ["juki"] and service["Group"] == ["juki"]
    assert service["EnvironmentFile"] == ["/etc/juki/cs.env" if name in CS_UNITS else "/etc/juki/juki.env"]
    if name not in CS_UNITS:  # never the dev settings (juki.cli's default), which would make keys of their own
        assert service["Environment"] == ["DJANGO_SETTINGS_MODULE=juki.conf.production"]
    else:
        assert "Environment" not in service  # `juki cs` sets juki.conf.cs itself
    assert service["Restart"] == ["on-failure"]
    assert service["StateDirectory"] == ["juki"] and service["WorkingDirectory"] == ["/var/lib/juki"]
    for key, value in HARDENING.items():
        assert service.get(key) == value, f"{name}: {key}"


def _django_command(argv: list[str]) -> None:
    """The management command argv names exists, and its own parser accepts the arguments."""
    name = argv[0].replace("-", "_")  # as juki.cli does
    commands = get_commands()
    assert name in commands, f"no management command {argv[0]!r}"
    command = load_command_class(commands[name], name)
    command.create_parser("juki", name).parse_args(argv[1:])  # CommandError on an unknown subcommand or option


@pytest.mark.parametrize("name", sorted(p.name for p in UNITS.glob("*.service")))
def test_each_execstart_names_a_command_that_exists(name, capsys):
    argv = shlex.split(parse(UNITS / name)["Service"]["ExecStart"][0])
    assert argv[0] in (VENV_BIN + "juki", VENV_BIN + "gunicorn")
    if argv[0].endswith("gunicorn"):
        assert argv[1:] == ["-c", "/opt/juki/deploy/gunicorn.conf.py"]
        conf = runpy.run_path(str(ROOT / argv[2].removeprefix("/opt/juki/")))
        module, _, attr = conf["wsgi_app"].partition(":")
        assert (module, attr) == ("juki.wsgi", "application") and (ROOT / "src" / "juki" / "wsgi.py").exists()
    elif argv[1] == "cs":  # the CS's own command line (juki.cli hands `cs` to juki.cs.cli), checked by its --help
        from juki.cs.cli import main

        with pytest.raises(SystemExit) as exited:
            main([*argv[2:], "--help"])
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: juki cs {argv[2]}")
    else:
        _django_command(argv[1:])


def test_a_renamed_command_would_fail():
    from django.core.management.base import CommandError

    with pytest.raises(AssertionError, match="no management command 'audit-chainer'"):
        _django_command(["audit-chainer", "--follow"])
    with pytest.raises(CommandError, match="^Error: unrecognized arguments: --folow$"):
        _django_command(["audit", "chain", "--folow"])
    with pytest.raises(CommandError, match="^Error: argument action: invalid choice: 'start' "):
        _django_command(["linkage", "start"])


def test_systemd_analyze_verifies_every_unit(tmp_path):
    """systemd's own reading of the files (unknown keys, bad values, ExecStart not executable), with the
    venv's path swapped for this checkout's."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (Debian package systemd)"
    venv = ROOT / ".venv" / "bin"
    assert (venv / "juki").exists() and (venv / "gunicorn").exists()
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(unit.read_text(encoding="utf-8").replace(VENV_BIN, f"{venv}/"), encoding="utf-8")
    out = subprocess.run([analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_the_paths_agree_across_gunicorn_nginx_systemd_and_the_env_example():
    socket = parse(UNITS / "juki-web.socket")["Socket"]
    assert socket["ListenStream"] == ["/run/juki/gunicorn.sock"] and socket["SocketUser"] == ["www-data"]
    assert socket["SocketMode"] == ["0600"]
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["bind"] == ["unix:/run/juki/gunicorn.sock"]
    nginx = (DEPLOY / "nginx" / "juki.conf").read_text(encoding="utf-8")
    assert "server unix:/run/juki/gunicorn.sock fail_timeout=0;" in nginx
    assert "alias /var/lib/juki/static/;" in nginx
    env = (DEPLOY / "juki.env.example").read_text(encoding="utf-8")
    assert re.search(r"^JUKI_VAR_DIR=/var/lib/juki$", env, flags=re.M)
    # nginx's body limit is juki's RequestLimitsMiddleware's default (JUKI_MAX_REQUEST_BYTES).
    from juki.conf import base

    size = re.search(r"^\s*client_max_body_size (\d+)m;", nginx, flags=re.M)
    assert size and int(size.group(1)) * 1024 * 1024 == base.JUKI_MAX_REQUEST_BYTES


def test_gunicorn_takes_the_client_address_from_nginx_on_the_unix_socket():
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    seen = {}

    def app(environ, start_response):
        seen["addr"] = environ["REMOTE_ADDR"]
        return []

    class Worker:
        wsgi = staticmethod(app)

    worker = Worker()
    conf["post_worker_init"](worker)
    worker.wsgi({"REMOTE_ADDR": "", "HTTP_X_REAL_IP": "10.1.2.3"}, None)  # the unix socket: no peer, no port
    assert seen["addr"] == "10.1.2.3"
    worker.wsgi({"REMOTE_ADDR": "192.0.2.9", "REMOTE_PORT": "50000", "HTTP_X_REAL_IP": "10.1.2.3"}, None)  # TCP: kept
    assert seen["addr"] == "192.0.2.9"
