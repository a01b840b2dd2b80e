"""gunicorn for the register (juki-web.service): `gunicorn -c /opt/juki/deploy/gunicorn.conf.py`.

nginx (deploy/nginx/juki.conf) ends TLS and is the only client: gunicorn listens on a unix socket that
systemd opens for it (deploy/systemd/juki-web.socket; without systemd, on `bind` below) and that only
nginx's user may open. Settings come from the environment (/etc/juki/juki.env, DJANGO_SETTINGS_MODULE
= juki.conf.production); nothing here is secret.
"""
import os

wsgi_app = "juki.wsgi:application"

# Without systemd's socket (a manual start, the tests): the same path as juki-web.socket, or the
# command line's --bind. systemd hands its socket over through LISTEN_FDS and this is then unused.
bind = [os.environ.get("JUKI_GUNICORN_BIND", "unix:/run/juki/gunicorn.sock")]
umask = 0o007  # a socket gunicorn makes itself: owner and group only

# Sized for the city's 2-core VM, as measured in bench/ (BENCHMARKS.md, bench/run_load.sh): one worker
# process per core, because the GIL keeps one process's Python on one core; four threads per worker
# (gthread) so that one request's database or PDF-font wait overlaps another's Python. More workers
# only add memory and contention (an argon2 login costs ~0.3 s of one core whatever the worker count).
# JUKI_WEB_WORKERS / JUKI_WEB_THREADS resize it for a bigger machine (workers = cores).
worker_class = "gthread"
workers = int(os.environ.get("JUKI_WEB_WORKERS", "2"))
threads = int(os.environ.get("JUKI_WEB_THREADS", "4"))
timeout = 120  # as in bench/; the slowest pages are PDFs (certificates, a 開示請求's answer). nginx waits as long
graceful_timeout = 30  # on stop or restart, requests in flight are given this long to finish
keepalive = 30
max_requests = 5000  # recycle a worker now and then (memory), staggered so both never restart together
max_requests_jitter = 500
limit_request_line = 8190  # nginx refuses longer lines first (large_client_header_buffers)

# Logs on stderr, which systemd hands to journald. The access log names no query string and no
# referrer (a referrer is a full URL, query included): juki's URLs carry no personal data, but log
# shipping must not depend on that. Fields: the client as nginx saw it (X-Real-IP), method, path,
# protocol, status, bytes, microseconds, nginx's request id (the same id is in nginx's access log).
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%({x-real-ip}i)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus %({x-request-id}i)s'

# gunicorn 23+'s control socket (gunicornc) would be made in $HOME: not needed, and $HOME is read-only
# under the unit's ProtectSystem=strict.
control_socket_disable = True


def _client_address(app):
    """REMOTE_ADDR is the client nginx served (its X-Real-IP), not the socket's empty peer name: the
    kiosk setup screen throttles wrong secrets per address (juki.kiosk.devices.device_enrol). Only nginx
    can connect to the unix socket, and nginx always overwrites X-Real-IP, so the header is trusted
    there; on a TCP bind (a manual start) the peer address is left as it is."""

    def wrapped(environ, start_response):
        real = environ.get("HTTP_X_REAL_IP", "")
        if real and not environ.get("REMOTE_PORT"):  # a unix socket: gunicorn sets no REMOTE_PORT
            environ["REMOTE_ADDR"] = real
        return app(environ, start_response)

    return wrapped


def post_worker_init(worker):
    worker.wsgi = _client_address(worker.wsgi)
