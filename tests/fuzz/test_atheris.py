"""Runs every atheris target of atheris_parsers.py (issue 18, item 7) for a bounded number of runs,
each in its own process: exit code 0 means libFuzzer found no input on which the parser raised
anything but its documented refusal or broke an invariant. A fixed seed: each run is the same.

Then the inputs that fuzzing once found crashing (csv.Error escaping the 町字 file's and 庁内連携's
CSV readers) are replayed through the same targets: libFuzzer runs the files it is given as inputs.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).with_name("atheris_parsers.py")
TARGETS = ["wareki_dates", "kana", "card_and_pin", "towns_csv", "linkage_csv", "linkage_fixed"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HARNESS), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("target", TARGETS)
def test_fuzzing_a_parser_finds_no_crash(target):
    run = _run(target, "-runs=10000", "-max_total_time=3", "-max_len=512", "-seed=1")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done" in run.stderr and "Uncaught Python exception" not in run.stderr


# (target, input bytes as the harness reads them: a first byte < 0x80 puts the towns header first;
# linkage_csv's first byte chooses the encoding, "s" CP932, anything else UTF-8)
FOUND = [
    ("towns_csv", b"\x00401066,a\rb,c,\xe3\x82\xa2,8030813\n"),  # a bare CR in a field
    ("towns_csv", b"\x00" + b"x" * 140_000 + b"\n"),  # a field over csv's limit (131072)
    ("linkage_csv", b"ua,b\r\n" + b"x" * 140_000 + b",y\r\n"),
    ("linkage_csv", b"sa,b\r\n\x82\r\n"),
]


@pytest.mark.parametrize("target", sorted({t for t, _ in FOUND}))
def test_inputs_fuzzing_found_crashing_are_refused_now(tmp_path, target):
    inputs = []
    for n, (_t, data) in enumerate(f for f in FOUND if f[0] == target):
        inputs.append(tmp_path / f"input-{n}")
        inputs[-1].write_bytes(data)
    run = _run(target, *map(str, inputs))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.count("Executed") == len(inputs)


def test_a_harness_reports_an_escaping_exception(tmp_path):
    """The harness is not vacuous: an unknown target is refused, and libFuzzer fails on a crash."""
    assert _run("no_such_target").returncode != 0
    probe = tmp_path / "probe.py"
    probe.write_text("import sys, atheris\n"
                     "def target(data):\n"
                     "    if data[:1] == b'x':\n"
                     "        raise KeyError('escaped')\n"
                     "atheris.Setup(sys.argv, target)\natheris.Fuzz()\n")
    crash = tmp_path / "crash"
    crash.write_bytes(b"x")
    run = subprocess.run([sys.executable, str(probe), str(crash)], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "escaped" in run.stdout + run.stderr
