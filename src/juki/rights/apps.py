from django.apps import AppConfig


class RightsConfig(AppConfig):
    """Rights with a period (C02–C04, [1380]): applications, approval, grants, postings, contractors."""

    name = "juki.rights"
    verbose_name = "権限管理"
