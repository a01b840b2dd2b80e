"""The layers (ADR 0018): import-linter's contracts in .importlinter, all kept. A second run with a
contract the code breaks on purpose shows the check bites."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), str(config), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_every_contract_is_kept():
    result = _lint(ROOT / ".importlinter")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_broken_contract_is_reported(tmp_path):
    config = tmp_path / "broken.ini"
    config.write_text("[importlinter]\nroot_package = juki\n\n"
                      "[importlinter:contract:on-purpose]\nname = operations without commands\ntype = forbidden\n"
                      "source_modules =\n    juki.register.operations\nforbidden_modules =\n    juki.register.commands\n",
                      encoding="utf-8")
    result = _lint(config)
    assert result.returncode == 1 and "BROKEN" in result.stdout
    assert "juki.register.operations -> juki.register.commands" in result.stdout
