from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "juki.retention"
    verbose_name = "保存期間と削除"
