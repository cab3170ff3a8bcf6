"""Wallet pages (language-prefixed)."""

app_name = "ledger"
urlpatterns: list = []
