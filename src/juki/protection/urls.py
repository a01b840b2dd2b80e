from django.urls import path

from . import views

app_name = "protection"

urlpatterns = [
    path("support/", views.support_list, name="support_list"),
    path("support/new/", views.support_new, name="support_new"),
    path("support/term/", views.support_term, name="support_term"),
    path("support/<int:measure_id>/", views.support_detail, name="support_detail"),
    path("support/<int:measure_id>/notice/", views.support_notice, name="support_notice"),
    path("support/<int:measure_id>/<slug:action>/", views.support_action, name="support_action"),
    path("persons/<int:person_id>/", views.person_protection, name="person"),
    path("persons/<int:person_id>/restrictions/", views.restriction_new, name="restriction_new"),
    path("restrictions/<int:restriction_id>/<slug:action>/", views.restriction_action, name="restriction_action"),
]
