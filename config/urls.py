from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static as static_url
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.forms import LoginForm
from accounts.views import home
from contacts.api import ContactViewSet, LabelViewSet
from core.views import healthz
from inbox.rich.urls import media_urlpatterns as rich_media_urls

# No format-suffix routes (`/api/contacts.json`): the API speaks JSON only, and custom actions do not
# take a `format` argument (`/api/contacts/1/notes.json` was a 500). One rule for every router.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("contacts", ContactViewSet, basename="contact")
router.register("labels", LabelViewSet, basename="label")

admin.site.site_header = "Sampark admin"
admin.site.site_title = "Sampark"

urlpatterns = [
    path("", home, name="home"),
    # Pages link the icon; this answers browsers (and the admin's pages) that ask the root for it.
    path("favicon.ico", lambda request: HttpResponsePermanentRedirect(static_url("favicon.svg"))),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("contacts/", include("contacts.urls")),
    path("inbox/rich/", include("inbox.rich.urls")),  # (rcs-rich) the rich RCS composer
    path("rcs-cards/", include((rich_media_urls, "rich_media"))),  # public: Tata fetches card media
    path("inbox/", include("inbox.urls")),
    path("outbound/", include("inbox.outbound.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("history-import/", include("imports.urls")),
    path("webhooks/", include("inbox.webhook_urls")),
    path("dialplan/", include("dialplan.urls")),
    path("telephony/", include("telephony.urls")),
    path("sandbox/", include("sandbox.urls")),
    path("api/", include(router.urls)),
    path("api/", include("inbox.api_urls")),
    path("api/", include("dialplan.api_urls")),
    path("api/", include("telephony.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]
# No /media/ URL, even with DEBUG on: stored files are served only by views that check who may see
# them (inbox:attachment).
