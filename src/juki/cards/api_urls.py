from django.urls import path

from . import api

urlpatterns = [
    path("cards", api.CardsView.as_view(), name="api-cards"),
    path("cards/persons/<id:person_id>", api.PersonCardsView.as_view(), name="api-cards-person"),
    path("cards/<id:card_id>/suspend", api.CardSuspendView.as_view(), name="api-card-suspend"),
    path("cards/<id:card_id>/resume", api.CardResumeView.as_view(), name="api-card-resume"),
    path("cards/<id:card_id>/unlock", api.CardUnlockView.as_view(), name="api-card-unlock"),
    path("cards/<id:card_id>/pin", api.CardChangePinView.as_view(), name="api-card-pin"),
    path("cards/<id:card_id>/reissue", api.CardReissueView.as_view(), name="api-card-reissue"),
    path("cards/<id:card_id>/abolish", api.CardAbolishView.as_view(), name="api-card-abolish"),
]
