from django.urls import path

from . import views

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="api-token"),
    path("auth/token/revoke", views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("persons/search", views.PersonSearchView.as_view(), name="api-person-search"),
    path("persons/<id:person_id>", views.PersonView.as_view(), name="api-person"),
    path("persons/<id:person_id>/history", views.PersonHistoryView.as_view(), name="api-person-history"),
    path("households/without-head", views.HouseholdsWithoutHeadView.as_view(), name="api-households-without-head"),
    path("households/<id:household_id>", views.HouseholdView.as_view(), name="api-household"),
    path("changes/late-notifications", views.LateNotificationsView.as_view(), name="api-late-notifications"),
    path("pending", views.PendingListView.as_view(), name="api-pending"),
    path("pending/<id:pending_id>", views.PendingView.as_view(), name="api-pending-detail"),
    path("pending/<id:pending_id>/approve", views.PendingApproveView.as_view(), name="api-pending-approve"),
    path("pending/<id:pending_id>/reject", views.PendingRejectView.as_view(), name="api-pending-reject"),
    path("pending/<id:pending_id>/withdraw", views.PendingWithdrawView.as_view(), name="api-pending-withdraw"),
    path("access-log", views.AccessLogView.as_view(), name="api-access-log"),
    path("outbox", views.OutboxView.as_view(), name="api-outbox"),
    path("outbox/ack", views.OutboxAckView.as_view(), name="api-outbox-ack"),
    path("master/wards", views.WardListView.as_view(), name="api-wards"),
    path("master/towns", views.TownListView.as_view(), name="api-towns"),
    path("master/buildings", views.BuildingListView.as_view(), name="api-buildings"),
]
for _op, _view in views.change_views().items():
    urlpatterns.append(path(f"changes/{_op.replace('_', '-')}", _view.as_view(), name=f"api-change-{_op}"))
