from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("analysis/", views.analysis_view, name="analysis"),
    path("analysis/csv/", views.analysis_csv, name="analysis_csv"),
    path("anomalies/", views.anomalies_view, name="anomalies"),
    path("anomalies/csv/", views.anomalies_csv, name="anomalies_csv"),
]
