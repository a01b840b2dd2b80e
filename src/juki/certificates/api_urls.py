from django.urls import path

from . import api

urlpatterns = [
    path("certificates", api.CertificatesView.as_view(), name="api-certificates"),
    path("certificates/numbers", api.CertificateNumbersView.as_view(), name="api-certificate-numbers"),
    path("certificates/verify", api.CertificateVerifyView.as_view(), name="api-certificate-verify"),
    path("certificates/move-out", api.MoveOutCertificateView.as_view(), name="api-certificate-move-out"),
    path("certificates/resident-code-notice", api.CodeNoticeView.as_view(), name="api-certificate-code-notice"),
    path("certificates/<str:number>/void", api.CertificateVoidView.as_view(), name="api-certificate-void"),
    path("certificates/<str:number>/reissue", api.CertificateReissueView.as_view(), name="api-certificate-reissue"),
]
