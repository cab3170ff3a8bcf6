from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.urls import URLPattern, URLResolver, include, path

from trefpunt.api import api
from trefpunt.community import views as community_views
from trefpunt.core import views as core_views
from trefpunt.core.health import health_view
from trefpunt.moderation.admin import site as staff_records

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("pay/", include("trefpunt.ledger.urls_pay")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health_view, name="health"),
    path("", include("trefpunt.discovery.urls_root")),
    # Outside the language prefix: the link in an email's List-Unsubscribe header.
    path("unsubscribe/<str:token>/", community_views.unsubscribe_view, name="unsubscribe"),
]
urlpatterns += i18n_patterns(
    path("", core_views.home_view, name="home"),
    path("accounts/", include("allauth.urls")),
    path("wallet/", include("trefpunt.ledger.urls")),
    path("contests/", include("trefpunt.contests.urls")),
    path("microtasks/", include("trefpunt.microtasks.urls")),
    path("ideas/", include("trefpunt.ideas.urls")),
    path("", include("trefpunt.discovery.urls")),
    path("projects/", include("trefpunt.projects.urls")),
    path("moderation/", include("trefpunt.moderation.urls")),
    path("", include("trefpunt.community.urls")),
    path("admin/", staff_records.urls),
    path("settings/privacy/", include("trefpunt.privacy.urls")),
    path("settings/webhooks/", include("trefpunt.webhooks.urls")),
    path("", include("trefpunt.accounts.urls")),
)
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
