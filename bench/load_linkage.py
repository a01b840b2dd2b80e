"""The 庁内連携 consumer's state before a load test (bench/run_load.sh): the 随時 destinations as in the
daytime, their initial full already delivered.

A destination starts with a full file of every person (about a minute each at 1 M persons); the 日次
and 月次 ones deliver at night. In the daytime only the 随時 destinations work, on the changes as they
come. So each 随時 destination not yet started is acknowledged at the outbox's head, standing for the
initial full it would have delivered at go-live, and the consumer runs with `--only` those (and the
宛名 numbering). Prints the `--only` list.

    DATABASE_URL=... .venv/bin/python bench/load_linkage.py
"""
from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")

import django  # noqa: E402

django.setup()

from juki.accounts import destinations  # noqa: E402
from juki.audit.gate import Actor  # noqa: E402
from juki.linkage import approvals, engine  # noqa: E402
from juki.register.services import outbox  # noqa: E402

codes = [d.code for d in destinations.LINKAGE if approvals.destination(d.code).frequency == destinations.Frequency.ON_CHANGE]
head = outbox.outbox_position()
for code in codes:
    if not engine.started(code) and head:
        outbox.outbox_ack(actor=Actor.system_actor(code), destination=code, position=head)
print(",".join(["atena", *codes]))
