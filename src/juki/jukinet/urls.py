from django.urls import path

from . import views

app_name = "jukinet"

urlpatterns = [
    path("", views.status, name="status"),
    path("dead-letters/<int:seq>/retry/", views.retry, name="retry"),
    path("errors/", views.errors, name="errors"),
    path("errors/<int:error_id>/", views.resolve, name="resolve"),
    path("consistency/", views.consistency, name="consistency"),
    path("recipients/", views.recipients, name="recipients"),
    path("identify/", views.identify, name="identify"),
    path("persons/<id:person_id>/my-number-change/", views.my_number_change, name="my_number_change"),
    path("persons/<id:person_id>/card/", views.card, name="card"),
]
