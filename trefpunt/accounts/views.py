"""Profiles, portfolios, API tokens and organisations: thin views over services and selectors.

Domain errors map to HTTP here: ``NotFound`` → 404, ``PermissionDenied`` → 403,
``ValidationFailed`` → the errors next to the form's fields, ``Conflict`` → a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from trefpunt.core.exceptions import (
    ApplicationError,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.types import AuthedRequest

from . import selectors, services
from .forms import ApiTokenForm, InviteForm, OrganisationForm, PortfolioItemForm, ProfileForm
from .models import Invitation, Organisation, Role


def _http(exc: ApplicationError) -> Exception:
    """The Django exception for a domain error that ends the request."""
    if isinstance(exc, NotFound):
        return Http404(exc.message)
    if isinstance(exc, PermissionDenied):
        return DjangoPermissionDenied(exc.message)
    return exc


# --- profiles -----------------------------------------------------------------------------


def profile_view(request: HttpRequest, handle: str) -> HttpResponse:
    try:
        profile = selectors.profile_get(handle=handle)
    except NotFound as exc:
        raise _http(exc) from None
    if handle != profile.handle:
        return redirect(profile, permanent=True)
    context = {
        "profile": profile,
        "stats": selectors.profile_stats(profile=profile),
        "items": list(selectors.portfolio_items(owner=profile.user)),
        "organisations": list(selectors.organisations_of_profile(profile=profile)),
        "is_owner": request.user.is_authenticated and request.user.pk == profile.user_id,
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit_view(request: AuthedRequest) -> HttpResponse:
    profile = request.user.profile
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.profile_update(
                    profile=profile,
                    handle=data["handle"],
                    display_name=data["display_name"],
                    headline=data["headline"],
                    bio=data["bio"],
                    location=data["location"],
                    languages=data["languages"],
                    skills=data["skills"],
                    avatar=data["avatar"],
                )
            except ValidationFailed as exc:
                form_errors_apply(form, exc)
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect(profile)
    else:
        form = ProfileForm(initial=ProfileForm.initial_for(profile))
    return render(request, "accounts/profile_edit.html", {"form": form, "profile": profile})


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_create_view(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        form = PortfolioItemForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.portfolio_item_create(
                    owner=request.user,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    images=form.cleaned_data["images"],
                )
            except ValidationFailed as exc:
                form_errors_apply(form, exc)
            else:
                messages.success(request, _("The item is in your portfolio."))
                return HttpResponseRedirect(request.user.profile.get_absolute_url() + "#portfolio")
    else:
        form = PortfolioItemForm()
    return render(request, "accounts/portfolio_form.html", {"form": form})


@login_required
@require_POST
def portfolio_delete_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        services.portfolio_item_delete(item_id=pk, user=request.user)
    except NotFound as exc:
        raise _http(exc) from None
    messages.success(request, _("The item was removed from your portfolio."))
    return HttpResponseRedirect(request.user.profile.get_absolute_url() + "#portfolio")


# --- API tokens ---------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list_view(request: AuthedRequest) -> HttpResponse:
    """The token list and the create form. A new token is shown in this one response only
    (never stored, never redirected through the session)."""
    raw_token = ""
    new_token = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                new_token, raw_token = services.api_token_create(
                    user=request.user, name=form.cleaned_data["name"]
                )
            except ValidationFailed as exc:
                form_errors_apply(form, exc)
            else:
                form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    context = {
        "form": form,
        "tokens": selectors.api_tokens_for_user(user=request.user),
        "raw_token": raw_token,
        "new_token": new_token,
    }
    return render(request, "accounts/token_list.html", context, status=201 if raw_token else 200)


@login_required
@require_POST
def token_revoke_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        token = services.api_token_revoke(user=request.user, token_id=pk)
    except NotFound as exc:
        raise _http(exc) from None
    except Conflict as exc:
        messages.info(request, exc.message)
    else:
        message = _("The token “%(name)s” is revoked; it no longer works.")
        messages.success(request, message % {"name": token.name})
    return redirect("accounts:token_list")


# --- organisations ------------------------------------------------------------------------


@login_required
def org_list_view(request: AuthedRequest) -> HttpResponse:
    memberships = selectors.organisations_for_user(user=request.user)
    return render(request, "accounts/org_list.html", {"memberships": memberships})


@login_required
@require_http_methods(["GET", "POST"])
def org_create_view(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        form = OrganisationForm(request.POST)
        if form.is_valid():
            try:
                organisation = services.organisation_create(user=request.user, **form.cleaned_data)
            except ValidationFailed as exc:
                form_errors_apply(form, exc)
            else:
                messages.success(
                    request,
                    _("%(org)s is created; you are its owner. Invite your colleagues below.")
                    % {"org": organisation.name},
                )
                return redirect(organisation)
    else:
        form = OrganisationForm()
    return render(request, "accounts/org_form.html", {"form": form})


def _org_detail(
    request: HttpRequest,
    organisation: Organisation,
    *,
    invite_form: InviteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    membership = selectors.membership_get(organisation=organisation, user=request.user)
    is_admin = membership is not None and membership.role in {Role.OWNER, Role.ADMIN}
    context: dict[str, Any] = {
        "organisation": organisation,
        "membership": membership,
        "is_admin": is_admin,
        "member_count": selectors.organisation_member_count(organisation=organisation),
    }
    if membership is not None:
        context["members"] = selectors.organisation_members(organisation=organisation)
    if is_admin:
        context["invitations"] = selectors.invitations_open(organisation=organisation)
        is_owner = membership is not None and membership.role == Role.OWNER
        context["invite_form"] = invite_form or InviteForm(allow_owner=is_owner)
        context["is_owner"] = is_owner
    return render(request, "accounts/org_detail.html", context, status=status)


def org_detail_view(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        organisation = selectors.organisation_get_public(slug=slug)
    except NotFound as exc:
        raise _http(exc) from None
    return _org_detail(request, organisation)


@login_required
@require_http_methods(["GET", "POST"])
def org_invite_view(request: AuthedRequest, slug: str) -> HttpResponse:
    try:
        organisation, _membership = selectors.organisation_for_member(slug=slug, user=request.user)
        membership = services.organisation_require_admin(
            organisation=organisation, user=request.user
        )
    except (NotFound, PermissionDenied) as exc:
        raise _http(exc) from None
    if request.method == "GET":
        return redirect(organisation.get_absolute_url() + "#invite")
    form = InviteForm(request.POST, allow_owner=membership.role == Role.OWNER)
    if form.is_valid():
        try:
            invitation, _token = services.organisation_invite(
                organisation=organisation,
                inviter=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except (NotFound, PermissionDenied) as exc:
            raise _http(exc) from None
        except ValidationFailed as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": invitation.email},
            )
            return redirect(organisation.get_absolute_url() + "#invitations")
    return _org_detail(request, organisation, invite_form=form, status=200)


@login_required
@require_POST
def member_remove_view(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    try:
        organisation, _membership = selectors.organisation_for_member(slug=slug, user=request.user)
        services.membership_remove(organisation=organisation, actor=request.user, member_id=pk)
    except (NotFound, PermissionDenied) as exc:
        raise _http(exc) from None
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The member was removed."))
    return redirect(organisation.get_absolute_url() + "#members")


@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: AuthedRequest, token: str) -> HttpResponse:
    try:
        invitation = selectors.invitation_get(token=token)
    except NotFound as exc:
        raise _http(exc) from None
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except NotFound as exc:
            raise _http(exc) from None
        except (PermissionDenied, Conflict) as exc:
            return _invitation_page(request, invitation, error=exc.message, status=exc.status)
        messages.success(
            request,
            _("Welcome to %(org)s: you joined as %(role)s.")
            % {"org": membership.organisation.name, "role": membership.get_role_display()},
        )
        return redirect(membership.organisation)
    return _invitation_page(request, invitation)


def _invitation_page(
    request: AuthedRequest, invitation: Invitation, *, error: str = "", status: int = 200
) -> HttpResponse:
    """What the invitation offers, and why it cannot be accepted if it cannot."""
    problem = error
    if not problem:
        try:
            services.invitation_check(invitation=invitation, user=request.user)
        except (PermissionDenied, Conflict) as exc:
            problem = exc.message
    context = {"invitation": invitation, "problem": problem}
    return render(request, "accounts/invitation_accept.html", context, status=status)


ROLE_LABELS = {
    "client": pgettext_lazy("demo role", "Client"),
    "organisation owner": pgettext_lazy("demo role", "Organisation owner"),
    "crowd member who won": pgettext_lazy("demo role", "Crowd member who won"),
    "worker": pgettext_lazy("demo role", "Microtask worker"),
    "staff": pgettext_lazy("demo role", "Staff"),
    "crowd member": pgettext_lazy("demo role", "Crowd member"),
}


def demo_accounts_view(request: HttpRequest) -> HttpResponse:
    """Every demo account and what logging in as it shows; not found without demo data."""
    from .demo import PASSWORD
    from .demo.showcase import demo_accounts, lead_logins

    accounts = demo_accounts()
    if not accounts:
        raise Http404
    rows = [
        {
            "account": account,
            "roles": [ROLE_LABELS.get(role, role) for role in account.roles],
        }
        for account in accounts
    ]
    leads = [{"role": ROLE_LABELS.get(row.role, row.role), "show": row} for row in lead_logins()]
    return render(
        request,
        "accounts/demo_accounts.html",
        {"rows": rows, "leads": leads, "password": PASSWORD},
    )
