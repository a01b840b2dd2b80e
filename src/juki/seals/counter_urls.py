"""The counter's 印鑑登録 screens, under /counter/seals/ (staff screens: the counter's login, lock
and `next` rules cover them as they cover /counter/)."""
from django.urls import path

from . import counter_views as views

app_name = "seal_counter"
urlpatterns = [
    path("persons/<id:person_id>/", views.person, name="person"),
    path("persons/<id:person_id>/register/", views.register, name="register"),
    path("persons/<id:person_id>/inquiry-letter/", views.inquiry_letter, name="inquiry_letter"),
    path("persons/<id:person_id>/answer/", views.answer, name="answer"),
    path("persons/<id:person_id>/abolish/", views.abolish, name="abolish"),
    path("persons/<id:person_id>/lost/", views.lost, name="lost"),
    path("image-check/", views.image_check, name="image_check"),
    path("persons/<id:person_id>/certificate/", views.certificate, name="certificate"),
    path("persons/<id:person_id>/certificate/preview/", views.certificate_preview, name="certificate_preview"),
    path("persons/<id:person_id>/certificate/issue/", views.certificate_issue, name="certificate_issue"),
    path("certificate/issues/<str:number>/", views.issued, name="issued"),
    path("certificate/issues/<str:number>/reissue/", views.reissue, name="reissue"),
]
