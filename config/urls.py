from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static as static_url
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.views import home
from contacts.api import ContactViewSet, LabelViewSet

router = DefaultRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("labels", LabelViewSet, basename="label")

admin.site.site_header = "Sampark admin"
admin.site.site_title = "Sampark"

urlpatterns = [
    path("", home, name="home"),
    # Pages link the icon; this answers browsers (and the admin's pages) that ask the root for it.
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static_url("favicon.svg"))),
    path("healthz", lambda request: HttpResponse("ok", content_type="text/plain")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("contacts/", include("contacts.urls")),
    path("inbox/", include("inbox.urls")),
    path("outbound/", include("inbox.outbound_urls")),
    path("campaigns/", include("campaigns.urls")),
    path("history-import/", include("imports.urls")),
    path("webhooks/", include("inbox.webhook_urls")),
    path("dialplan/", include("dialplan.urls")),
    path("sandbox/", include("sandbox.urls")),
    path("api/", include(router.urls)),
    path("api/", include("inbox.api_urls")),
    path("api/", include("dialplan.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
