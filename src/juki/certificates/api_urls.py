from django.urls import path

from . import api

urlpatterns = [
    path("certificates", api.CertificatesView.as_view(), name="api-certificates"),
    path("certificates/verify", api.CertificateVerifyView.as_view(), name="api-certificate-verify"),
    path("certificates/<str:number>/void", api.CertificateVoidView.as_view(), name="api-certificate-void"),
    path("certificates/<str:number>/reissue", api.CertificateReissueView.as_view(), name="api-certificate-reissue"),
]
