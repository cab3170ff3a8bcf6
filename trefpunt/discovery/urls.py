from django.urls import path

from . import views

app_name = "discovery"
urlpatterns = [
    path("search/", views.search_view, name="search"),
    path("people/", views.people_view, name="people"),
]
