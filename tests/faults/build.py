"""The fault tests' register, built once per session in one process (each step the management command an
operator runs, called in turn, so Django starts once): migrate, the demo 町字 dictionary, a seeded city,
a clerk with a terminal, the 庁内連携's certificates, key and applications, and the audit chain linked.

    DATABASE_URL=… JUKI_VAR_DIR=… python tests/faults/build.py PERSONS

Prints one line of JSON: the clerk's username and generated password.
"""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402


def main() -> None:
    persons = sys.argv[1]
    quiet = io.StringIO()
    call_command("migrate", "--no-input", verbosity=0, stdout=quiet)
    call_command("load_towns", str(ROOT / "src" / "juki" / "register" / "data" / "demo-towns.csv"), stdout=quiet)
    call_command("seed", "--persons", persons, "--seed", "1", "--no-progress", stdout=quiet)

    from juki.accounts.models import Terminal
    from juki.accounts.services import generate_password, staff_create

    Terminal.objects.get_or_create(code="DEMO-01", defaults={"name": "デモ端末1", "location": "小倉北区役所 市民課"})
    password = generate_password()
    staff_create(username="demo-clerk", password=password, role="clerk", full_name="窓口 試験")
    call_command("linkage", "setup", stdout=quiet)
    call_command("audit", "chain", stdout=quiet)
    print(json.dumps({"demo-clerk": password}))


if __name__ == "__main__":
    main()
