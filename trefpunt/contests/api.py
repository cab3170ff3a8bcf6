"""Contests API under /api/v1/: thin endpoints over the services and selectors.

Wrong state → 409 with a message; objects the caller may not see (someone
else's draft, a private contest they are not invited to, another entrant's
entry in a blind contest) → 404. ``publish``, ``award`` and ``cancel`` move
money and honour ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Status, UploadedFile

from trefpunt.accounts.models import Organisation
from trefpunt.accounts.schemas import person_out
from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.api_schema import PAGE_MAX, InSchema
from trefpunt.core.exceptions import NotFound, ValidationFailed
from trefpunt.core.idempotency import idempotency_key_for
from trefpunt.core.pagination import BoundedPaginator
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import absolute_url

from . import limits, selectors, services
from .fragments import listing_cached_many
from .models import Contest, EntryFile, EntryVersion
from .schemas import (
    AwardIn,
    ContestIn,
    ContestOut,
    ContestPage,
    ContestPatch,
    DeclineIn,
    EntryOut,
    EntryPage,
    FinalistIn,
    FlagOut,
    RatingIn,
    ReportIn,
    VersionOut,
)

router = Router(tags=["contests"])
PAGE_SIZE = 20
PAGE_SIZE_MAX = 100


def _contest_can(access: selectors.ContestAccess) -> dict[str, bool]:
    return {
        "edit": access.can_edit,
        "publish": access.can_publish,
        "cancel": access.can_cancel,
        "close_entries": access.can_close_early,
        "invite": access.can_invite,
        "judge": access.can_judge,
        "award": access.can_award,
        "enter": access.can_submit,
        "accept_nda": access.can_accept_nda,
    }


def _contest_shared_out(contest: Contest, *, read_brief: bool) -> dict[str, Any]:
    """What every viewer who may see the contest sees of it (``read_brief``: they may read
    the brief; an invitee does once they accepted the NDA); ``_contest_viewer_out`` adds
    the rest."""
    prizes = list(contest.prizes.all())
    poster = person_out(contest.created_by)
    if contest.organisation_id and contest.organisation:
        poster = {"handle": "", "display_name": contest.organisation.name}
    return {
        "id": contest.pk,
        "url": absolute_url(contest.get_absolute_url()),
        "title": contest.title,
        "summary": contest.summary if read_brief else "",
        "description": contest.description if read_brief else "",
        "category": contest.category,
        "status": contest.status,
        "posted_by": poster,
        "organisation": contest.organisation.slug if contest.organisation else None,
        "currency": contest.currency,
        "prizes": [
            {"position": p.position, "amount": p.amount, "winner_entry_id": p.winner_id}
            for p in prizes
        ],
        "prize_total": sum(p.amount for p in prizes),
        "finalist_stipend": contest.finalist_stipend,
        "finalists_max": contest.finalists_max,
        "entry_deadline": contest.entry_deadline,
        "judging_days": contest.judging_days,
        "judging_ends_at": contest.judging_ends_at,
        "finalist_deadline": contest.finalist_deadline,
        "visibility": contest.visibility,
        "max_entries_per_entrant": contest.max_entries_per_entrant,
        "is_private": contest.is_private,
        "nda_text": contest.nda_text if contest.is_private else "",
        "published_at": contest.published_at,
        "awarded_at": contest.awarded_at,
        "award_method": contest.award_method,
    }


def _contest_viewer_out(access: selectors.ContestAccess) -> dict[str, Any]:
    """What depends on the viewer (and the live entry count)."""
    manages = access.can_manage
    return {
        "nda_pending": access.nda_pending,
        "entry_count": access.entry_count,
        "funded_amount": access.contest.funded_amount if manages else None,
        "client_fee": access.contest.client_fee if manages else None,
        "can": _contest_can(access),
    }


def _contest_out(access: selectors.ContestAccess) -> dict[str, Any]:
    return {
        **_contest_shared_out(access.contest, read_brief=access.can_read_brief),
        **_contest_viewer_out(access),
    }


def _public_contests_out(user: Any, ids: list[int]) -> list[dict[str, Any]]:
    """The public contests ``ids`` (a page of ``contest_list_public``) as ``user`` sees them.

    What every viewer sees of a public contest (``_contest_shared_out`` as an anonymous
    visitor sees it, the same for anyone who does not manage it: a public contest has no
    NDA) is kept per contest as a listing (``fragments.listing_cached_many``: until the next
    change of a public contest); the entry counts and the viewer's own entries are read live
    in one query, and each viewer's capabilities are asked of ``ContestAccess`` as always.
    Contests the viewer manages are read and shown in full, as ``contest_get_api`` does."""
    authed = selectors.authed_or_none(user)

    def compute(missing: list[int]) -> dict[int, Any]:
        values: dict[int, Any] = {}
        for contest in selectors.contest_list_public_by_ids(missing):
            anonymous = selectors.access_build(contest, None, can_manage=False, is_invited=False)
            if anonymous.can_view:
                values[contest.pk] = (
                    _contest_shared_out(contest, read_brief=anonymous.can_read_brief),
                    selectors.contest_access_fields(contest),
                )
        return values

    shared = listing_cached_many("api-contest", ids, compute)
    ids = [pk for pk in ids if pk in shared]
    lights = {pk: selectors.contest_for_access(shared[pk][1]) for pk in ids}
    counts = selectors.entry_counts(ids, authed)
    managed = selectors.contests_managed_among(lights.values(), authed)
    full = {c.pk: c for c in selectors.contest_list_public_by_ids(list(managed))} if managed else {}
    items = []
    for pk in ids:
        entries, mine = counts.get(pk, (0, 0))
        if pk in managed:
            if pk not in full:
                continue
            contest = full[pk]
            contest.entry_count = entries  # type: ignore[attr-defined]
            access = selectors.access_build(
                contest, authed, can_manage=True, is_invited=False, my_entries=mine
            )
            items.append(_contest_out(access))
            continue
        contest = lights[pk]
        contest.entry_count = entries  # type: ignore[attr-defined]
        access = selectors.access_build(
            contest, authed, can_manage=False, is_invited=False, my_entries=mine
        )
        if access.can_view:
            items.append({**shared[pk][0], **_contest_viewer_out(access)})
    return items


def _file_out(item: EntryFile, *, original: bool) -> dict[str, Any]:
    def url(variant: str) -> str:
        return absolute_url(reverse("contests:file", kwargs={"pk": item.pk, "variant": variant}))

    return {
        "id": item.pk,
        "kind": item.kind,
        "size": item.size,
        "width": item.width,
        "height": item.height,
        "thumb_url": url("thumb") if item.is_image else None,
        "preview_url": url("preview") if item.is_image else None,
        "original_url": url("original") if original else None,
    }


def _entry_can(access: selectors.EntryAccess) -> dict[str, bool]:
    return {
        "withdraw": access.can_withdraw,
        "revise": access.can_revise,
        "report": access.can_report,
        "rate": access.can_rate,
        "decline": access.can_judge,
        "make_finalist": access.can_make_finalist,
        "unmark_finalist": access.can_unmark_finalist,
        "add_to_portfolio": access.can_add_to_portfolio,
        "see_originals": access.can_see_original,
    }


def _entry_out(access: selectors.EntryAccess) -> dict[str, Any]:
    entry = access.entry
    judge = access.contest.sees_all_entries
    insider = access.can_see_original
    version = entry.current_version
    files = list(version.files.all()) if version else []
    return {
        "id": entry.pk,
        "contest_id": entry.contest_id,
        "number": entry.number,
        "url": absolute_url(entry.get_absolute_url()),
        "title": entry.title,
        "description": entry.description,
        "status": entry.status,
        "entrant": person_out(entry.entrant),
        "version": version.number if version else 0,
        "files": [_file_out(f, original=insider) for f in files],
        "created_at": entry.created_at,
        "rating": entry.rating if insider else None,
        "feedback": entry.feedback if insider else None,
        "decline_reason": entry.decline_reason if insider else None,
        "decline_code": entry.decline_code if insider else None,
        "decline_review": entry.decline_review if insider else None,
        "shares_in_guarantee": entry.shares_in_guarantee
        if access.can_see_guarantee_share
        else None,
        "private_note": entry.private_note if judge else None,
        "is_flagged": entry.is_flagged if judge else None,
        "can": _entry_can(access),
    }


def _managed_out(request: HttpRequest, contest_id: int) -> dict[str, Any]:
    """The contest as one of its managers sees it, read again after a change."""
    return _contest_out(
        selectors.contest_access_for_manager(contest_id=contest_id, user=request.user)
    )


def _organisation(user: Any, slug: str | None) -> Organisation | str | None:
    """The organisation to post for. A slug the user may not post for is handed on as it is,
    so the service names it together with every other bad field of the brief."""
    if not slug:
        return None
    organisation = organisations_user_can_post_for(user=user).filter(slug=slug).first()
    return organisation if organisation is not None else slug


class ContestQuery(InSchema):
    category: str = ""
    status: str = ""
    prize_min: int | None = None
    prize_max: int | None = None
    ends_soon: bool = False
    q: str = Field("", max_length=200)
    mine: bool = False
    page: int = Field(1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, le=PAGE_SIZE_MAX)


@router.get("/contests", response=ContestPage, summary="List contests")
def contest_list_api(request: AuthedRequest, filters: Query[ContestQuery]) -> dict[str, Any]:
    """Public contests (never drafts or private ones), with filters; ``mine=true`` lists the
    contests you manage instead, drafts and private ones included."""
    per_page = max(1, min(filters.page_size, PAGE_SIZE_MAX))
    if filters.mine:
        qs = selectors.contest_list_managed(user=request.user)
        if filters.status:
            qs = qs.filter(status=filters.status)
        paginator = BoundedPaginator(qs, per_page)
        page = paginator.get_page(filters.page)
        accesses = selectors.contest_access_many(page.object_list, request.user)
        items = [_contest_out(access) for access in accesses]
    else:
        public = selectors.ContestFilters(
            category=filters.category,
            status=filters.status,
            prize_min=filters.prize_min,
            prize_max=filters.prize_max,
            ends_soon=filters.ends_soon,
            q=filters.q.strip(),
        )
        paginator = selectors.PublicListPaginator(public, per_page)
        page = paginator.get_page_ids(filters.page)
        items = _public_contests_out(request.user, list(page.object_list))
    return {
        "items": items,
        "count": paginator.count,
        "count_capped": paginator.capped,
        "page": page.number,
        "pages": paginator.num_pages,
    }


@router.post("/contests", response={201: ContestOut}, summary="Create a draft contest")
def contest_create_api(request: AuthedRequest, payload: ContestIn) -> Status[dict[str, Any]]:
    data = payload.dict()
    data["organisation"] = _organisation(request.user, data.get("organisation"))
    contest = services.contest_create_draft(user=request.user, **data)
    access = selectors.contest_access_for_manager(contest_id=contest.pk, user=request.user)
    return Status(201, _contest_out(access))


@router.get("/contests/{contest_id}", response=ContestOut, summary="Get a contest")
def contest_get_api(request: AuthedRequest, contest_id: int) -> dict[str, Any]:
    access = selectors.contest_get_for_user(contest_id=contest_id, user=request.user)
    return _contest_out(access)


@router.post(
    "/contests/{contest_id}/nda",
    response=ContestOut,
    summary="Accept the NDA of a private contest you are invited to",
)
def contest_nda_accept_api(request: AuthedRequest, contest_id: int) -> dict[str, Any]:
    services.contest_nda_accept(contest_id=contest_id, user=request.user)
    access = selectors.contest_get_for_user(contest_id=contest_id, user=request.user)
    return _contest_out(access)


@router.patch("/contests/{contest_id}", response=ContestOut, summary="Update a draft")
def contest_update_api(
    request: AuthedRequest, contest_id: int, payload: ContestPatch
) -> dict[str, Any]:
    changes = payload.dict(exclude_unset=True)
    if "organisation" in changes:
        changes["organisation"] = _organisation(request.user, changes["organisation"])
    services.contest_update_draft(contest_id=contest_id, user=request.user, **changes)
    return _managed_out(request, contest_id)


@router.post(
    "/contests/{contest_id}/publish",
    response=ContestOut,
    summary="Publish: move prizes, stipends and fee into escrow",
)
def contest_publish_api(request: AuthedRequest, contest_id: int) -> dict[str, Any]:
    services.contest_publish(
        contest_id=contest_id,
        user=request.user,
        idempotency_key=idempotency_key_for(request, f"contest:{contest_id}:publish"),
    )
    return _managed_out(request, contest_id)


@router.post("/contests/{contest_id}/close-entries", response=ContestOut, summary="Close early")
def contest_close_api(request: AuthedRequest, contest_id: int) -> dict[str, Any]:
    services.contest_close_entries(contest_id=contest_id, user=request.user)
    return _managed_out(request, contest_id)


@router.post("/contests/{contest_id}/award", response=ContestOut, summary="Award the prizes")
def contest_award_api(request: AuthedRequest, contest_id: int, payload: AwardIn) -> dict[str, Any]:
    awards: dict[int, int] = {}
    for item in payload.awards:
        if item.prize in awards:
            raise ValidationFailed(fields={f"prize_{item.prize}": _("Choose one entry per prize.")})
        awards[item.prize] = item.entry
    services.contest_award(
        contest_id=contest_id,
        user=request.user,
        awards=awards,
        idempotency_key=idempotency_key_for(request, f"contest:{contest_id}:award"),
    )
    return _managed_out(request, contest_id)


@router.post("/contests/{contest_id}/cancel", response=ContestOut, summary="Cancel and refund")
def contest_cancel_api(request: AuthedRequest, contest_id: int) -> dict[str, Any]:
    services.contest_cancel(
        contest_id=contest_id,
        user=request.user,
        idempotency_key=idempotency_key_for(request, f"contest:{contest_id}:cancel"),
    )
    return _managed_out(request, contest_id)


class EntryQuery(InSchema):
    unrated: bool = False
    rated_min: int | None = None
    finalists: bool = False
    flagged: bool = False
    mine: bool = False
    page: int = Field(1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, le=PAGE_SIZE_MAX)


@router.get(
    "/contests/{contest_id}/entries",
    response=EntryPage,
    summary="List the entries you may see",
)
def entry_list_api(
    request: AuthedRequest, contest_id: int, filters: Query[EntryQuery]
) -> dict[str, Any]:
    """Managers see every entry (and may filter by rating, finalists, flags); in an open
    contest others see the entries; in a blind one entrants see only their own."""
    access = selectors.contest_get_for_user(contest_id=contest_id, user=request.user, prizes=False)
    entry_filters = selectors.EntryFilters(
        unrated=filters.unrated,
        rated_min=filters.rated_min,
        finalists=filters.finalists,
        flagged=filters.flagged,
        mine=filters.mine,
    )
    per_page = max(1, min(filters.page_size, PAGE_SIZE_MAX))
    statements = selectors.entry_pages_for_manager(
        access=access, filters=entry_filters, per_page=per_page
    )
    if statements is None:
        qs = selectors.entry_list_for_viewer(access=access, filters=entry_filters)
        paginator = BoundedPaginator(selectors.entries_without_contest(qs), per_page)
    else:
        paginator = statements
    page = paginator.get_page(filters.page)
    if statements is not None:
        # The statements read no files (the judging grid loads them only for cards not in
        # the cache); the answer lists them: one query for the page, as the queryset's.
        prefetch_related_objects(list(page.object_list), selectors.entry_files_prefetch())
    selectors.entries_contest_set(page.object_list, access.contest)
    return {
        "items": [_entry_out(e) for e in selectors.entry_access_many(access, page.object_list)],
        "count": paginator.count,
        "count_capped": paginator.capped,
        "page": page.number,
        "pages": paginator.num_pages,
    }


@router.post(
    "/contests/{contest_id}/entries",
    response={201: EntryOut},
    summary="Enter the contest (multipart: title, description, files, originality_declared)",
)
def entry_create_api(
    request: AuthedRequest,
    contest_id: int,
    title: str = Form(..., max_length=limits.ENTRY_TITLE_MAX),
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
    description: str = Form("", max_length=limits.ENTRY_DESCRIPTION_MAX),
    originality_declared: Form[bool] = False,
    nda_accepted: Form[bool] = False,
) -> Status[dict[str, Any]]:
    entry = services.entry_submit(
        contest_id=contest_id,
        user=request.user,
        title=title,
        description=description,
        files=files or [],
        originality_declared=originality_declared,
        nda_accepted=nda_accepted,
    )
    return Status(201, _entry_response(request, entry.pk))


def _entry_response(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    return _entry_out(selectors.entry_get_for_user(entry_id=entry_id, user=request.user))


@router.get("/entries/{entry_id}", response=EntryOut, summary="Get an entry")
def entry_get_api(request: AuthedRequest, entry_id: int) -> dict[str, Any]:
    return _entry_response(request, entry_id)


@router.post("/entries/{entry_id}/rating", response=EntryOut, summary="Rate, note, feedback")
def entry_rate_api(request: AuthedRequest, entry_id: int, payload: RatingIn) -> dict[str, Any]:
    """Only the fields you send change; ``rating: null`` clears the rating."""
    given = payload.dict(exclude_unset=True)
    services.entry_rate(
        entry_id=entry_id,
        user=request.user,
        rating=given.get("rating", services.KEEP),
        note=given["note"] or "" if "note" in given else services.KEEP,
        feedback=given["feedback"] or "" if "feedback" in given else services.KEEP,
    )
    return _entry_response(request, entry_id)


@router.post("/entries/{entry_id}/decline", response=EntryOut, summary="Decline with a reason")
def entry_decline_api(request: AuthedRequest, entry_id: int, payload: DeclineIn) -> dict[str, Any]:
    """The entry can no longer be awarded; the entrant is told the reason. It keeps its share
    if the guarantee splits the prizes, unless ``reason_code`` is ``copied`` or ``rules`` and
    staff uphold the decline."""
    services.entry_decline(
        entry_id=entry_id,
        user=request.user,
        reason=payload.reason,
        reason_code=payload.reason_code,
    )
    return _entry_response(request, entry_id)


@router.post("/entries/{entry_id}/finalist", response=EntryOut, summary="Mark or unmark finalist")
def entry_finalist_api(
    request: AuthedRequest, entry_id: int, payload: FinalistIn
) -> dict[str, Any]:
    services.entry_finalist_set(entry_id=entry_id, user=request.user, finalist=payload.finalist)
    return _entry_response(request, entry_id)


@router.post("/entries/{entry_id}/withdraw", response=EntryOut, summary="Withdraw your entry")
def entry_withdraw_api(request: AuthedRequest, entry_id: int) -> dict[str, Any]:
    services.entry_withdraw(entry_id=entry_id, user=request.user)
    return _entry_response(request, entry_id)


def _version_out(version: EntryVersion, *, original: bool) -> dict[str, Any]:
    return {
        "number": version.number,
        "note": version.note,
        "created_at": version.created_at,
        "files": [_file_out(f, original=original) for f in version.files.all()],
    }


@router.get(
    "/entries/{entry_id}/revisions",
    response=list[VersionOut],
    summary="Every version of an entry (entrant and managers)",
)
def entry_revisions_api(request: AuthedRequest, entry_id: int) -> list[dict[str, Any]]:
    access = selectors.entry_get_for_user(entry_id=entry_id, user=request.user)
    if not access.can_see_original:
        raise NotFound(_("Entry not found."))
    return [_version_out(v, original=True) for v in selectors.entry_versions(entry=access.entry)]


@router.post(
    "/entries/{entry_id}/revisions",
    response={201: VersionOut},
    summary="Submit a revision (multipart: files, note)",
)
def entry_revise_api(
    request: AuthedRequest,
    entry_id: int,
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
    note: str = Form("", max_length=limits.NOTE_MAX),
) -> Status[dict[str, Any]]:
    version = services.entry_revise(
        entry_id=entry_id, user=request.user, files=files or [], note=note
    )
    return Status(201, _version_out(version, original=True))


@router.post("/entries/{entry_id}/report", response={201: FlagOut}, summary="Report as copied")
def entry_report_api(
    request: AuthedRequest, entry_id: int, payload: ReportIn
) -> Status[dict[str, Any]]:
    flag = services.entry_report(entry_id=entry_id, user=request.user, reason=payload.reason)
    return Status(201, {"id": flag.pk, "kind": flag.kind, "created_at": flag.created_at})
