from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from juki.audit import master

from .models import Staff, Terminal


@admin.register(Staff)
class StaffAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("juki", {"fields": ("role", "full_name")}),)
    list_display = ("username", "full_name", "role", "is_active")

    def user_change_password(self, request, id, form_url=""):
        """The admin's password form saves outside `save_model`: log it as a change (the hash is never logged)."""
        with transaction.atomic():
            stored = Staff._base_manager.filter(pk=id).first()
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302 and stored is not None:
                master.record_change(request.actor, Staff._base_manager.get(pk=id), master.snapshot(stored), stored)
        return response


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "location", "ward", "is_active")
