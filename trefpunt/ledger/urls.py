"""Wallet pages (language-prefixed)."""

from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("", views.wallet_view, name="wallet"),
    path("deposit/", views.deposit_create_view, name="deposit_create"),
    path("deposit/<uuid:public_id>/", views.deposit_return_view, name="deposit_return"),
    path("payout/", views.payout_create_view, name="payout_create"),
    path("org/<slug:slug>/", views.org_wallet_view, name="org_wallet"),
    path("staff/payouts/", views.staff_payouts_view, name="staff_payouts"),
    path("staff/payouts/<int:pk>/paid/", views.payout_paid_view, name="payout_paid"),
    path("staff/payouts/<int:pk>/failed/", views.payout_failed_view, name="payout_failed"),
]
