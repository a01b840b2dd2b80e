import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from .permissions import ROLE_CHOICES, Perm, perms_of_role


class Staff(AbstractUser):
    """A city employee (or system account) who uses juki. Login name is `username`."""

    role = models.CharField("事務分担", max_length=20, choices=ROLE_CHOICES, default="viewer")
    full_name = models.CharField("氏名", max_length=60, blank=True)
    # The employee's own record when they live in the city: the anomaly report looks for staff
    # viewing their own household, neighbours or namesakes (C08).
    resident_person_id = models.BigIntegerField("本人の住民記録（市内在住の場合）", null=True, blank=True)

    class Meta:
        verbose_name = "職員"
        verbose_name_plural = "職員"

    # Models the Django admin may edit, and the juki right that allows it. Resident records
    # are not among them: they change only through the change services.
    ADMIN_MODELS = {
        "register.municipality": Perm.MASTER_EDIT, "register.ward": Perm.MASTER_EDIT,
        "register.town": Perm.MASTER_EDIT, "register.building": Perm.MASTER_EDIT,
        "accounts.terminal": Perm.MASTER_EDIT,
    }

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
        if not self.is_active:
            return False
        return str(perm) in perms_of_role(self.role)


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


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database copy cannot be replayed."""

    user = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
