"""The layers (ADR 0018): import-linter's contracts in .importlinter, all kept. A second run with a
contract the code breaks on purpose shows the check bites."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), str(config), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def _broken(tmp_path: Path, package: str, contract_type: str, contract: str) -> str:
    """lint-imports with one of our own contract types on a throwaway package: broken, its output."""
    config = tmp_path / f"{package}.ini"
    config.write_text(f"[importlinter]\nroot_package = {package}\ncontract_types =\n    {contract_type}\n\n"
                      f"[importlinter:contract:c]\nname = {package}\n{contract}", encoding="utf-8")
    result = subprocess.run([str(LINT), str(config), "--no-cache", "--no-logo"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600, env={**os.environ, "PYTHONPATH": f"{ROOT}:{tmp_path}"})
    assert result.returncode == 1 and "BROKEN" in result.stdout, result.stdout + result.stderr
    return result.stdout


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


def test_an_import_cycle_is_reported(tmp_path):
    """The acyclic_modules contract (tests/importlinter_acyclic.py) on a package with a cycle."""
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def later():\n    from . import a  # inside a function: still a cycle\n")
    (package / "c.py").write_text("from . import a\n")  # imports into the cycle, but is not part of it
    out = _broken(tmp_path, "cyclic", "acyclic_modules: tests.importlinter_acyclic.AcyclicModulesContract",
                  "type = acyclic_modules\ncontainers =\n    cyclic\n")
    assert "Import cycle between 2 modules" in out
    assert "cyclic.a -> cyclic.b" in out and "cyclic.b -> cyclic.a" in out
    assert "cyclic.c ->" not in out


def test_the_layers_config_forbids_cycles_between_modules():
    text = (ROOT / ".importlinter").read_text(encoding="utf-8")
    assert "type = acyclic_modules" in text and "containers =\n    juki\n" in text


def test_a_linkage_app_past_the_registers_surface_is_reported(tmp_path):
    """The surface_only contract (tests/importlinter_surface.py): a consumer may import the provider's
    surface only, the provider none of its consumers, and an absent consumer is skipped."""
    city = tmp_path / "city"
    for package in ("", "register", "register/services", "atena"):
        (city / package).mkdir(exist_ok=True)
        (city / package / "__init__.py").write_text("")
    (city / "register" / "services" / "outbox.py").write_text("")
    (city / "register" / "selectors.py").write_text("")
    (city / "register" / "models.py").write_text("def later():\n    from city.atena import sync\n")
    (city / "atena" / "sync.py").write_text("from city.register import selectors\nfrom city.register.services import outbox\n")
    (city / "atena" / "bad.py").write_text("from city.register import models\n")
    out = _broken(tmp_path, "city", "surface_only: tests.importlinter_surface.SurfaceOnlyContract",
                  "type = surface_only\nconsumers =\n    city.atena\n    city.jukinet\nprovider = city.register\n"
                  "surface =\n    city.register.services.outbox\n    city.register.selectors\n")
    assert "city.atena.bad -> city.register.models" in out
    assert "city.register.models -> city.atena.sync" in out
    assert "city.atena.sync ->" not in out  # the outbox and the selectors are the surface


def test_the_layers_config_guards_the_linkage_apps():
    text = (ROOT / ".importlinter").read_text(encoding="utf-8")
    contract = text.split("[importlinter:contract:linkage-apps]")[1]
    assert "    juki.register.services.extract\n" in contract  # the snapshot hand-over (ADR 0020)
    for app in ("juki.jukinet", "juki.cs", "juki.atena", "juki.intermediary", "juki.linkage", "juki.onestop", "juki.statistics"):
        assert f"    {app}\n" in contract
