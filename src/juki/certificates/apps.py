from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "juki.certificates"
    label = "certificates"
    verbose_name = "証明書"
