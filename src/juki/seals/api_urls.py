from django.urls import path

from . import api

urlpatterns = [
    path("seals/persons/<id:person_id>", api.SealView.as_view(), name="api-seal"),
    path("seals/persons/<id:person_id>/register", api.SealRegisterView.as_view(), name="api-seal-register"),
    path("seals/persons/<id:person_id>/answer", api.SealAnswerView.as_view(), name="api-seal-answer"),
    path("seals/persons/<id:person_id>/abolish", api.SealAbolishView.as_view(), name="api-seal-abolish"),
    path("seals/persons/<id:person_id>/lost", api.SealLostView.as_view(), name="api-seal-lost"),
    path("seals/certificates", api.SealCertificateView.as_view(), name="api-seal-certificate"),
]
