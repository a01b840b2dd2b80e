import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from .permissions import ROLE_CHOICES, Perm


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

    class Meta:
        verbose_name = "職員"
        verbose_name_plural = "職員"

    # Models the Django admin may edit, and the juki right that allows it. Resident records
    # are not among them: they change only through the change services.
    ADMIN_MODELS = {
        "register.municipality": Perm.MASTER_EDIT, "register.ward": Perm.MASTER_EDIT,
        "register.town": Perm.MASTER_EDIT, "register.building": Perm.MASTER_EDIT,
        "accounts.terminal": Perm.MASTER_EDIT, "rights.section": Perm.MASTER_EDIT,
        "certificates.certifier": Perm.MASTER_EDIT,
    }

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

    def save(self, *args, **kwargs):
        reasons = self._token_revocation_reasons(kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        self._password_set = False
        if reasons:
            from .tokens import STAFF_CHANGE, tokens_revoke  # tokens imports this module

            for reason in reasons:
                tokens_revoke(self, reason, actor=STAFF_CHANGE)

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

    def has_perm(self, perm, obj=None):
        app_label, _, codename = perm.partition(".")
        model = codename.split("_", 1)[-1]
        right = self.ADMIN_MODELS.get(f"{app_label}.{model}")
        if right is not None and self.is_staff and self.has_juki_perm(right):
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label):
        if self.is_staff and any(k.startswith(f"{app_label}.") and self.has_juki_perm(v) for k, v in self.ADMIN_MODELS.items()):
            return True
        return super().has_module_perms(app_label)

    def has_juki_perm(self, perm: Perm | str) -> bool:
        """Rights come from grants in force today (juki.rights), not from `role` (a display label).

        Computed once per object and day: a request's user asks many times, and a long-lived
        object must not keep a right past midnight, when a grant may have lapsed."""
        if not self.is_active:
            return False
        from django.utils import timezone as tz

        from juki.rights.services import effective_perms  # rights imports this module

        day = tz.localdate()
        cached = self.__dict__.get("_juki_perms")
        if cached is None or cached[0] != day:
            cached = (day, effective_perms(self, on=day))
            self.__dict__["_juki_perms"] = cached
        return str(perm) in cached[1]


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
