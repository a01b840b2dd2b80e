from django.contrib import admin

from .models import ContractorCompany, Section


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    """所属 is master data like 区; grants and postings change only through the services (logged)."""

    list_display = ("code", "name", "ward", "is_system_owner")
    search_fields = ("code", "name")


@admin.register(ContractorCompany)
class ContractorCompanyAdmin(admin.ModelAdmin):
    list_display = ("name",)
