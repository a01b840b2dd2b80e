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


def insert_parts(instances: list[models.Model]) -> tuple[str, list]:
    """`INSERT INTO t (cols) VALUES (…), (…)` for instances of one model (no RETURNING), with its
    parameters, for a statement that writes several tables at once (a CTE on PostgreSQL)."""
    fields, sql = _statement(type(instances[0]))
    head, _, _ = sql.partition(" VALUES ")
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in instances for f in fields]
    return head + " VALUES " + ", ".join([row] * len(instances)), params


def insert_after_lock(instance: models.Model, lock_key: int) -> models.Model:
    """PostgreSQL: take a transaction-level advisory lock, then insert the row, in one statement.
    The row's values (and its id from the sequence) are made only once the lock is held."""
    fields, sql = _statement(type(instance))
    head, _, _ = sql.partition(" VALUES ")
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cur:
        cur.execute(f"WITH held AS (SELECT pg_advisory_xact_lock(%s)) {head} SELECT {marks} FROM held RETURNING id",
                    [lock_key, *params])
        instance.pk = cur.fetchone()[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return instance


def insert_returning_parts(instance: models.Model) -> tuple[str, list]:
    """The single-row `INSERT … RETURNING id` of `insert`, unexecuted, with its parameters."""
    fields, sql = _statement(type(instance))
    return sql, [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
