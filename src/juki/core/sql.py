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


class Joined:
    """`SELECT` of one model and the to-one relations it follows, written once from the models'
    metadata and read back into model instances with their relations cached, as `select_related`
    does: the same instances, without the ORM compiling the query on every call (about 0.7 ms a
    query on the read paths; BENCHMARKS.md). Values pass through the same converters as the ORM's.

    `paths` are select_related paths (`"town__ward__municipality"`, a reverse one-to-one too). The
    base table's alias is `t`, a path's the path with `__` → `_` (`town_ward`); `where` (and
    `order`) are SQL over those aliases with `%s` parameters (quote an alias that is a reserved word,
    such as `"user"`); `{ids}` in `where` stands for the `ids` given to `fetch`, one `%s` each.
    `lock` locks the base table's rows (`FOR UPDATE OF t`) where the database has row locks
    (PostgreSQL), as `select_for_update(of=("self",))` does.
    """

    def __init__(self, model: type[models.Model], *paths: str, where: str, order: str = "", lock: bool = False):
        self.model, self.paths, self.where, self.order, self.lock = model, paths, where, order, lock
        self._built: dict[str, tuple] = {}  # by database vendor

    def _build(self):
        qn = connection.ops.quote_name
        nodes = [(None, None, "t", self.model)]  # (parent alias, relation, alias, model)
        joins, outer_at = [], {"t": False}  # alias → joined outer
        for path in self.paths:
            parent, parent_model = "t", self.model
            for depth, name in enumerate(path.split("__")):
                alias = "_".join(path.split("__")[:depth + 1])
                rel = parent_model._meta.get_field(name)
                child = rel.related_model
                if alias not in outer_at:
                    if rel.concrete:  # forward: the parent holds the key
                        on, outer = f"{qn(alias)}.{qn(child._meta.pk.column)} = {qn(parent)}.{qn(rel.column)}", rel.null
                    else:  # reverse one-to-one: the child holds it
                        on, outer = f"{qn(alias)}.{qn(rel.field.column)} = {qn(parent)}.{qn(parent_model._meta.pk.column)}", True
                    # Below an outer join every join is outer, as the ORM promotes them: on PostgreSQL a
                    # row locked after a wait is re-checked against its new version, and an inner join
                    # below would drop it (a concurrent change) where the ORM's query keeps it.
                    outer_at[alias] = outer = outer or outer_at[parent]
                    joins.append(f"{'LEFT OUTER' if outer else 'INNER'} JOIN {qn(child._meta.db_table)} {qn(alias)} ON {on}")
                    nodes.append((parent, rel, alias, child))
                parent, parent_model = alias, child
        columns, readers = [], []
        for parent, rel, alias, model in nodes:
            fields = list(model._meta.concrete_fields)
            start = len(columns)
            columns += [f"{qn(alias)}.{qn(f.column)}" for f in fields]
            converters = []  # the backend's, then the field's: as the ORM's compiler applies them
            for i, f in enumerate(fields):
                col = f.get_col(alias)
                converters += [(start + i, conv, col) for conv in
                               connection.ops.get_db_converters(col) + col.get_db_converters(connection)]
            readers.append((parent, rel, alias, model, [f.attname for f in fields], start, start + len(fields),
                            converters, start + fields.index(model._meta.pk)))
        sql = (f"SELECT {', '.join(columns)} FROM {qn(self.model._meta.db_table)} t {' '.join(joins)} "
               f"WHERE {self.where}" + (f" ORDER BY {self.order}" if self.order else "")
               + (" FOR UPDATE OF t" if self.lock and connection.features.has_select_for_update_of else ""))
        return sql, readers

    def fetch(self, params=(), *, ids=None) -> list[models.Model]:
        if connection.vendor not in self._built:
            self._built[connection.vendor] = self._build()
        sql, readers = self._built[connection.vendor]
        for reader in readers:
            # The models' own managers decide whether the read may happen: a guarded model (personal
            # data) refuses outside the access gate here exactly as its ORM queries would.
            reader[3]._default_manager.get_queryset()
        params = list(params)
        if ids is not None:
            ids = list(ids)
            if not ids:
                return []
            at = sql.index("{ids}")
            params[sql.count("%s", 0, at):sql.count("%s", 0, at)] = ids
            sql = sql.replace("{ids}", ", ".join(["%s"] * len(ids)))
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        out = []
        for row in rows:
            row = list(row)
            made = {}
            for parent, rel, alias, model, attnames, start, end, converters, pk_at in readers:
                for i, conv, col in converters:
                    row[i] = conv(row[i], col, connection)
                obj = None if row[pk_at] is None else model.from_db(connection.alias, attnames, row[start:end])
                made[alias] = obj
                if rel is not None and made[parent] is not None:
                    rel.set_cached_value(made[parent], obj)
            out.append(made["t"])
        return out

    def first(self, params=()) -> models.Model | None:
        rows = self.fetch(params)
        return rows[0] if rows else None
