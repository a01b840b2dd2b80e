from django.urls import path

from . import views

app_name = "rights"

urlpatterns = [
    path("", views.application_list, name="application_list"),
    path("applications/new/", views.application_new, name="application_new"),
    path("applications/<int:application_id>/", views.application_detail, name="application_detail"),
    path("applications/<int:application_id>/approve/", views.application_approve, name="application_approve"),
    path("applications/<int:application_id>/reject/", views.application_reject, name="application_reject"),
    path("applications/<int:application_id>/withdraw/", views.application_withdraw, name="application_withdraw"),
    path("table/", views.rights_table, name="table"),
    path("table.csv", views.rights_table_csv, name="table_csv"),
    path("table.pdf", views.rights_table_pdf, name="table_pdf"),
    path("staff/", views.staff_change, name="staff_change"),
]
