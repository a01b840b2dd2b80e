"""DATABASE_URL with libpq's host list (ADR 0027): both nodes reach libpq, the primary is chosen at connect."""
import pytest

from juki.conf import dburl


def test_a_multi_host_url_becomes_libpq_lists_with_health_checks():
    config = dburl.parse("postgresql://juki:s%40cret@db1:5432,db2:6432/juki?target_session_attrs=read-write"
                         "&connect_timeout=3")
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"], config["PASSWORD"]) == (
        "db1,db2", "5432,6432", "juki", "juki", "s@cret")
    assert config["OPTIONS"] == {"target_session_attrs": "read-write", "connect_timeout": "3"}
    assert config["ENGINE"] == "django.db.backends.postgresql" and config["CONN_HEALTH_CHECKS"] is True


def test_one_host_and_sqlite_are_read_as_before():
    assert dburl.parse("postgresql://u@h:5433/juki")["HOST"] == "h"
    assert dburl.parse("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"


def test_an_unknown_option_in_a_multi_host_url_is_refused():
    with pytest.raises(ValueError, match="unknown options"):
        dburl.parse("postgresql://u@h1,h2/juki?target_session_atrs=read-write")
