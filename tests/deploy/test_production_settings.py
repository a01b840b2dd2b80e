"""juki.conf.production: `check --deploy` is clean with a complete environment, and production refuses
to start, naming the variable, when one it needs is missing or unsafe. Each case is its own process:
settings are read once per process."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.deploy.support import DEPLOY, REQUIRED, ROOT, production_env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _import_production(env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run(["-c", "import juki.conf.production"], env)


def test_check_deploy_reports_no_issue(tmp_path):
    out = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert (out.returncode, out.stderr) == (0, "")
    # The one silenced check is security.W021 (HSTS preload), on purpose: see juki.conf.production.
    assert out.stdout == "System check identified no issues (1 silenced).\n"


def test_production_settings_are_https_only_behind_the_proxy(tmp_path):
    code = ("from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, "
            "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.SILENCED_SYSTEM_CHECKS)")
    env = production_env(tmp_path, JUKI_ALLOWED_HOSTS=" juki.city.lg.jp , juki2.city.lg.jp",
                         JUKI_CSRF_TRUSTED_ORIGINS="https://juki2.city.lg.jp")
    out = _run(["-c", "import django; django.setup(); " + code], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ("False True ('HTTP_X_FORWARDED_PROTO', 'https') 31536000 True False True True "
                          "['juki.city.lg.jp', 'juki2.city.lg.jp'] ['https://juki2.city.lg.jp'] ['security.W021']\n")


@pytest.mark.parametrize("name", REQUIRED)
def test_production_refuses_to_start_without(name, tmp_path):
    env = production_env(tmp_path)
    del env[name]
    out = _import_production(env)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        f"django.core.exceptions.ImproperlyConfigured: {name} must be set in production (see deploy/juki.env.example)")


def test_production_names_every_missing_variable_at_once(tmp_path):
    env = production_env(tmp_path, DJANGO_SECRET_KEY="", JUKI_MUNICIPALITY="  ")
    del env["DATABASE_URL"]
    out = _import_production(env)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY, DATABASE_URL, JUKI_MUNICIPALITY "
        "must be set in production (see deploy/juki.env.example)")


@pytest.mark.parametrize("name, value, message", [
    ("DJANGO_SECRET_KEY", "too-short-a-secret", "DJANGO_SECRET_KEY must be at least 50 random characters"),
    ("DJANGO_SECRET_KEY", "django-insecure-" + "x1y2z3w4v5" * 5, "DJANGO_SECRET_KEY must be at least 50 random characters"),
    ("JUKI_ALLOWED_HOSTS", "juki.city.lg.jp,*", "JUKI_ALLOWED_HOSTS must name the register's host names, not '*'"),
    ("JUKI_PUBLIC_BASE_URL", "http://juki.city.lg.jp", "JUKI_PUBLIC_BASE_URL must start with https:// in production"),
    ("JUKI_CSRF_TRUSTED_ORIGINS", "http://juki.city.lg.jp", "JUKI_CSRF_TRUSTED_ORIGINS must list https:// origins only"),
])
def test_production_refuses_an_unsafe_value(name, value, message, tmp_path):
    out = _import_production(production_env(tmp_path, **{name: value}))
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1].startswith(f"django.core.exceptions.ImproperlyConfigured: {message}")


def _names(text: str) -> set[str]:
    return set(re.findall(r'os\.environ(?:\.get\(|\[)"([A-Z0-9_]+)"', text))


def test_the_example_env_files_name_every_setting_the_settings_read():
    """A setting added to base.py/production.py (cs.py) without a line in deploy/juki.env.example
    (cs.env.example) fails here: the operator's list stays complete."""
    conf = ROOT / "src" / "juki" / "conf"
    example = (DEPLOY / "juki.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    read = _names((conf / "base.py").read_text(encoding="utf-8")) | _names((conf / "production.py").read_text(encoding="utf-8"))
    assert read - listed == set()
    # The required ones are there to be filled in, not commented out.
    assert set(REQUIRED) <= set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    cs_example = (DEPLOY / "cs.env.example").read_text(encoding="utf-8")
    cs_listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", cs_example, flags=re.M))
    assert _names((conf / "cs.py").read_text(encoding="utf-8")) - cs_listed == set()
    assert "DJANGO_SECRET_KEY" not in cs_listed and "JUKI_MYNUMBER_KEYS" not in cs_listed  # the register's keys stay out
