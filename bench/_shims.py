"""Work-arounds, applied by the benchmark scripts only, for two PostgreSQL bugs in src/.

Both are reported in BENCHMARKS.md; neither changes what the benchmarks measure beyond
making the code path run at all on PostgreSQL. Both are fixed in src/ since commits d57b0e0
(migration) and 4197752 (writer), where these shims change nothing; remove this module once
runs against older commits are no longer needed.

1. register/migrations/0002_append_only_history.py: see bench/migrate.py.
2. register/services/writer.py, ChangeWriter.person():
   `Person.objects.select_for_update().select_related("current")` — `current` is a nullable
   one-to-one, so Django emits LEFT OUTER JOIN ... FOR UPDATE and PostgreSQL refuses it
   ("FOR UPDATE cannot be applied to the nullable side of an outer join"): every change
   operation that loads an existing person fails on PostgreSQL. The fix in src/ is
   `select_for_update(of=("self",))`; this shim makes a bare select_for_update() on a
   PostgreSQL query default to of=("self",), which is what that fix does (rows of the
   query's own table are locked; for queries without joins it is the same statement).
"""
from __future__ import annotations

APPLIED: list[str] = []


def apply() -> list[str]:
    if APPLIED:
        return APPLIED
    from django.db import connections
    from django.db.models.query import QuerySet

    original = QuerySet.select_for_update

    def select_for_update(self, nowait=False, skip_locked=False, of=(), no_key=False):
        if not of and connections[self.db].vendor == "postgresql":
            of = ("self",)
        return original(self, nowait=nowait, skip_locked=skip_locked, of=of, no_key=no_key)

    QuerySet.select_for_update = select_for_update
    APPLIED.append("select_for_update(of=('self',)) on PostgreSQL [writer.py ChangeWriter.person]")
    return APPLIED
