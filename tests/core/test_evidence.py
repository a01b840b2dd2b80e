"""C30: the self-check report names every control, the settings in force and the tests that prove them."""
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from juki.audit.models import AccessLog
from juki.core import evidence

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_MD = ROOT.parent / "shared" / "spec" / "SYSTEM.md"


def test_every_control_of_the_assessment_is_in_the_table_once():
    ids = [c.id for c in evidence.CONTROLS]
    assert ids == [f"C{n:02d}" for n in range(1, 31)]
    if SYSTEM_MD.exists():  # the reference copy, when checked out beside the project
        assert set(re.findall(r"^- (C\d\d) ", SYSTEM_MD.read_text(encoding="utf-8"), re.M)) == set(ids)


def test_every_claimed_control_names_a_test_that_exists():
    findings = evidence.report(root=ROOT)
    for f in findings:
        if f.control.status != evidence.NOT_COVERED:
            assert f.tests, f"{f.control.id} claims coverage without a test"
        assert not f.broken, (f.control.id, f.tests)


def test_the_report_shows_the_settings_in_force(settings, tmp_path, db):
    settings.JUKI_IDLE_LOCK_SECONDS = 123
    out = tmp_path / "evidence.md"
    call_command("evidence", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert "## C20 " in text and "`JUKI_IDLE_LOCK_SECONDS` = 123" in text
    assert "## C05 " in text and "未対応" in text
    assert AccessLog.objects.filter(function="batch.evidence", outcome="done").count() == 1


def test_a_claim_whose_test_is_gone_fails_the_command(tmp_path, db):
    with pytest.raises(CommandError) as err:
        call_command("evidence", "--root", str(tmp_path), "--out", str(tmp_path / "x.md"))
    assert "C01" in str(err.value)
    assert AccessLog.objects.filter(function="batch.evidence", outcome="broken").exists()
