from django.urls import path

from . import api

urlpatterns = [
    path("cards", api.CardsView.as_view(), name="api-cards"),
    path("cards/persons/<int:person_id>", api.PersonCardsView.as_view(), name="api-cards-person"),
    path("cards/<int:card_id>/suspend", api.CardSuspendView.as_view(), name="api-card-suspend"),
    path("cards/<int:card_id>/resume", api.CardResumeView.as_view(), name="api-card-resume"),
    path("cards/<int:card_id>/unlock", api.CardUnlockView.as_view(), name="api-card-unlock"),
    path("cards/<int:card_id>/pin", api.CardChangePinView.as_view(), name="api-card-pin"),
    path("cards/<int:card_id>/reissue", api.CardReissueView.as_view(), name="api-card-reissue"),
    path("cards/<int:card_id>/abolish", api.CardAbolishView.as_view(), name="api-card-abolish"),
]
