from django.urls import path

from . import views

app_name = "protection"

urlpatterns = [
    path("support/", views.support_list, name="support_list"),
    path("support/new/", views.support_new, name="support_new"),
    path("support/term/", views.support_term, name="support_term"),
    path("support/<id:measure_id>/", views.support_detail, name="support_detail"),
    path("support/<id:measure_id>/notice/", views.support_notice, name="support_notice"),
    path("support/<id:measure_id>/<slug:action>/", views.support_action, name="support_action"),
    path("persons/<id:person_id>/", views.person_protection, name="person"),
    path("persons/<id:person_id>/restrictions/", views.restriction_new, name="restriction_new"),
    path("restrictions/", views.restriction_roster, name="restriction_roster"),  # 抑止対象者一覧 [1290]
    path("restrictions/<id:restriction_id>/<slug:action>/", views.restriction_action, name="restriction_action"),
]
