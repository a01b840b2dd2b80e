import hashlib
from functools import lru_cache

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.dispatch import Signal
from django.utils import timezone

from juki.core import sql

from .permissions import ROLE_CHOICES, Perm


# Sent by `Staff.save` with `user` and `reasons` when a change must end the user's API tokens.
staff_changed = Signal()
# Sent by `services.staff_create` with `user` and `role`, in its transaction: the rights app grants the role.
staff_created = Signal()


class Staff(AbstractUser):
    """A city employee (or system account) who uses juki. Login name is `username`."""

    role = models.CharField("事務分担", max_length=20, choices=ROLE_CHOICES, default="viewer")
    full_name = models.CharField("氏名", max_length=60, blank=True)
    # The employee's own record when they live in the city: the anomaly report looks for staff
    # viewing their own household, neighbours or namesakes (C08).
    resident_person_id = models.BigIntegerField("本人の住民記録（市内在住の場合）", null=True, blank=True)
    # Login policy (C01): consecutive failures lock the account; passwords expire.
    failed_logins = models.PositiveIntegerField("連続ログイン失敗回数", default=0)
    locked_at = models.DateTimeField("ロック日時", null=True, blank=True)
    password_changed_at = models.DateTimeField("パスワード変更日時", default=timezone.now)
    # The rights of one day as the rights app computed them ({"key": day|catalogue, "perms": […]}), so
    # that a request reads them with the user row instead of three queries (issue 19). Any change of
    # the user's grants, postings or contractor registration empties it and moves `rights_version`
    # on; a computation that raced with such a change is not stored (`RightsBackend.juki_perms`).
    rights_cache = models.JSONField("権限（当日分の控え）", null=True, blank=True, editable=False)
    rights_version = models.PositiveIntegerField("権限の変更回数", default=0, editable=False)

    class Meta:
        verbose_name = "職員"
        verbose_name_plural = "職員"

    @property
    def display_name(self) -> str:
        """How screens and reports name a member of staff: the name, else the ID."""
        return self.full_name or self.username

    def set_password(self, raw_password):
        super().set_password(raw_password)
        # The history row is written by PasswordHistoryValidator.password_changed() once saved.
        self.password_changed_at = timezone.now()
        self._password_set = True  # the API tokens end once this is saved (see `save`)

    # Changes that end the user's API tokens (C01), whatever path makes them: juki's services, the
    # Django admin's forms, `manage.py changepassword`. This model is the one place all of them pass,
    # so the check lives here rather than in each caller (ADR 0015).
    _REVOKING_FIELDS = {"is_active": "retirement", "role": "role_change"}

    _RIGHTS_CACHE_FIELDS = frozenset({"rights_cache", "rights_version"})

    def save(self, *args, **kwargs):
        # The stored rights are written only by RightsBackend (conditionally) and the rights
        # triggers: a save of an object loaded earlier must not put back an emptied cache.
        if kwargs.get("update_fields") is None and not self._state.adding and self.pk is not None:
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in self._RIGHTS_CACHE_FIELDS]
        reasons = self._token_revocation_reasons(kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        self._password_set = False
        if reasons:  # tokens.py ends them, in this transaction (its receiver is connected in apps.py)
            staff_changed.send(sender=type(self), user=self, reasons=reasons)

    def _token_revocation_reasons(self, update_fields) -> list[str]:
        if self.pk is None:
            return []
        fields = set(update_fields) if update_fields is not None else None
        reasons = []
        if getattr(self, "_password_set", False) and (fields is None or "password" in fields):
            reasons.append("password_change")
        watched = [f for f in self._REVOKING_FIELDS if fields is None or f in fields]
        if watched:
            before = type(self).objects.filter(pk=self.pk).values(*watched).first() or {}
            for field in watched:
                if field in before and before[field] != getattr(self, field):
                    if field != "is_active" or not self.is_active:  # re-activating ends nothing
                        reasons.append(self._REVOKING_FIELDS[field])
        return reasons

    def has_juki_perm(self, perm: Perm | str) -> bool:
        """Whether the user holds the juki right today. The answer is the auth backends' (the
        rights app's `RightsBackend`: grants in force today, ADR 0008), asked through Django's
        backend list so that accounts, below rights, does not import it."""
        if not self.is_active:
            return False
        return any(backend.has_juki_perm(self, perm) for backend in _juki_backends(tuple(settings.AUTHENTICATION_BACKENDS)))


@lru_cache(maxsize=4)
def _juki_backends(paths: tuple[str, ...]) -> list:
    """The backends that answer juki rights, loaded once (`auth.get_backends()` makes new ones on
    every call; a screen asks for rights dozens of times). Keyed by the setting, so an override
    in a test loads its own."""
    return [b for b in (auth.load_backend(p) for p in paths) if hasattr(b, "has_juki_perm")]


class Terminal(models.Model):
    """入力場所・入力端末 [230]: every request names the terminal it comes from."""

    code = models.CharField("端末ID", max_length=32, unique=True)
    name = models.CharField("端末名", max_length=60)
    location = models.CharField("入力場所", max_length=60, help_text="本庁、区役所市民課、出張所 など")
    ward = models.ForeignKey("register.Ward", verbose_name="区", null=True, blank=True, on_delete=models.PROTECT)
    is_active = models.BooleanField("利用可", default=True)

    class Meta:
        verbose_name = "端末"
        verbose_name_plural = "端末"

    def __str__(self):
        return f"{self.code} {self.name}"


def staff_terminals():
    """The terminals staff may log in on or name in the API: active ones, not a kiosk's (a kiosk's
    terminal names the device in issue records and its 日計表; ADR 0011)."""
    return Terminal.objects.filter(is_active=True, kiosk_device__isnull=True)


# The same rule as one statement built once, for the terminal every staff screen reads from its
# session (core.sql.Joined); tests/accounts/test_sessions.py holds the two to the same answers.
_STAFF_TERMINAL = sql.Joined(Terminal, "ward", "kiosk_device",
                             where="t.id = %s AND t.is_active = %s AND kiosk_device.id IS NULL")


def staff_terminal(pk: int) -> "Terminal | None":
    """The terminal `pk`, with its 区, if it is one of `staff_terminals()`."""
    return _STAFF_TERMINAL.first([pk, True])


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database copy cannot be replayed.

    Bound to the user and to the terminal that asked for it (C01): a request naming another
    terminal is refused. A revoked token is deleted (`juki.accounts.tokens.tokens_revoke`)."""

    user = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    # Null only for tokens issued before the binding (migration 0006); those are refused.
    terminal = models.ForeignKey(Terminal, verbose_name="発行端末", null=True, on_delete=models.CASCADE,
                                 related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    # What the token request proved: the second factor (C01) and a contractor's work application (C04).
    second_factor = models.BooleanField("二要素認証済み", default=False)
    work_application = models.CharField("作業申請番号", max_length=40, blank=True)

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class PasswordHistory(models.Model):
    """Argon2 hashes of a user's recent passwords, so that none of the last N is reused (C01)."""

    user = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]


class CounterSession(models.Model):
    """The one live counter session of a user, and of a terminal: a new login ends the older one."""

    user = models.OneToOneField(Staff, on_delete=models.CASCADE, related_name="counter_session")
    terminal = models.OneToOneField(Terminal, on_delete=models.CASCADE, related_name="counter_session")
    session_key = models.CharField(max_length=40, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)


class SessionDocument(models.Model):
    """A PDF a staff screen hands out in a later request of the same login (`ui.documents`: the
    certificate preview, the last few issued): kept beside the session, not in it, because every
    request loads and often saves the session (five PDFs in it cost 18 ms of CPU per request under the
    load test, issue 18). It ends with its session (logout, a newer login, expiry) and after
    `sessions.DOCUMENT_SECONDS`; the daily purge removes what is left (`juki retention purge`)."""

    session = models.ForeignKey("sessions.Session", on_delete=models.CASCADE, related_name="+", db_index=False)  # the slot constraint leads with it
    slot = models.CharField(max_length=40)  # "preview", or the issue number
    pdf = models.BinaryField()
    kept_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "slot"], name="accounts_sessiondocument_slot")]
