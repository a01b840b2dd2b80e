from django.urls import path

from . import views

app_name = "rights"

urlpatterns = [
    path("", views.application_list, name="application_list"),
    path("applications/new/", views.application_new, name="application_new"),
    path("applications/<id:application_id>/", views.application_detail, name="application_detail"),
    path("applications/<id:application_id>/approve/", views.application_approve, name="application_approve"),
    path("applications/<id:application_id>/reject/", views.application_reject, name="application_reject"),
    path("applications/<id:application_id>/withdraw/", views.application_withdraw, name="application_withdraw"),
    path("table/", views.rights_table, name="table"),
    path("table.csv", views.rights_table_csv, name="table_csv"),
    path("table.pdf", views.rights_table_pdf, name="table_pdf"),
    path("staff/", views.staff_change, name="staff_change"),
    path("staff/logins/", views.account_list, name="account_list"),
    path("staff/<id:user_id>/", views.account_detail, name="account_detail"),
    path("staff/<id:user_id>/totp/", views.account_totp_enrol, name="account_totp_enrol"),
    path("staff/<id:user_id>/unlock/", views.account_unlock, name="account_unlock"),
    path("contractors/", views.contractor_list, name="contractor_list"),
    path("contractors/new/", views.contractor_new, name="contractor_new"),
    path("work/", views.work_list, name="work_list"),
    path("work/new/", views.work_new, name="work_new"),
    path("work/<id:work_id>/", views.work_detail, name="work_detail"),
    path("work/<id:work_id>/approve/", views.work_approve, name="work_approve"),
]
