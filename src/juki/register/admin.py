"""Master data is edited in the admin; resident records are not (they change only through 異動)."""
from django.contrib import admin

from .models import Building, Municipality, Town, Ward


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("code", "prefecture", "name")


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "municipality")


@admin.register(Town)
class TownAdmin(admin.ModelAdmin):
    list_display = ("code", "ward", "name", "kana", "postal_code", "elementary_school_district",
                    "junior_high_school_district", "voting_district", "is_active")
    list_filter = ("ward", "is_active")
    search_fields = ("name", "kana", "code", "postal_code")


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("town", "banchi", "name", "kana")
    search_fields = ("name", "kana", "banchi")
    autocomplete_fields = ("town",)
