"""The counter's city card screens, under /counter/cards/ (a staff screen: the counter's login, lock
and `next` rules cover it as they cover /counter/)."""
from django.urls import path

from . import counter_views as views

app_name = "card_counter"
urlpatterns = [
    path("persons/<id:person_id>/", views.person, name="person"),
    path("persons/<id:person_id>/issue/", views.issue, name="issue"),
    path("persons/<id:person_id>/cards/<id:card_id>/<slug:step>/", views.step, name="step"),
]
