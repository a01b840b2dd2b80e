"""The public verification page (no login): /verify/ and /verify/<number> (the QR code's address)."""
from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("", views.verify, name="verify"),
    path("<str:number>", views.verify, name="verify_number"),
]
