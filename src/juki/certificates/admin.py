"""認証者 [310] is master data, edited in the admin like the 町字 (every edit logged by the site)."""
from django.contrib import admin

from .models import Certifier


@admin.register(Certifier)
class CertifierAdmin(admin.ModelAdmin):
    list_display = ("title", "name", "kind", "ward", "valid_from", "valid_until")
    list_filter = ("kind", "ward")
