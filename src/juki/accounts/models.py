import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from .permissions import ROLE_CHOICES, ROLES, Perm


class Staff(AbstractUser):
    """A city employee (or system account) who uses juki. Login name is `username`."""

    role = models.CharField("事務分担", max_length=20, choices=ROLE_CHOICES, default="viewer")
    full_name = models.CharField("氏名", max_length=60, blank=True)

    class Meta:
        verbose_name = "職員"
        verbose_name_plural = "職員"

    def has_juki_perm(self, perm: Perm | str) -> bool:
        if not self.is_active:
            return False
        return Perm(perm) in ROLES.get(self.role, ("", frozenset()))[1]


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
