"""Plain INSERTs for the rows every change and every read writes (the hot path).

The ORM compiles each `create()` anew; for a change that writes half a dozen rows that was
most of its time (BENCHMARKS.md). These helpers build each model's INSERT once and prepare
values with Django's own field methods (`pre_save`, `get_db_prep_save`), so auto-now
timestamps, dates, JSON and binary values are stored exactly as the ORM would store them.
Models saved this way are still the same models; only the statement is built once.
"""
from __future__ import annotations

from django.db import connection, models

_cache: dict[type[models.Model], tuple[list[models.Field], str]] = {}


def _statement(model: type[models.Model]) -> tuple[list[models.Field], str]:
    if model not in _cache:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        _cache[model] = fields, f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks}) RETURNING id"
    return _cache[model]


def insert(instance: models.Model) -> models.Model:
    fields, sql = _statement(type(instance))
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        instance.pk = cur.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def insert_pairs(table: str, columns: tuple[str, str], rows: list[tuple]) -> None:
    """Multi-row INSERT of two-column link rows (no ids needed back)."""
    if not rows:
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(["(%s, %s)"] * len(rows))
    with connection.cursor() as cur:
        cur.execute(sql, [v for row in rows for v in row])
