from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "juki.audit"
    label = "audit"
    verbose_name = "監査"
