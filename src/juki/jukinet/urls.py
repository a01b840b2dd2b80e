from django.urls import path

from . import views

app_name = "jukinet"

urlpatterns = [
    path("", views.status, name="status"),
    path("dead-letters/<int:seq>/retry/", views.retry, name="retry"),
    path("mail/<int:mail_id>/resend/", views.resend_mail, name="resend_mail"),
    path("errors/", views.errors, name="errors"),
    path("errors/<int:error_id>/", views.resolve, name="resolve"),
    path("consistency/", views.consistency, name="consistency"),
    path("recipients/", views.recipients, name="recipients"),
    path("identify/", views.identify, name="identify"),
    path("persons/<id:person_id>/my-number-change/", views.my_number_change, name="my_number_change"),
    path("persons/<id:person_id>/card/", views.card, name="card"),
    path("special-move-in/", views.special_move_in, name="special_move_in"),
    path("special-move-in/<slug:group>/", views.transfer, name="transfer"),
    path("received/", views.received, name="received"),
    path("wide-area/", views.wide_area, name="wide_area"),
    path("wide-area/<slug:group>/", views.wide_area_status, name="wide_area_status"),
    path("received/<int:received_id>/immigration/", views.immigration, name="immigration"),
    path("notice-missing/", views.notice_missing, name="notice_missing"),
    path("notice-missing/<id:person_id>/inquiry.pdf", views.notice_inquiry, name="notice_inquiry"),
]
