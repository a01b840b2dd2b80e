"""The Django admin behind the counter's login (C01, C20; ADR 0016).

- `/admin/login/` has no password form: it sends the visitor to the counter's login (password rules,
  lockout, second factor, one session, `auth.*` log rows) with `next=` back to the admin.
- Every admin view passes the counter's session checks (`counter_view`: a terminal, the one live
  session, the idle lock, a contractor's work application, an expired password), and the site's
  `has_permission` also wants the second factor when the user's rights need one.
- Which models a user may edit stays the admin's per-model check (`Staff.has_perm`: master.edit).
- Every model registered here gets `MasterAuditMixin`: add, change and delete write `master.*`
  rows into the hash-chained access log in the save's transaction (`juki.audit.master`).
"""
from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects
from django.db import router, transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from juki.accounts import login as login_rules
from juki.audit import master

from juki.ui import access


def full_counter_session(request) -> bool:
    """Logged in at the counter: a terminal, this user's live session, and the second factor if needed."""
    user = request.user
    if not user.is_authenticated or access.session_terminal(request) is None:
        return False
    if not login_rules.counter_session_is_live(user=user, session_key=request.session.session_key):
        return False
    return access.second_factor(request) or not login_rules.needs_second_factor(user)


def _actor(request):
    return getattr(request, "actor", None) or access.actor_of(request)


class MasterAuditMixin:
    """Add, change and delete in the admin each write a `master.*` row with the values before and after."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            stored = type(obj)._base_manager.filter(pk=obj.pk).first() if change and obj.pk is not None else None
            before = master.snapshot(stored) if stored is not None else {}
            super().save_model(request, obj, form, change)
            if change:
                master.record_change(_actor(request), obj, before, stored)
            else:
                master.record_add(_actor(request), obj)

    def delete_model(self, request, obj):
        with transaction.atomic(), master.register_references(_actor(request), type(obj)):
            master.record_delete(_actor(request), obj)  # before the delete: afterwards obj has no pk
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(), master.register_references(_actor(request), queryset.model):
            for obj in queryset:
                master.record_delete(_actor(request), obj)
            super().delete_queryset(request, queryset)

    def get_deleted_objects(self, objs, request):
        """The confirmation's list of what goes with the object: a row of the register that still
        refers to it (PROTECT) is counted by kind, never shown (no resident data in the admin)."""
        objs = list(objs)
        model = objs[0].__class__ if objs else self.model
        with master.register_references(_actor(request), model):
            deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
            if protected:
                collector = NestedObjects(using=router.db_for_write(model))
                collector.collect(objs)
                kinds = Counter(str(o._meta.verbose_name) for o in collector.protected)
                protected = [f"{kind}（{n}件）から参照されています" for kind, n in sorted(kinds.items())]
        return deleted, counts, perms_needed, protected


class JukiAdminSite(admin.AdminSite):
    site_header = "juki 住民記録システム 管理"
    site_title = "juki 管理"
    index_title = "マスタ管理"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, MasterAuditMixin):
            admin_class = type(admin_class.__name__, (MasterAuditMixin, admin_class),
                               {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__})
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request):
        return super().has_permission(request) and full_counter_session(request)

    def admin_view(self, view, cacheable=False):
        # The counter's session checks first (login, terminal, one session, idle lock, expired
        # password); then the admin's own `has_permission`, which sends anyone else to `login`.
        return access.counter_view()(super().admin_view(view, cacheable))

    def _next(self, request) -> str:
        target = request.POST.get("next") or request.GET.get("next") or ""
        index = reverse("admin:index", current_app=self.name)
        return target if target.startswith(index) else index

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        """No password form here: the counter's login, then back to the admin."""
        target = self._next(request)
        if request.user.is_authenticated and full_counter_session(request):
            if self.has_permission(request):
                return redirect(target)
            return render(request, "ui/denied.html", {"title": "権限がありません"}, status=403)
        return redirect(reverse("counter:login") + "?" + urlencode({"next": target}))

    def logout(self, request, extra_context=None):
        access.end_session(request)  # logs auth.logout and forgets the live session
        return redirect("counter:login")

    def password_change(self, request, extra_context=None):
        """The counter's password change (history, expiry, lockout on a wrong current password)."""
        return redirect(reverse("counter:password_change") + "?"
                        + urlencode({"next": reverse("admin:index", current_app=self.name)}))

    def password_change_done(self, request, extra_context=None):
        return redirect("admin:index")
