"""Addresses outside the language prefix: the sitemap index, its sections and robots.txt."""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from .freshness import cached_with_index
from .sitemaps import robots_view, sitemaps

SITEMAP_CACHE = 15 * 60

urlpatterns = [
    path("robots.txt", robots_view, name="robots_txt"),
    path(
        "sitemap.xml",
        cached_with_index(SITEMAP_CACHE)(sitemap_views.index),
        {"sitemaps": sitemaps(), "sitemap_url_name": "sitemap_section"},
        name="sitemap_index",
    ),
    path(
        "sitemap-<section>.xml",
        cached_with_index(SITEMAP_CACHE)(sitemap_views.sitemap),
        {"sitemaps": sitemaps()},
        name="sitemap_section",
    ),
]
