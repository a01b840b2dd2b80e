"""The counter's certificate screens, under /counter/certificates/ (a staff screen: the counter's
login, lock and `next` rules cover it as they cover /counter/)."""
from django.urls import path

from . import counter_views as views

app_name = "certificate_counter"
urlpatterns = [
    path("persons/<id:person_id>/", views.issue_form, name="issue_form"),
    path("persons/<id:person_id>/preview/", views.preview, name="preview"),
    path("persons/<id:person_id>/issue/", views.issue, name="issue"),
    path("persons/<id:person_id>/move-out/", views.move_out_form, name="move_out_form"),
    path("persons/<id:person_id>/move-out/preview/", views.move_out_preview, name="move_out_preview"),
    path("persons/<id:person_id>/move-out/issue/", views.move_out_issue, name="move_out_issue"),
    path("changes/<id:change_id>/move-out/", views.move_out_after_change, name="move_out_after_change"),
    path("persons/<id:person_id>/code-notice/", views.code_notice_form, name="code_notice_form"),
    path("persons/<id:person_id>/code-notice/preview/", views.code_notice_preview, name="code_notice_preview"),
    path("persons/<id:person_id>/code-notice/issue/", views.code_notice_issue, name="code_notice_issue"),
    path("preview/<str:token>/", views.preview_pdf, name="preview_pdf"),
    path("issues/", views.issue_list, name="issue_list"),
    path("issues/<str:number>/", views.issue_detail, name="issue_detail"),
    path("issues/<str:number>/pdf/", views.issue_pdf, name="issue_pdf"),
    path("issues/<str:number>/void/", views.issue_void, name="issue_void"),
    path("issues/<str:number>/reissue/", views.issue_reissue, name="issue_reissue"),
    path("issues/<str:number>/receipt/", views.issue_receipt, name="issue_receipt"),
    path("fees/", views.fee_table, name="fee_table"),
    path("cash/", views.cash_summary, name="cash_summary"),
    path("cash/csv/", views.cash_summary_csv, name="cash_summary_csv"),
    path("cash/pdf/", views.cash_summary_pdf, name="cash_summary_pdf"),
]
