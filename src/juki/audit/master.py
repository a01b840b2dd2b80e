"""Master data edits (C20): every add, change and delete made in the Django admin goes into the
hash-chained access log as `master.add` / `master.change` / `master.delete`, with the values
before and after. No HTTP here: the admin's ModelAdmin mixin (`juki.counter.admin_site`) calls
these inside the save's own transaction, so the edit and its log row commit or roll back together.

Master data holds no personal data (no resident model is registered in the admin), but a staff
row holds a password hash and a TOTP device its key: secret fields are never written, only named.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from django.db import models

from juki.accounts.permissions import Perm

from . import events, gate
from .gate import Actor
from .models import AccessLog

ADD = "master.add"
CHANGE = "master.change"
DELETE = "master.delete"
DELETE_CHECK = "master.delete_check"

# Never logged, only named as changed: password hashes, TOTP keys, token hashes.
SECRET_FIELDS = frozenset({"password", "key", "bin_key", "secret", "token", "key_hash", "token_hash"})


def _value(field: models.Field, obj):
    value = field.value_from_object(obj)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return field.value_to_string(obj)


def snapshot(obj: models.Model) -> dict:
    """The object's own field values (foreign keys as ids), secrets left out."""
    return {f.attname: _value(f, obj) for f in obj._meta.concrete_fields if f.name not in SECRET_FIELDS}


def _secret_changed(before_obj, obj) -> list[str]:
    if before_obj is None:
        return []
    return sorted(f.name for f in obj._meta.concrete_fields
                  if f.name in SECRET_FIELDS and f.value_from_object(before_obj) != f.value_from_object(obj))


def _subject(obj: models.Model) -> dict:
    return {"model": obj._meta.label_lower, "model_name": str(obj._meta.verbose_name), "object_id": str(obj.pk),
            "object": str(obj)}


def record_add(actor: Actor, obj: models.Model) -> AccessLog:
    return events.record(actor, function=ADD, criteria={**_subject(obj), "before": None, "after": snapshot(obj)})


def record_change(actor: Actor, obj: models.Model, before: dict, before_obj: models.Model | None = None) -> AccessLog:
    """`before` is `snapshot()` of the stored row, taken before the save; only changed fields are written."""
    after = snapshot(obj)
    changed = sorted(k for k in after.keys() | before.keys() if before.get(k) != after.get(k))
    criteria = {**_subject(obj), "changed": changed,
                "before": {k: before.get(k) for k in changed}, "after": {k: after.get(k) for k in changed}}
    if secrets := _secret_changed(before_obj, obj):
        criteria["secret_changed"] = secrets  # e.g. the password: named, never its value
    return events.record(actor, function=CHANGE, criteria=criteria)


def record_delete(actor: Actor, obj: models.Model) -> AccessLog:
    """Called before the delete, in its transaction (afterwards the instance has no pk)."""
    return events.record(actor, function=DELETE, criteria={**_subject(obj), "before": snapshot(obj), "after": None})


@contextmanager
def register_references(actor: Actor, model: type[models.Model]) -> Iterator[gate.GateSession]:
    """Deleting master data asks whether the register still refers to it (a 町字 by an address, a
    職員 by a change): those models sit behind the gate, so the check opens one, with master.edit,
    and leaves its own `master.delete_check` row. Nothing of a resident is shown or logged."""
    with gate.open(actor, function=DELETE_CHECK, perm=Perm.MASTER_EDIT,
                   criteria={"model": model._meta.label_lower}) as session:
        yield session
