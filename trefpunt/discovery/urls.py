from django.urls import path

from . import views
from .feeds import KindFeed

app_name = "discovery"
urlpatterns = [
    path("search/", views.search_view, name="search"),
    path("people/", views.people_view, name="people"),
    path("start/", views.start_view, name="start"),
    path("settings/findability/", views.listing_view, name="listing"),
    path("feeds/<str:kind>/", KindFeed(), name="feed"),
    path("feeds/<str:kind>/<slug:category>/", KindFeed(), name="feed_category"),
]
