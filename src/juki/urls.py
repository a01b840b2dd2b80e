from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from juki.core import views as core_views

admin.site.site_header = "juki 住民記録システム 管理"
admin.site.site_title = "juki 管理"
admin.site.index_title = "マスタ管理"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("counter/", include("juki.counter.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("juki.register.api.urls")),
]
handler404 = "juki.core.views.not_found"
handler500 = "juki.core.views.server_error"
