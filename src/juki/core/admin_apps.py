"""The Django admin's app config: its default site is juki's (`juki.counter.admin_site.JukiAdminSite`),
which has no login of its own and logs every master data edit (ADR 0016).

Kept apart from the site itself: an app config is imported before the models are ready."""
from django.contrib.admin.apps import AdminConfig


class JukiAdminConfig(AdminConfig):
    default_site = "juki.counter.admin_site.JukiAdminSite"
