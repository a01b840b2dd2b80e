"""End to end over TLS, as a city runs it: Debian's nginx with deploy/nginx/juki.conf in front of gunicorn
with deploy/gunicorn.conf.py, on production settings (a scratch SQLite, migrated, collectstatic run).

The nginx file is used as written; only its ports, socket, certificate, static root and log paths are
swapped for the test's (each swap must find its line: a renamed path in the file fails here). nginx
missing is a failure, not a skip: `./scripts/test` installs it (scripts/debian-packages.txt)."""
from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.deploy.support import DEPLOY, ROOT, production_env

NGINX = Path("/usr/sbin/nginx")
HSTS = "max-age=31536000; includeSubDomains"
SECRET_QUERY = "q=" + quote("ﾔﾏﾀﾞ") + "-19850401-secret"  # a surname and a birth date, as a search might


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "juki deploy test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


def _site_conf(*, http_port: int, https_port: int, sock: Path, cert: Path, key: Path, static: Path, logs: Path) -> str:
    text = (DEPLOY / "nginx" / "juki.conf").read_text(encoding="utf-8")
    for old, new, count in [
        ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;", 1),
        ("unix:/run/juki/gunicorn.sock", f"unix:{sock}", 1),
        ("/etc/juki/tls/juki.crt", str(cert), 1),
        ("/etc/juki/tls/juki.key", str(key), 1),
        ("alias /var/lib/juki/static/;", f"alias {static}/;", 1),
        ("/var/log/nginx/", f"{logs}/", 4),
    ]:
        assert text.count(old) == count, f"deploy/nginx/juki.conf: expected {count}× {old!r}"
        text = text.replace(old, new)
    return text


def _main_conf(tmp: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf gives the site (mime types, an http block), with the
    process's own files under tmp."""
    temp = "\n".join(f"    {kind}_temp_path {tmp}/nginx-{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""user {pwd.getpwuid(os.geteuid()).pw_name};
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/logs/main-error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
{temp}
    include {site};
}}
"""


def _wait(check, what: str, procs: list[subprocess.Popen], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{what}: {p.args[0]} exited with {p.returncode}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what}: not ready after {seconds} s")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """nginx (TLS) → gunicorn → juki on production settings, once for this module; yields what the
    tests need to reach it."""
    tmp_path = tmp_path_factory.mktemp("site")
    assert NGINX.exists(), "nginx is missing: apt-get install nginx (scripts/debian-packages.txt; ./scripts/test installs it)"
    var, logs = tmp_path / "var", tmp_path / "logs"
    var.mkdir()
    logs.mkdir()
    ca, cert, key = _certificates(tmp_path)
    http_port, https_port = _free_port(), _free_port()
    sock = tmp_path / "gunicorn.sock"
    env = production_env(var, JUKI_PUBLIC_BASE_URL=f"https://127.0.0.1:{https_port}")

    # The database and the static files, as the runbook's first installation does (in parallel: collectstatic
    # reads no database).
    steps = [subprocess.Popen([sys.executable, "manage.py", *cmd], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for cmd in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"])]
    for step in steps:
        output = step.communicate(timeout=120)[0]
        assert step.returncode == 0, f"{step.args}: {output}"

    site_conf, main_conf = tmp_path / "juki.conf", tmp_path / "nginx.conf"
    site_conf.write_text(_site_conf(http_port=http_port, https_port=https_port, sock=sock, cert=cert, key=key,
                                    static=var / "static", logs=logs), encoding="utf-8")
    main_conf.write_text(_main_conf(tmp_path, site_conf), encoding="utf-8")

    gunicorn_log = (tmp_path / "gunicorn.log").open("w")
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"),
                                 "--bind", f"unix:{sock}"], cwd=ROOT, env=env, stdout=gunicorn_log,
                                stderr=subprocess.STDOUT)
    nginx = subprocess.Popen([str(NGINX), "-p", str(tmp_path), "-c", str(main_conf), "-e", str(logs / "main-error.log"),
                              "-g", "daemon off;"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        tls = ssl.create_default_context(cafile=str(ca))

        def answers() -> bool:
            conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=tls, timeout=5)
            try:
                conn.request("GET", "/counter/login/")
                return conn.getresponse().status == 200
            finally:
                conn.close()

        _wait(answers, "nginx and gunicorn", [gunicorn, nginx])
        yield {"https_port": https_port, "http_port": http_port, "tls": tls, "ca": ca, "static": var / "static",
               "access_log": logs / "juki-access.log", "gunicorn_log": tmp_path / "gunicorn.log"}
    finally:
        _stop(nginx, signal.SIGQUIT)  # nginx's graceful stop: the access log is written out
        _stop(gunicorn)
        gunicorn_log.close()


def _get(site, path: str, *, port_key: str = "https_port", method: str = "GET", headers: dict | None = None):
    if port_key == "https_port":
        conn = http.client.HTTPSConnection("127.0.0.1", site["https_port"], context=site["tls"], timeout=10)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", site["http_port"], timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response, response.read(), conn.sock.version() if port_key == "https_port" and conn.sock else None
    finally:
        conn.close()


def test_the_register_answers_over_tls_behind_nginx(site):
    # The counter's login page, from juki through nginx, in Japanese, over TLS 1.3.
    response, body, version = _get(site, "/counter/login/")
    assert response.status == 200
    assert '<button type="submit" class="primary">ログイン</button>' in body.decode("utf-8")
    assert version == "TLSv1.3"
    # HSTS exactly once (nginx's; Django's copy is hidden), and juki's own headers come through.
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert response.headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert response.headers["Cache-Control"] == "no-store, no-cache, must-revalidate, private, max-age=0"
    assert response.headers["Server"] == "nginx"  # no version (server_tokens off)
    # The session and CSRF cookies are Secure: Django sees the request as HTTPS (X-Forwarded-Proto).
    cookies = response.headers.get_all("Set-Cookie") or []
    assert cookies and all("; Secure" in c for c in cookies), cookies

    # TLS 1.2 is accepted too (ssl_protocols TLSv1.2 TLSv1.3).
    ctx = ssl.create_default_context(cafile=str(site["ca"]))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", site["https_port"]), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.version() == "TLSv1.2"


def test_static_files_are_served_by_nginx(site):
    response, body, _ = _get(site, "/static/ui/ui.css")
    assert response.status == 200
    assert body == (site["static"] / "ui" / "ui.css").read_bytes()
    assert response.headers["Content-Type"] == "text/css"
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert response.headers["Cache-Control"] == "no-cache"  # `expires epoch`: revalidated, never stale after an upgrade
    missing, _, _ = _get(site, "/static/ui/no-such-file.css")
    assert missing.status == 404
    # nginx answered both: gunicorn's access log has no /static/ request (Django does not serve them).
    assert "/static/" not in site["gunicorn_log"].read_text(encoding="utf-8")


def test_http_redirects_to_https(site):
    response, _, _ = _get(site, "/counter/login/?next=/counter/", port_key="http_port")
    assert response.status == 301
    assert response.headers["Location"] == "https://juki.example.lg.jp/counter/login/?next=/counter/"  # server_name, not Host
    assert response.headers.get("Strict-Transport-Security") is None  # HSTS is only meaningful over HTTPS


def test_a_body_over_the_limit_is_refused_by_nginx(site):
    conn = http.client.HTTPSConnection("127.0.0.1", site["https_port"], context=site["tls"], timeout=10)
    try:
        conn.putrequest("POST", "/api/v1/seals/")
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(6 * 1024 * 1024 + 1))  # JUKI_MAX_REQUEST_BYTES + 1
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413
        assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    finally:
        conn.close()
    assert "/api/v1/seals/" not in site["gunicorn_log"].read_text(encoding="utf-8")


def test_the_access_logs_carry_no_query_string(site):
    response, _, _ = _get(site, f"/counter/login/?{SECRET_QUERY}", headers={"Referer": f"https://127.0.0.1/x?{SECRET_QUERY}"})
    assert response.status == 200
    redirect, _, _ = _get(site, f"/counter/login/?{SECRET_QUERY}", port_key="http_port")
    assert redirect.status == 301
    # gunicorn writes its access line after the response: wait for the 200's request id to appear there.
    deadline = time.monotonic() + 10
    while True:
        nginx_log = site["access_log"].read_text(encoding="utf-8")
        gunicorn_log = site["gunicorn_log"].read_text(encoding="utf-8")
        served = [x for x in nginx_log.splitlines() if '"GET /counter/login/ HTTP/1.1" 200 ' in x]
        if served and served[-1].split()[-1] in gunicorn_log or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for log in (nginx_log, gunicorn_log):
        assert "secret" not in log and "%EF%BE" not in log.upper() and "?" not in log
    # nginx: client, time, "method path protocol", status, bytes, seconds, request id — for both requests.
    line = re.compile(r'^127\.0\.0\.1 \[[0-9T:+-]+\] "GET /counter/login/ HTTP/1\.1" (200|301) \d+ [0-9.]+ [0-9a-f]{32}$')
    ours = [x for x in nginx_log.splitlines() if "/counter/login/" in x]
    assert sorted(line.match(x).group(1) for x in ours[-2:]) == ["200", "301"], ours
    # gunicorn: the client nginx saw, "method path protocol", status, bytes, time, nginx's request id.
    rid = served[-1].split()[-1]
    last = [x for x in gunicorn_log.splitlines() if x.endswith(rid)]
    assert len(last) == 1, (rid, gunicorn_log[-500:])  # the same request id in both logs
    assert re.fullmatch(r'127\.0\.0\.1 "GET /counter/login/ HTTP/1\.0" 200 \d+ \d+us [0-9a-f]{32}', last[0]), last
