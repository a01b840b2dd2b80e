from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "juki.backup"
    label = "backup"
    verbose_name = "バックアップ・復元"
