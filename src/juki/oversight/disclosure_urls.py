from django.urls import path

from . import disclosure_views as views

app_name = "disclosure"

urlpatterns = [
    path("", views.start, name="start"),
    path("persons/<id:person_id>/", views.person, name="person"),
    path("persons/<id:person_id>/report/", views.report, name="report"),
]
