"""Django's auth backend for juki: a member of staff holds the rights granted to them (or to their
section) in force today, not those of `Staff.role`, which is a display label (ADR 0008).

`Staff.has_juki_perm` asks the configured backends (settings.AUTHENTICATION_BACKENDS), so the
accounts app never imports this one: rights sit above accounts and reach down, never the reverse.
"""
from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.core import sql

from .contractors import contractor_session_check
from .services import CATALOGUE, PERMS_CACHE, effective_perms  # services.forget_cached_perms drops it

# Models the Django admin may edit, and the juki right that allows it. Resident records are not
# among them: they change only through the change services.
ADMIN_MODELS = {
    "register.municipality": Perm.MASTER_EDIT, "register.ward": Perm.MASTER_EDIT,
    "register.town": Perm.MASTER_EDIT, "register.building": Perm.MASTER_EDIT,
    "accounts.terminal": Perm.MASTER_EDIT, "rights.section": Perm.MASTER_EDIT,
    "certificates.certifier": Perm.MASTER_EDIT,
}


# The session's user, read on every staff screen: the statement is built once (core.sql.Joined).
_USER = sql.Joined(Staff, where="t.id = %s")


class RightsBackend(ModelBackend):
    """Logs in with the password as Django's model backend does; rights come from grants."""

    def get_user(self, user_id):
        user = _USER.first([user_id])
        return user if user is not None and self.user_can_authenticate(user) else None

    def juki_perms(self, user) -> frozenset[str]:
        """Computed once per object and day: a request's user asks many times, and a long-lived
        object must not keep a right past midnight, when a grant may have lapsed. Between requests
        the day's answer is kept on the user row (`Staff.rights_cache`), which arrives with the
        user: no query at all until a rights change empties it (`services.rights_cache_clear`)."""
        if not getattr(user, "is_active", False) or getattr(user, "pk", None) is None:
            return frozenset()
        day = timezone.localdate()
        cached = user.__dict__.get(PERMS_CACHE)
        if cached is None or cached[0] != day:
            cached = (day, self._stored_or_computed(user, day))
            user.__dict__[PERMS_CACHE] = cached
        return cached[1]

    @staticmethod
    def _stored_or_computed(user, day) -> frozenset[str]:
        key = f"{day.isoformat()}|{CATALOGUE}"  # a new day, or a new roles catalogue, computes again
        stored = getattr(user, "rights_cache", None)
        if isinstance(stored, dict) and stored.get("key") == key:
            return frozenset(stored["perms"])
        perms = effective_perms(user, on=day)
        if isinstance(user, Staff):
            value = {"key": key, "perms": sorted(perms)}
            # Stored only if no rights change came in since the row was read: the version moves on
            # with every change, so a computation that raced with one is simply not kept.
            Staff.objects.filter(pk=user.pk, rights_version=user.rights_version).update(rights_cache=value)
            user.rights_cache = value
        return perms

    def has_juki_perm(self, user, perm: Perm | str) -> bool:
        return str(perm) in self.juki_perms(user)

    def work_application_check(self, user, raw: str) -> str:
        """A contractor's login names an approved work application (C04); others get ""."""
        return contractor_session_check(user, raw)

    def has_perm(self, user, perm, obj=None):
        """The admin's model permissions follow the juki right the model is mapped to."""
        app_label, _, codename = perm.partition(".")
        right = ADMIN_MODELS.get(f"{app_label}.{codename.split('_', 1)[-1]}")
        if right is not None and user.is_staff and self.has_juki_perm(user, right):
            return True
        return super().has_perm(user, perm, obj)

    def has_module_perms(self, user, app_label):
        if user.is_staff and any(k.startswith(f"{app_label}.") and self.has_juki_perm(user, v)
                                 for k, v in ADMIN_MODELS.items()):
            return True
        return super().has_module_perms(user, app_label)
