from django.urls import path

from . import views

urlpatterns = [
    path("protection/support-measures", views.SupportMeasuresView.as_view(), name="api-support-measures"),
    path("protection/support-measures/<id:measure_id>", views.SupportMeasureView.as_view(), name="api-support-measure"),
    path("protection/support-measures/<id:measure_id>/confirm", views.SupportConfirmView.as_view(),
         name="api-support-measure-confirm"),
    path("protection/support-measures/<id:measure_id>/extend", views.SupportExtendView.as_view(),
         name="api-support-measure-extend"),
    path("protection/support-measures/<id:measure_id>/end", views.SupportEndView.as_view(),
         name="api-support-measure-end"),
    path("protection/alerts", views.AlertsView.as_view(), name="api-protection-alerts"),
    path("protection/restrictions", views.RestrictionsView.as_view(), name="api-restrictions"),
    path("protection/restrictions/<id:restriction_id>/release", views.RestrictionReleaseView.as_view(),
         name="api-restriction-release"),
    path("protection/restrictions/<id:restriction_id>/temporary-release", views.RestrictionTemporaryReleaseView.as_view(),
         name="api-restriction-temporary-release"),
    path("outbox/restrictions", views.RestrictionEventsView.as_view(), name="api-restriction-events"),
    path("outbox/restrictions/ack", views.RestrictionEventsAckView.as_view(), name="api-restriction-events-ack"),
    path("certificate-requests/check", views.CertificateCheckView.as_view(), name="api-certificate-check"),
]
