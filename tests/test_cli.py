import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from juki.accounts.models import Staff


def test_createstaff_takes_the_password_from_the_environment(db, monkeypatch, capsys):
    monkeypatch.setenv("JUKI_PASSWORD", "correct-horse-battery-9")
    call_command("createstaff", "tanaka", "--role", "supervisor")
    user = Staff.objects.get(username="tanaka")
    assert user.role == "supervisor" and user.check_password("correct-horse-battery-9")
    assert user.password.startswith("argon2")  # Argon2 hashes only
    assert "係長" in capsys.readouterr().out


def test_createstaff_refuses_a_weak_password(db, monkeypatch):
    monkeypatch.setenv("JUKI_PASSWORD", "12345678")
    with pytest.raises(CommandError):
        call_command("createstaff", "weak")
    assert not Staff.objects.filter(username="weak").exists()


def test_juki_console_script_accepts_hyphenated_commands():
    out = subprocess.run([sys.executable, "-m", "juki.cli", "load-towns", "--help"], capture_output=True, text=True,
                         env={"DJANGO_SETTINGS_MODULE": "juki.conf.test", "PATH": ""})
    assert out.returncode == 0 and "町字" in out.stdout


def test_createstaff_refuses_an_existing_username_with_a_message(db, monkeypatch):
    monkeypatch.setenv("JUKI_PASSWORD", "a-long-enough-pass-2026")
    call_command("createstaff", "tanaka", "--role", "clerk")
    with pytest.raises(CommandError) as err:
        call_command("createstaff", "tanaka", "--role", "viewer")
    assert "既に登録されています" in str(err.value)
    assert Staff.objects.get(username="tanaka").role == "clerk"


@pytest.mark.parametrize("command, option", [("seals_sweep", "--on"), ("protection_alerts", "--on"),
                                             ("anomaly_report", "--date")])
def test_daily_commands_refuse_a_bad_date_in_japanese(db, command, option):
    with pytest.raises(CommandError) as bad:
        call_command(command, option, "R8.1.1")
    assert str(bad.value) == f"{option} は 2025-04-01 のように YYYY-MM-DD の形式で指定してください。"
