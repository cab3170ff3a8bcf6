from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.privacy_view, name="privacy"),
    path("export/", views.export_view, name="export"),
    path("delete/", views.delete_view, name="delete"),
]
