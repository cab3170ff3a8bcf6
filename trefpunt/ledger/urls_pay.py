"""The provider side: sandbox checkout and webhooks, outside the language prefix like a real
provider's pages."""

from django.urls import path

from . import views_pay

app_name = "pay"
urlpatterns = [
    path("sandbox/<uuid:public_id>/", views_pay.sandbox_checkout_view, name="sandbox_checkout"),
    path("webhook/<str:provider>/", views_pay.webhook_view, name="webhook"),
]
