from django.urls import path

from . import views

app_name = "atena"

# Internal ids in URLs, never a 統一識別番号 (an identifier tied to the 個人番号).
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.person, name="person"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("merges/<int:merge_id>/undo/", views.undo, name="undo"),
]
