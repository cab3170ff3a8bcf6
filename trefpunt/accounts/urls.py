from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("@<str:handle>/", views.profile_view, name="profile"),
    path("demo/", views.demo_accounts_view, name="demo_accounts"),
    path("settings/profile/", views.profile_edit_view, name="profile_edit"),
    path("settings/portfolio/new/", views.portfolio_create_view, name="portfolio_create"),
    path(
        "settings/portfolio/<int:pk>/delete/", views.portfolio_delete_view, name="portfolio_delete"
    ),
    path("settings/tokens/", views.token_list_view, name="token_list"),
    path("settings/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("orgs/", views.org_list_view, name="org_list"),
    path("orgs/new/", views.org_create_view, name="org_create"),
    path("orgs/invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("orgs/<slug:slug>/", views.org_detail_view, name="org_detail"),
    path("orgs/<slug:slug>/invite/", views.org_invite_view, name="org_invite"),
    path(
        "orgs/<slug:slug>/members/<int:pk>/remove/", views.member_remove_view, name="member_remove"
    ),
]
