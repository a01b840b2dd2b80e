from django.urls import path

from . import api

urlpatterns = [
    path("atena/lookup", api.LookupView.as_view(), name="api-atena-lookup"),
    path("atena/non-residents", api.NonResidentView.as_view(), name="api-atena-register"),
]
