from django.urls import path

from . import views

app_name = "linkage"

urlpatterns = [
    path("", views.destinations_list, name="destinations"),
    path("<slug:code>/", views.destination, name="destination"),
    path("<slug:code>/apply/", views.apply, name="apply"),
    path("<slug:code>/approvals/<int:approval_id>/", views.approval_step, name="approval_step"),
    path("<slug:code>/resend/", views.resend, name="resend"),
    path("<slug:code>/deliveries/<int:sequence>/retry/", views.retry, name="retry"),
    path("<slug:code>/media/", views.media_request, name="media_request"),
    path("<slug:code>/media/<int:request_id>/approve/", views.media_approve, name="media_approve"),
    path("<slug:code>/deliveries/<int:delivery_id>/media/", views.media_output, name="media_output"),
]
