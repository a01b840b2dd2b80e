"""The kiosk client, under /kiosk/ (not a staff screen: the device credential, not a login, opens it)."""
from django.urls import path

from . import views

app_name = "kiosk"
urlpatterns = [
    path("", views.start, name="start"),
    path("setup/", views.setup, name="setup"),
    path("card/", views.card, name="card"),
    path("pin/", views.pin, name="pin"),
    path("menu/", views.menu, name="menu"),
    path("copy/", views.options, name="options"),
    path("copy/members/", views.members, name="members"),
    path("confirm/", views.confirm, name="confirm"),
    path("pay/", views.pay, name="pay"),
    path("issue/", views.issue, name="issue"),
    path("issuing/", views.issuing, name="issuing"),
    path("done/", views.done, name="done"),
    path("done/certificate.pdf", views.pdf, name="pdf"),
    path("finish/", views.finish, name="finish"),
    path("cancel/", views.cancel, name="cancel"),
    path("timeout/", views.timeout, name="timeout"),
    path("end/", views.end, name="end"),
]
