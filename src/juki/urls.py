from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from juki.oversight import api as audit_api
from juki.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    # Staff screens, one app each (C02: each screen checks its right and logs a refusal).
    path("counter/", include("juki.counter.urls")),
    path("counter/certificates/", include("juki.certificates.counter_urls")),  # 証明書の交付 (issue 5)
    path("counter/cards/", include("juki.cards.counter_urls")),  # 北九州市民カード
    path("counter/seals/", include("juki.seals.counter_urls")),  # 印鑑登録
    path("rights/", include("juki.rights.urls")),
    path("protection/", include("juki.protection.urls")),
    path("audit/", include("juki.oversight.urls")),
    path("jukinet/", include("juki.jukinet.urls")),
    path("linkage/", include("juki.linkage.urls")),  # 庁内連携 (issue 16)
    path("atena/", include("juki.atena.urls")),  # 団体内統合宛名 (issue 16)
    path("intermediary/", include("juki.intermediary_link.urls")),  # 中間サーバー (issue 17)
    path("disclosure/", include("juki.oversight.disclosure_urls")),
    path("verify/", include("juki.certificates.urls")),  # public: checks a certificate, no login
    path("kiosk/", include("juki.kiosk.urls")),  # 証明書自動交付機: the device credential opens it, not a login
    path("admin/", admin.site.urls),  # behind the counter login; edits logged as master.* (ADR 0016)
    # API v1
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema", http_method_names=["get", "head"]), name="api-docs"),
    path("api/v1/rights/", include("juki.rights.api")),
    path("api/v1/", include("juki.register.api.urls")),
    path("api/v1/", include("juki.protection.api.urls")),
    path("api/v1/", include("juki.certificates.api_urls")),
    path("api/v1/", include("juki.cards.api_urls")),
    path("api/v1/", include("juki.seals.api_urls")),
    path("api/v1/", include("juki.atena.api_urls")),
    path("api/v1/persons/<id:person_id>/disclosure", audit_api.DisclosureReportView.as_view(), name="api-disclosure"),
    path("api/v1/persons/<id:person_id>/disclosure/summary", audit_api.DisclosureSummaryView.as_view(),
         name="api-disclosure-summary"),
]
handler404 = "juki.core.views.not_found"
handler500 = "juki.core.views.server_error"
