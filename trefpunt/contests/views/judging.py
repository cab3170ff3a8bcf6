"""The client's judging pages: the grid of entry cards (rate, notes, finalists, decline),
the finalist round and the award.

Every action is a plain POST that works without JavaScript and redirects back; judging
actions sent by htmx (``HX-Request``) get the re-rendered entry card
(``contests/judge.html#entry_card``) instead. What each card offers comes from the entry's
``selectors.EntryAccess``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, NotFound, ValidationFailed
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.money import split_bps
from trefpunt.core.pagination import BoundedPaginator
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import next_url, not_found_as_404, redirect_back

from .. import limits, selectors, services
from ..forms import FinalistRoundForm, JudgeFilterForm
from ..fragments import CSRF_PLACEHOLDER, csrf_fill, form_key, fragments_render
from ..models import Entry
from .common import JUDGE_PAGE_SIZE, htmx


def _judge_filters(form: JudgeFilterForm) -> selectors.EntryFilters:
    if not form.is_valid():
        return selectors.EntryFilters()
    show = form.cleaned_data.get("show") or ""
    return selectors.EntryFilters(
        unrated=show == "unrated",
        finalists=show == "finalists",
        flagged=show == "flagged",
        status=Entry.Status.DECLINED if show == "declined" else "",
        rated_min=form.cleaned_data.get("rated_min"),
    )


@login_required
@require_GET
@not_found_as_404
def judge_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _judge_page(request, pk)


def _judge_page(
    request: AuthedRequest, pk: int, finalist_round_form: FinalistRoundForm | None = None
) -> HttpResponse:
    """The judging grid; with a finalist round form that failed, its errors show next to its
    field (422)."""
    try:
        # The page shows no prizes.
        access = selectors.contest_access_for_manager(
            contest_id=pk, user=request.user, prizes=False
        )
    except NotFound:
        raise Http404 from None
    form = JudgeFilterForm(request.GET or None)
    filters = _judge_filters(form)
    # The files are loaded only for cards not in the cache (``_cards_html``); the contest is
    # known (not read again with every entry).
    paginator = selectors.entry_pages_for_manager(
        access=access, filters=filters, per_page=JUDGE_PAGE_SIZE
    )
    if paginator is None:
        entries = selectors.entry_list_for_viewer(access=access, filters=filters)
        entries = selectors.entries_without_contest(entries.prefetch_related(None))
        paginator = BoundedPaginator(entries, JUDGE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    selectors.entries_contest_set(page.object_list, access.contest)
    if filters == selectors.EntryFilters() and not access.is_staff and not paginator.capped:
        # Unfiltered, the grid counts what ``access.entry_count`` counts (every entry not
        # withdrawn): the contest's count is known, not read a second time.
        access.contest.entry_count = paginator.count  # type: ignore[attr-defined]
    next_path = request.get_full_path()
    cards = selectors.entry_access_many(access, page.object_list)
    return render(
        request,
        "contests/judge.html",
        {
            "contest": access.contest,
            "access": access,
            "form": form,
            "filter_key": form_key(request, form),
            "page": page,
            "cards": csrf_fill(request, _cards_html(cards, next_path)),
            "finalist_round_form": finalist_round_form or FinalistRoundForm(),
            "next": reverse("contests:judge", kwargs={"pk": pk})
            if finalist_round_form is not None
            else request.get_full_path(),
        },
        status=422 if finalist_round_form is not None and finalist_round_form.errors else 200,
    )


def _card_parts(card: selectors.EntryAccess, next_path: str) -> tuple[Any, ...]:
    """Everything ``judge.html#entry_card`` shows of a card (its cache key): a field the
    card starts to show must be added here."""
    entry = card.entry
    version = entry.current_version
    return (
        entry.pk,
        entry.status,
        entry.title,
        entry.number,
        entry.entrant.profile.handle,
        entry.is_flagged,
        # A version's files never change: its id stands for them.
        entry.current_version_id,
        version.number if version is not None else None,
        entry.rating,
        entry.feedback,
        entry.private_note,
        entry.decline_code,
        entry.decline_reason,
        entry.decline_review,
        card.can_judge,
        card.can_make_finalist,
        card.can_unmark_finalist,
        next_path,
    )


def _cards_html(cards: list[selectors.EntryAccess], next_path: str) -> list[SafeString]:
    """The grid's cards, each rendered once and then taken from the cache until something
    it shows changes (``fragments``); a card costs about 1.5 ms of template work."""
    template = get_template("contests/judge.html#entry_card")

    def render_card(i: int) -> str:
        context = {
            "card": cards[i],
            "entry": cards[i].entry,
            "next": next_path,
            "csrf_token": CSRF_PLACEHOLDER,
        }
        return template.render(context)

    def files_load(missing: list[int]) -> None:
        prefetch_related_objects(
            [cards[i].entry for i in missing], selectors.entry_files_prefetch()
        )

    parts = [_card_parts(c, next_path) for c in cards]
    return fragments_render("judge-card", parts, render_card, files_load)


@login_required
@require_POST
def finalist_round_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = FinalistRoundForm(request.POST)
    if form.is_valid():
        try:
            services.contest_finalist_round_open(
                contest_id=pk, user=request.user, deadline=form.cleaned_data["deadline"]
            )
        except NotFound:
            raise Http404 from None
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Finalist round started; the finalists were told."))
            return redirect_back(request, reverse("contests:judge", kwargs={"pk": pk}))
    return _judge_page(request, pk, finalist_round_form=form)


_JUDGE_FIELDS = ("note", "feedback", "reason", "reason_code")


def _entry_card(
    request: AuthedRequest,
    entry_id: int,
    *,
    error: str = "",
    errors: dict[str, list[str]] | None = None,
    open_form: str = "",
    full_page: bool = False,
) -> HttpResponse:
    """The judging card of one entry, with the errors of the action just tried next to its
    fields and the text the client typed kept. ``full_page`` wraps it in a page (a plain
    POST that failed: without JavaScript there is no card to swap)."""
    try:
        access = selectors.entry_get_for_user(entry_id=entry_id, user=request.user)
        entry = selectors.entry_list_for_viewer(access=access.contest).get(pk=entry_id)
    except (NotFound, Entry.DoesNotExist):
        # Withdrawn while the grid was open: managers no longer see it.
        gone = Entry.objects.select_related("contest").filter(pk=entry_id).first()
        if gone is None or not selectors.contest_can_manage(gone.contest, request.user):
            raise Http404 from None
        return render(request, "contests/judge.html#entry_gone", {"entry_id": entry_id})
    card = selectors.entry_access_many(access.contest, [entry])[0]
    values = {name: request.POST[name] for name in _JUDGE_FIELDS if name in request.POST}
    context = {
        "card": card,
        "entry": entry,
        "contest": access.contest.contest,
        "next": next_url(request),
        "card_error": error,
        "errors": errors or {},
        "values": values if (error or errors) else {},
        "open_form": open_form,
    }
    if full_page:
        return render(request, "contests/judge_entry.html", context, status=422)
    return render(request, "contests/judge.html#entry_card", context)


def _judge_action(
    request: AuthedRequest,
    pk: int,
    action: Callable[[], Any],
    form: str = "",
    success: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """Run a judging action; answer htmx with the card, a plain POST with a redirect back to
    the card (and a message saying what happened), or, when a field was wrong, with a page
    showing the card and the error next to the field."""
    error = ""
    errors: dict[str, list[str]] = {}
    result: Any = None
    try:
        result = action()
    except NotFound:
        raise Http404 from None
    except ValidationFailed as exc:
        errors = dict(exc.fields)
        if not errors:
            error = exc.message
    except ApplicationError as exc:
        error = exc.message
    if htmx(request):
        return _entry_card(
            request, pk, error=error, errors=errors, open_form=form if errors else ""
        )
    if errors:
        return _entry_card(request, pk, errors=errors, open_form=form, full_page=True)
    if error:
        messages.error(request, error)
    elif success is not None:
        messages.success(request, success(result))
    contest_id = Entry.objects.filter(pk=pk).values_list("contest_id", flat=True).first()
    back = redirect_back(request, reverse("contests:judge", kwargs={"pk": contest_id or 0}))
    back["Location"] += f"#entry-{pk}"
    return back


def _rating_changes(post: Any) -> dict[str, Any]:
    """The rating form's fields as ``entry_rate`` arguments (only those sent change)."""
    changes: dict[str, Any] = {}
    if "rating" in post:
        raw = post["rating"].strip()
        if raw in {"", "0", "clear"}:
            changes["rating"] = None
        else:
            try:
                changes["rating"] = int(raw)
            except ValueError:
                raise ValidationFailed(
                    fields={
                        "rating": _("Rate from %(min)d to %(max)d stars.")
                        % {"min": limits.RATING_MIN, "max": limits.RATING_MAX}
                    }
                ) from None
    for name in ("note", "feedback"):
        if name in post:
            changes[name] = post[name]
    return changes


@login_required
@require_POST
def entry_rate_view(request: AuthedRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _judge_action(
        request,
        pk,
        lambda: services.entry_rate(entry_id=pk, user=request.user, **_rating_changes(post)),
        form="notes" if "rating" not in post else "",
        success=lambda entry: _("Entry #%(n)d saved.") % {"n": entry.number},
    )


@login_required
@require_POST
def entry_finalist_view(request: AuthedRequest, pk: int) -> HttpResponse:
    finalist = request.POST.get("finalist", "1") not in {"0", "false", ""}
    return _judge_action(
        request,
        pk,
        lambda: services.entry_finalist_set(entry_id=pk, user=request.user, finalist=finalist),
        success=lambda entry: (
            (
                _("Entry #%(n)d is a finalist.")
                if finalist
                else _("Entry #%(n)d is no longer a finalist.")
            )
            % {"n": entry.number}
        ),
    )


@login_required
@require_POST
def entry_decline_view(request: AuthedRequest, pk: int) -> HttpResponse:
    return _judge_action(
        request,
        pk,
        lambda: services.entry_decline(
            entry_id=pk,
            user=request.user,
            reason=request.POST.get("reason", ""),
            reason_code=request.POST.get("reason_code", Entry.DeclineCode.FIT),
        ),
        form="decline",
        success=lambda entry: (
            _("Entry #%(n)d declined; the entrant is told your reason.") % {"n": entry.number}
        ),
    )


def _award_choices(data: Any, prizes: list[Any]) -> dict[int, int]:
    chosen: dict[int, int] = {}
    for prize in prizes:
        raw = data.get(f"prize_{prize.position}", "")
        if raw.isdigit():
            chosen[prize.position] = int(raw)
    return chosen


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def contest_award_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.contest_access_for_manager(contest_id=pk, user=request.user)
    contest = access.contest
    prizes = list(contest.prizes.all())
    candidates = list(
        selectors.entry_list_for_viewer(access=access).filter(status__in=selectors.ACTIVE_ENTRY)
    )
    candidates.sort(key=lambda e: (-(e.rating or 0), e.status != Entry.Status.FINALIST, e.number))
    errors: dict[str, list[str]] = {}
    # "Back, change the winners" on the confirm step comes back with the choice to keep.
    chosen: dict[int, int] = _award_choices(request.GET, prizes)
    if request.method == "POST":
        chosen = _award_choices(request.POST, prizes)
        try:
            # Two steps, without JavaScript too: the choice first shows who gets what;
            # only the confirming form (confirm=yes) pays.
            if request.POST.get("confirm") != "yes":
                plan = services.contest_award_plan(contest_id=pk, user=request.user, awards=chosen)
                return render(
                    request,
                    "contests/award_confirm.html",
                    {"contest": contest, "plan": plan, "chosen": sorted(chosen.items())},
                )
            services.contest_award(contest_id=pk, user=request.user, awards=chosen)
        except ValidationFailed as exc:
            errors = exc.fields or {"__all__": [exc.message]}
        except ApplicationError as exc:
            if isinstance(exc, NotFound):
                raise
            errors = {"__all__": [exc.message]}
        else:
            messages.success(
                request, _("Prizes awarded and paid. The winners can now hand over the files.")
            )
            return redirect("contests:detail", pk=pk)
    return render(
        request,
        "contests/award.html",
        {
            "contest": contest,
            "access": access,
            "prizes": [
                {
                    "prize": p,
                    "net": p.amount - split_bps(p.amount, contest.crowd_fee_bps),
                    "field": f"prize_{p.position}",
                    "chosen": chosen.get(p.position),
                    "errors": errors.get(f"prize_{p.position}", []),
                }
                for p in prizes
            ],
            "candidates": candidates,
            "finalist_count": sum(1 for e in candidates if e.status == Entry.Status.FINALIST),
            "prizes_left_over": len(prizes) > len(candidates),
            "errors": errors.get("__all__", []) + errors.get("awards", []),
        },
        status=422 if errors else 200,
    )
