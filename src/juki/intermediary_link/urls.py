from django.urls import path

from . import views

app_name = "intermediary_link"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("reconcile/", views.reconcile, name="reconcile"),
    path("review/", views.review, name="review"),
    path("review/<int:inquiry_id>/", views.decide, name="decide"),
    path("records/", views.records, name="records"),
]
