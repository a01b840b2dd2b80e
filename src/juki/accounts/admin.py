from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Staff, Terminal


@admin.register(Staff)
class StaffAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("juki", {"fields": ("role", "full_name")}),)
    list_display = ("username", "full_name", "role", "is_active")


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "location", "ward", "is_active")
