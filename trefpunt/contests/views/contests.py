"""Contest pages: the list and the contest, the brief (draft, reference files, invitations),
publishing, cancelling, closing entries, and the two dashboards. What the viewer may do
comes from ``selectors.ContestAccess``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.forms import filters_for_phone, form_errors_apply
from trefpunt.core.pagination import BoundedPaginator
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error, not_found_as_404, post_action

from .. import rules, selectors, services
from ..forms import (
    AttachmentForm,
    ContestFilterForm,
    ContestForm,
    EntryForm,
    InviteForm,
    NdaForm,
)
from ..fragments import entry_tiles_render, form_key, fragments_render, listing_render
from ..models import Contest, ContestAttachment, Entry, Handover
from ..templatetags.contest_tags import time_left
from .common import DASHBOARD_PAGE_SIZE, DETAIL_ENTRIES, LIST_PAGE_SIZE, file_response

# --- list, detail ---------------------------------------------------------------------------


@require_GET
def contest_list_view(request: HttpRequest) -> HttpResponse:
    form = ContestFilterForm(request.GET or None)
    # A wrong value in one filter (shown next to it) must not drop the others.
    data: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
    filters = selectors.ContestFilters(
        category=data.get("category") or "",
        status=data.get("status") or "",
        prize_min=data["prize_min"] * 100 if data.get("prize_min") is not None else None,
        prize_max=data["prize_max"] * 100 if data.get("prize_max") is not None else None,
        ends_soon=bool(data.get("ends_soon")),
        q=(data.get("q") or "").strip(),
    )

    def results() -> dict[str, Any]:
        page = selectors.PublicListPaginator(filters, LIST_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return {"page": page}

    phone_form, active = filters_for_phone(form, request)
    # The two filter forms' HTML depends on these values only (and the language): rendered
    # once and cached, it is nearly half of the page's work otherwise.
    filter_key = form_key(request, form)
    return render(
        request,
        "contests/list.html",
        {
            "form": form,
            "phone_form": phone_form,
            "active_filters": active,
            "results": listing_render(
                request, "contest-list", "contests/list.html#results", results
            ),
            "filter_key": filter_key,
        },
    )


# What a tile of the contest page shows besides its files (``fragments.entry_tiles_render``
# keys the tiles by these), and whose entry it is.
ENTRY_TILE_VALUES = (
    "pk",
    "number",
    "title",
    "status",
    "entrant__profile__handle",
    "current_version_id",
    "entrant_id",
)


def _detail_entries(access: selectors.ContestAccess) -> tuple[list[Any], Callable[..., Any]]:
    """The first entries the contest page shows as plain rows (``ENTRY_TILE_VALUES``):
    winners first once the contest is decided, then in order of submission. Two
    index-served reads (by status, by number) instead of one order on a CASE expression,
    which sorts every entry of the contest. With them, what loads the entries of some of
    these rows (among those the viewer may see), for tiles not in the cache."""
    entries = selectors.entry_list_for_viewer(access=access).prefetch_related(None)
    rows = entries.select_related(None).values_list(*ENTRY_TILE_VALUES, named=True)
    winners: list[Any] = []
    if access.contest.status in rules.DECIDED:
        winners = list(rows.filter(status=Entry.Status.WINNER)[:DETAIL_ENTRIES])
    others = rows.exclude(status=Entry.Status.WINNER)[: DETAIL_ENTRIES - len(winners)]

    def load(shown: list[Any]) -> list[Entry]:
        # The tiles need neither the contest (known) nor the descriptions.
        loaded = {
            e.pk: e
            for e in entries.select_related(None)
            .select_related("entrant__profile", "current_version")
            .defer("description")
            .filter(pk__in=[r.pk for r in shown])
        }
        selectors.entries_contest_set(loaded.values(), access.contest)
        return [loaded[r.pk] for r in shown]

    return winners + list(others), load


def detail_context(access: selectors.ContestAccess) -> dict[str, Any]:
    contest = access.contest
    user = access.user
    entries, load = _detail_entries(access) if access.can_read_brief else ([], list)
    counts = dict(contest.entries.values_list("status").annotate(n=Count("pk")).order_by())
    entry_total = sum(n for status, n in counts.items() if status != Entry.Status.WITHDRAWN)
    mine = [e for e in entries if user is not None and e.entrant_id == user.pk]
    return {
        "others_shown": len(mine) < len(entries),
        "contest": contest,
        "access": access,
        "prizes": list(contest.prizes.all()),
        "prize_total": sum(p.amount for p in contest.prizes.all()),
        "attachments": list(contest.attachments.all()) if access.can_read_brief else [],
        "nda_form": NdaForm(),
        "entries": entries,
        "entry_grid": entry_tiles_render(entries, load),
        "my_entry_grid": entry_tiles_render(mine, load),
        "entries_more": entry_total > len(entries) and access.sees_all_entries,
        "entry_total": entry_total,
        "finalist_count": counts.get(Entry.Status.FINALIST, 0),
        "my_entries": mine,
        "handovers": (
            list(Handover.objects.filter(contest=contest).select_related("entry"))
            if access.can_manage and contest.status in rules.DECIDED
            else []
        ),
    }


@require_GET
@not_found_as_404
def contest_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.contest_get_for_user(contest_id=pk, user=request.user)
    context = detail_context(access)
    context["entry_form"] = EntryForm()
    return render(request, "contests/detail.html", context)


@require_GET
def contest_invitation_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Where an invitation's link leads. Someone not logged in is sent to log in (or sign
    up, with the invited address) and comes back here; then on to the contest, whose NDA
    they accept first. Not logged in, every number redirects alike, so the link says
    nothing about which contests exist."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        services.contest_invitation_claim(contest_id=pk, user=request.user)
    except NotFound:
        raise Http404 from None
    return redirect("contests:detail", pk=pk)


@login_required
@require_POST
@not_found_as_404
def contest_nda_accept_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.contest_get_for_user(contest_id=pk, user=request.user)
    form = NdaForm(request.POST)
    if not form.is_valid():
        context = detail_context(access)
        context.update(entry_form=EntryForm(), nda_form=form)
        return render(request, "contests/detail.html", context, status=422)
    try:
        services.contest_nda_accept(contest_id=pk, user=request.user)
    except ApplicationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("You accepted the NDA. The brief is yours to read."))
    return redirect("contests:detail", pk=pk)


# --- drafts ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contest_create_view(request: AuthedRequest) -> HttpResponse:
    organisations = list(organisations_user_can_post_for(user=request.user))
    form = ContestForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            contest = services.contest_create_draft(user=request.user, **form.service_fields())
        except ValidationFailed as exc:
            _draft_errors_apply(form, exc)
        else:
            messages.success(
                request, _("Draft saved. Check the brief, then publish to open it for entries.")
            )
            return redirect("contests:detail", pk=contest.pk)
    elif request.method == "POST":
        _draft_errors_complete(form, request.user)
    return render(
        request,
        "contests/form.html",
        {"form": form, "contest": None},
        status=422 if form.errors else 200,
    )


def _draft_errors_apply(form: ContestForm, exc: ValidationFailed) -> None:
    form.service_errors_add(exc)
    if not form.errors:
        form.add_error(None, exc.message)


def _draft_errors_complete(form: ContestForm, user: Any) -> None:
    """The form could not parse some fields: let the service judge the others now, so the
    client sees every problem at once instead of one round at a time."""
    try:
        services.contest_draft_check(user=user, **form.service_fields())
    except ValidationFailed as exc:
        form.service_errors_add(exc)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def contest_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The draft's brief, reference files and invitations; once open, only the reference
    files and the invitations (a private contest can invite more people while it is open)."""
    access = selectors.contest_access_for_manager(contest_id=pk, user=request.user)
    if not access.can_change_files:
        messages.error(request, _("Only a draft can be edited."))
        return redirect("contests:detail", pk=pk)
    if not access.can_edit:
        if request.method == "POST":
            messages.error(request, _("The brief can no longer change: the contest is open."))
        return _edit_page(request, access)
    organisations = list(organisations_user_can_post_for(user=request.user))
    form = ContestForm(
        request.POST or None,
        organisations=organisations,
        initial=ContestForm.initial_for(access.contest),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.contest_update_draft(contest_id=pk, user=request.user, **form.service_fields())
        except ValidationFailed as exc:
            _draft_errors_apply(form, exc)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("contests:detail", pk=pk)
    elif request.method == "POST":
        _draft_errors_complete(form, request.user)
    return _edit_page(request, access, form=form)


def _edit_page(
    request: AuthedRequest,
    access: selectors.ContestAccess,
    *,
    form: ContestForm | None = None,
    attachment_form: AttachmentForm | None = None,
    invite_form: InviteForm | None = None,
) -> HttpResponse:
    contest = access.contest
    failed = any(f is not None and f.errors for f in (form, attachment_form, invite_form))
    return render(
        request,
        "contests/form.html",
        {
            "form": form,
            "contest": contest,
            "access": access,
            "attachments": list(contest.attachments.all()),
            "attachment_form": attachment_form or AttachmentForm(),
            "invite_form": invite_form or InviteForm(),
            "invitations": list(contest.invitations.select_related("user__profile")),
        },
        status=422 if failed else 200,
    )


@login_required
@require_POST
@not_found_as_404
def attachment_add_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.contest_access_for_manager(contest_id=pk, user=request.user)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.contest_attachment_add(
                contest_id=pk, user=request.user, upload=form.cleaned_data["file"]
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Reference file added."))
            return redirect(reverse("contests:edit", kwargs={"pk": pk}) + "#files")
    return _edit_page(request, access, attachment_form=form)


@login_required
@require_POST
@not_found_as_404
def attachment_remove_view(request: AuthedRequest, pk: int, aid: int) -> HttpResponse:
    try:
        services.contest_attachment_remove(contest_id=pk, user=request.user, attachment_id=aid)
        messages.success(request, _("Reference file removed."))
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    return redirect(reverse("contests:edit", kwargs={"pk": pk}) + "#files")


@require_GET
@not_found_as_404
def attachment_download_view(request: HttpRequest, pk: int, aid: int) -> HttpResponseBase:
    access = selectors.contest_get_for_user(contest_id=pk, user=request.user)
    if not access.can_read_brief:
        raise Http404
    attachment = ContestAttachment.objects.filter(contest=access.contest, pk=aid).first()
    if attachment is None:
        raise Http404
    return file_response(attachment.file, attachment.original_name, as_attachment=True)


@login_required
@require_POST
@not_found_as_404
def contest_invite_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.contest_access_for_manager(contest_id=pk, user=request.user)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.contest_invite(
                contest_id=pk, user=request.user, who=form.cleaned_data["who"]
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is invited.")
                % {
                    "name": invitation.user.profile.display_name
                    if invitation.user
                    else invitation.email
                },
            )
            return redirect(reverse("contests:edit", kwargs={"pk": pk}) + "#invitations")
    return _edit_page(request, access, invite_form=form)


# --- publish, cancel, close -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def contest_publish_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The funding summary; publishes, or starts a deposit of exactly the shortfall and comes
    back here after the payment."""
    access = selectors.contest_access_for_manager(contest_id=pk, user=request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "deposit":
                deposit = services.contest_deposit_shortfall(
                    contest_id=pk, user=request.user, return_path=request.path
                )
                return redirect(deposit.checkout_url)
            services.contest_publish(contest_id=pk, user=request.user)
        except ApplicationError as exc:
            if isinstance(exc, NotFound):
                raise
            flash_error(request, exc)
            return redirect("contests:publish", pk=pk)
        messages.success(request, _("Published. Your contest is open for entries."))
        return redirect("contests:detail", pk=pk)
    if not access.can_publish:
        return redirect("contests:detail", pk=pk)
    contest = access.contest
    return render(
        request,
        "contests/publish.html",
        {
            "contest": contest,
            "funding": selectors.contest_funding(contest=contest),
            "prizes": list(contest.prizes.all()),
        },
    )


def _simple_action(
    request: AuthedRequest, pk: int, action: Callable[[], Any], success: str
) -> HttpResponseRedirect:
    return post_action(request, action, success, reverse("contests:detail", kwargs={"pk": pk}))


@login_required
@require_POST
def contest_cancel_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        pk,
        lambda: services.contest_cancel(contest_id=pk, user=request.user),
        _("The contest is cancelled; the money in escrow is back in the wallet."),
    )


@login_required
@require_POST
def contest_close_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        pk,
        lambda: services.contest_close_entries(contest_id=pk, user=request.user),
        _("Entries are closed. Time to judge."),
    )


# --- dashboards --------------------------------------------------------------------------------


# A client's dashboard row shows ``selectors.CLIENT_ROW_VALUES`` (``_client_row_parts``);
# contests are made (with ``DASHBOARD_CLIENT_FIELDS``) only for rows not in the cache.
DASHBOARD_CLIENT_FIELDS = (
    "id",
    "title",
    "organisation__name",
    "status",
    "prize_total",
    "currency",
    "entry_deadline",
    "judging_ends_at",
    "created_at",
)


def _client_row_parts(r: Any, figures: tuple[int, int, int]) -> tuple[Any, ...]:
    """Everything a row of ``dashboard_client.html`` shows (its cache key), from a row of
    ``selectors.CLIENT_ROW_VALUES`` and its ``selectors.client_dashboard_figures``."""
    return (
        r.pk,
        r.title,
        r.organisation__name,
        r.status,
        r.prize_total,
        r.currency,
        *figures,
        r.handover_waiting,
        time_left(r.entry_deadline) if r.status == Contest.Status.OPEN else None,
        time_left(r.judging_ends_at) if r.status == Contest.Status.JUDGING else None,
    )


def _entrant_row_parts(r: Any) -> tuple[Any, ...]:
    """Everything a row of ``dashboard_entrant.html`` shows (its cache key), from a row of
    ``selectors.ENTRANT_ROW_VALUES``."""
    return (
        r.pk,
        r.number,
        r.title,
        r.status,
        r.rating,
        r.feedback,
        r.decline_reason,
        r.contest_id,
        r.contest__title,
        r.contest__status,
        time_left(r.contest__entry_deadline) if r.contest__status == Contest.Status.OPEN else None,
        r.contest__judging_ends_at if r.contest__status == Contest.Status.JUDGING else None,
    )


def _rows_html(
    kind: str, template: str, name: str, objects: list[Any], parts: Callable[[Any], Any]
) -> list[SafeString]:
    """A dashboard's rows, each rendered once and then taken from the cache until
    something it shows changes (``fragments``)."""
    row = get_template(template)
    return fragments_render(
        kind, [parts(o) for o in objects], lambda i: row.render({name: objects[i]})
    )


@login_required
@require_GET
def client_dashboard_view(request: AuthedRequest) -> HttpResponse:
    # The rows show the prize total kept on the contest: no prizes to load.
    def contests() -> QuerySet[Contest]:
        return selectors.client_dashboard(user=request.user).prefetch_related(None)

    paginator = selectors.client_dashboard_pages(user=request.user, per_page=DASHBOARD_PAGE_SIZE)
    if paginator is None:
        paginator = BoundedPaginator(
            contests().select_related(None),
            DASHBOARD_PAGE_SIZE,
            rows=contests().values_list(*selectors.CLIENT_ROW_VALUES, named=True),
        )
    page = paginator.get_page(request.GET.get("page"))
    shown = list(page.object_list)
    figures = selectors.client_dashboard_figures([r.pk for r in shown])
    loaded: dict[int, Contest] = {}

    def contests_load(missing: list[int]) -> None:
        # Only the user's own contests (``client_dashboard``), as on the page; only the
        # columns a row shows, not the briefs.
        for c in (
            contests()
            .select_related(None)
            .select_related("organisation")
            .only(*DASHBOARD_CLIENT_FIELDS)
            .filter(pk__in=[shown[i].pk for i in missing])
        ):
            c.entry_count, c.unrated_count, c.flagged_count = figures[c.pk]  # type: ignore[attr-defined]
            loaded[c.pk] = c

    row = get_template("contests/dashboard_client.html#row")
    rows = fragments_render(
        "client-row",
        [_client_row_parts(r, figures[r.pk]) for r in shown],
        lambda i: row.render({"c": loaded[shown[i].pk]}),
        contests_load,
    )
    return render(
        request,
        "contests/dashboard_client.html",
        {"contests": page, "page": page, "rows": rows},
    )


@login_required
@require_GET
def entrant_dashboard_view(request: AuthedRequest) -> HttpResponse:
    entries = selectors.entrant_entries(user=request.user)
    paginator = selectors.entrant_entries_pages(
        user=request.user, per_page=DASHBOARD_PAGE_SIZE
    ) or BoundedPaginator(
        entries,
        DASHBOARD_PAGE_SIZE,
        rows=entries.values_list(*selectors.ENTRANT_ROW_VALUES, named=True),
    )
    page = paginator.get_page(request.GET.get("page"))
    shown = list(page.object_list)
    loaded: dict[int, Entry] = {}

    def entries_load(missing: list[int]) -> None:
        # Only the user's own entries (``entrant_entries``), as on the page.
        loaded.update((e.pk, e) for e in entries.filter(pk__in=[shown[i].pk for i in missing]))

    row = get_template("contests/dashboard_entrant.html#row")
    rows = fragments_render(
        "entrant-row",
        [_entrant_row_parts(r) for r in shown],
        lambda i: row.render({"e": loaded[shown[i].pk]}),
        entries_load,
    )
    return render(
        request,
        "contests/dashboard_entrant.html",
        {"dash": selectors.entrant_dashboard(user=request.user), "page": page, "rows": rows},
    )
