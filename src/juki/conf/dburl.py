"""DATABASE_URL, including libpq's multi-host form for a primary and its standby (issue 18, ADR 0027):

    postgresql://juki@db1:5432,db2:5432/juki?target_session_attrs=read-write&connect_timeout=3

dj-database-url reads one host only; with several, the hosts and ports go to libpq as its comma
lists (HOST "db1,db2", PORT "5432,5432") and the query's connection options to OPTIONS, so that a
new connection finds whichever node is the primary now.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import dj_database_url

_LIBPQ_OPTIONS = {"target_session_attrs", "connect_timeout", "sslmode", "sslrootcert", "sslcert", "sslkey",
                  "application_name", "keepalives", "keepalives_idle", "load_balance_hosts"}


def parse(url: str, **kw) -> dict:
    netloc = urlsplit(url).netloc if "://" in url else ""
    if "," not in netloc.rpartition("@")[2]:
        return dj_database_url.parse(url, **kw)  # one host: its query options stay in OPTIONS
    parts = urlsplit(url)
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    hosts, ports = [], []
    for item in hostlist.split(","):
        host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
        hosts.append(host or item)
        ports.append(port or "5432")
    options = {k: v for k, v in parse_qsl(parts.query) if k in _LIBPQ_OPTIONS}
    unknown = {k for k, _ in parse_qsl(parts.query)} - _LIBPQ_OPTIONS
    if unknown:
        raise ValueError(f"DATABASE_URL: unknown options {sorted(unknown)}")
    return {"ENGINE": "django.db.backends.postgresql", "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(user), "PASSWORD": unquote(password), "HOST": ",".join(hosts), "PORT": ",".join(ports),
            "OPTIONS": options, "CONN_MAX_AGE": kw.get("conn_max_age", 0), "CONN_HEALTH_CHECKS": True,
            "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True, "TIME_ZONE": None, "TEST": {}, "DISABLE_SERVER_SIDE_CURSORS": False}
