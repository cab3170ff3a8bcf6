"""Reads of contests and entries, scoped to what the asking user may see.

Who sees what:

* A **draft** is seen only by its managers (the poster, or the owners and admins
  of the organisation it is posted for) and staff.
* A **private** contest is seen only by its managers, staff and invited crowd
  members; it never appears in public lists or search, not even for them.
* Everyone else (also without an account) sees every other contest.
* **Entries**: managers and staff see all entries except withdrawn ones;
  entrants always see their own. Others who may see the contest see the
  active, winning and not-selected entries of an *open-visibility* contest; of
  a *blind* contest only the winners, once awarded. Declined and withdrawn
  entries are shown only to their entrant (and staff).
* **Originals** (full-size, clean files, downloads) only to the entrant, the
  managers and staff; everyone else gets the watermarked previews.

A missing object and a forbidden one both raise ``NotFound``.
"""

from __future__ import annotations

import functools
import re
from collections import namedtuple
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from trefpunt.core import pagination
from trefpunt.core.db import (
    instances_from_row,
    joined_columns,
    model_fields,
    prefetched_set,
    prepared_cursor,
    sql_literal,
)
from trefpunt.core.exceptions import NotFound
from trefpunt.core.money import split_bps
from trefpunt.core.pagination import BoundedPaginator
from trefpunt.ledger.funded import funding_quote
from trefpunt.ledger.models import LedgerAccount
from trefpunt.ledger.references import ReferenceLabel

from . import limits, rules

# The viewer's access lives in ``access``; these selectors build it and scope reads by it.
from .access import ContestAccess as ContestAccess
from .access import EntryAccess as EntryAccess
from .access import HandoverAccess as HandoverAccess
from .access import access_build as access_build
from .access import authed_or_none as authed_or_none
from .access import contest_access as contest_access
from .access import contest_access_fields as contest_access_fields
from .access import contest_access_many as contest_access_many
from .access import contest_can_manage as contest_can_manage
from .access import contest_for_access as contest_for_access
from .access import contests_managed_among as contests_managed_among
from .access import entry_access_many as entry_access_many
from .access import managed_organisation_ids as managed_organisation_ids
from .fragments import listing_cached
from .models import (
    Contest,
    ContestInvitation,
    Entry,
    EntryFile,
    EntryFlag,
    EntryVersion,
    Handover,
    Payment,
    Prize,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from trefpunt.accounts.models import User

    AnyUser = User | AnonymousUser | None

PUBLIC_STATUSES = [
    Contest.Status.OPEN,
    Contest.Status.JUDGING,
    Contest.Status.AWARDED,
    Contest.Status.COMPLETED,
]
ACTIVE_ENTRY = sorted(rules.ACTIVE_ENTRY)
SHOWN_ENTRY = [*ACTIVE_ENTRY, Entry.Status.WINNER, Entry.Status.NOT_SELECTED]


def _manager_q(user: User, prefix: str = "") -> Q:
    return Q(**{f"{prefix}created_by": user, f"{prefix}organisation__isnull": True}) | Q(
        **{f"{prefix}organisation_id__in": managed_organisation_ids(user)}
    )


def _contest_base() -> QuerySet[Contest]:
    return Contest.objects.select_related("organisation", "created_by__profile").prefetch_related(
        _prizes_prefetch()
    )


# ``_contest_base`` for one contest, written out (PostgreSQL, prepared): every contest page,
# its judging grid and its entries' API read it on each request, and compiling the ORM's
# four-table select cost about three times what running it did.
_CONTEST_READ = (
    "SELECT {columns} FROM {contest} c"
    " LEFT JOIN {organisation} o ON o.id = c.organisation_id"
    " INNER JOIN {user} u ON u.id = c.created_by_id"
    " LEFT JOIN {profile} p ON p.user_id = u.id"
    " WHERE c.id = %s"
)


def _contest_read_parts() -> list[tuple[str, type[Any], tuple[Any, ...]]]:
    from trefpunt.accounts.models import Organisation, Profile, User

    return [
        ("c", Contest, model_fields(Contest)),
        ("o", Organisation, model_fields(Organisation)),
        ("u", User, model_fields(User)),
        ("p", Profile, model_fields(Profile)),
    ]


@functools.cache
def _contest_read_query() -> str:
    from trefpunt.accounts.models import Organisation, Profile, User

    quote = connection.ops.quote_name
    return _CONTEST_READ.format(
        columns=joined_columns(_contest_read_parts()),
        contest=quote(Contest._meta.db_table),
        organisation=quote(Organisation._meta.db_table),
        user=quote(User._meta.db_table),
        profile=quote(Profile._meta.db_table),
    )


def _poster_profile_set(user: Any, profile: Any) -> None:
    """A user's profile (or none) cached on it as ``select_related`` leaves it: a missing
    profile is known missing (no query)."""
    type(user).profile.related.set_cached_value(user, profile)
    if profile is not None:
        type(profile).user.field.set_cached_value(profile, user)


def _contest_read(contest_id: int, *, prizes: bool) -> Contest | None:
    """The contest with what ``_contest_base`` loads with it (its organisation, its poster
    and the poster's profile; its prizes with their winners unless ``prizes`` is off), the
    same instances the ORM's query makes; on PostgreSQL in one prepared statement."""
    if connection.vendor != "postgresql":
        qs = _contest_base() if prizes else _contest_base().prefetch_related(None)
        return qs.filter(pk=contest_id).first()
    parts = _contest_read_parts()
    with prepared_cursor() as cursor:
        cursor.execute(_contest_read_query(), [contest_id])
        row = cursor.fetchone()
    if row is None:
        return None
    contest, organisation, poster, profile = instances_from_row(parts, row)
    Contest.organisation.field.set_cached_value(contest, organisation)
    Contest.created_by.field.set_cached_value(contest, poster)
    _poster_profile_set(poster, profile)
    if prizes:
        _prizes_read(contest)
    return contest


# The contest's prizes with their winners, as ``_prizes_prefetch`` loads them, written out.
_PRIZES_READ = (
    "SELECT {columns} FROM {prize} z LEFT JOIN {entry} w ON w.id = z.winner_id"
    " WHERE z.contest_id = %s ORDER BY z.position"
)


def _prizes_read_parts() -> list[tuple[str, type[Any], tuple[Any, ...]]]:
    return [("z", Prize, model_fields(Prize)), ("w", Entry, model_fields(Entry))]


@functools.cache
def _prizes_read_query() -> str:
    quote = connection.ops.quote_name
    return _PRIZES_READ.format(
        columns=joined_columns(_prizes_read_parts()),
        prize=quote(Prize._meta.db_table),
        entry=quote(Entry._meta.db_table),
    )


def _prizes_read(contest: Contest) -> None:
    """``prefetch_related_objects([contest], _prizes_prefetch())`` with a prepared statement:
    the prizes in order, each with its contest and winner (and the winner's prize) cached."""
    with prepared_cursor() as cursor:
        cursor.execute(_prizes_read_query(), [contest.pk])
        rows = cursor.fetchall()
    prizes = []
    for row in rows:
        prize, winner = instances_from_row(_prizes_read_parts(), row)
        Prize.contest.field.set_cached_value(prize, contest)
        Prize.winner.field.set_cached_value(prize, winner)
        if winner is not None:
            Prize.winner.field.remote_field.set_cached_value(winner, prize)
        prizes.append(prize)
    prefetched_set(
        contest, "prizes", contest.prizes.select_related("winner").order_by("position"), prizes
    )


def _prizes_prefetch() -> Prefetch:
    return Prefetch("prizes", queryset=Prize.objects.select_related("winner").order_by("position"))


def contest_get_for_user(*, contest_id: int, user: AnyUser, prizes: bool = True) -> ContestAccess:
    """``prizes=False``: for pages that show none (reading them would load their winners)."""
    contest = _contest_read(contest_id, prizes=prizes)
    if contest is None:
        raise NotFound(_("Contest not found."))
    access = contest_access(contest, user)
    if not access.can_view:
        raise NotFound(_("Contest not found."))
    return access


def contest_get_for_manager(*, contest_id: int, user: AnyUser, prizes: bool = True) -> Contest:
    """``prizes=False``: for pages that show none (reading them would load their winners)."""
    contest = _contest_read(contest_id, prizes=prizes)
    if contest is None or not contest_can_manage(contest, user):
        raise NotFound(_("Contest not found."))
    return contest


def contest_access_for_manager(
    *, contest_id: int, user: AnyUser, prizes: bool = True
) -> ContestAccess:
    """The access of one of the contest's managers (not-found for everyone else)."""
    contest = contest_get_for_manager(contest_id=contest_id, user=user, prizes=prizes)
    return access_build(contest, authed_or_none(user), can_manage=True, is_invited=False)


# --- lists ------------------------------------------------------------------------------


def _with_figures(qs: QuerySet[Contest]) -> QuerySet[Contest]:
    """The entry count as a subquery (the prize total is a column, ``Contest.prize_total``).
    Lists page by ids first (``core.pagination``), so it runs for a page's rows only."""
    entry_count = (
        Entry.objects.filter(contest=OuterRef("pk"))
        .exclude(status__in=[Entry.Status.WITHDRAWN])
        .values("contest")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(
        entry_count=Coalesce(Subquery(entry_count, output_field=IntegerField()), Value(0)),
    )


@dataclass(frozen=True)
class ContestFilters:
    category: str = ""
    status: str = ""
    prize_min: int | None = None  # cents
    prize_max: int | None = None
    ends_soon: bool = False
    q: str = ""


class PublicListPaginator(BoundedPaginator):
    """Pages of ``contest_list_public`` for the list page (whose results are kept as a
    listing, ``fragments.listing_render``) and the API: the capped count and each page's
    ids, the same for everyone with these filters, are kept the same way
    (``fragments.listing_cached``: until the next change of a public contest), so a page is
    never cut by a count older than its listing."""

    def __init__(self, filters: ContestFilters, per_page: int) -> None:
        # The query is built only when a kept piece is missing (most requests find them).
        self.filters = filters
        self.per_page = per_page
        self.orphans = 0
        self.allow_empty_first_page = True
        self.error_messages = self.default_error_messages
        self.max_rows = pagination.LIST_MAX_ROWS

    @cached_property
    def queryset(self) -> QuerySet[Contest]:  # type: ignore[override]
        return contest_list_public(filters=self.filters)

    @cached_property
    def object_list(self) -> QuerySet[Contest]:  # type: ignore[override]
        return self.queryset

    @cached_property
    def rows(self) -> QuerySet[Contest]:  # type: ignore[override]
        return self.queryset

    @cached_property
    def count(self) -> int:
        return int(
            listing_cached(
                "contest-count",
                (self.filters, self.max_rows),
                lambda: BoundedPaginator(self.queryset, self.per_page, self.max_rows).count,
            )
        )

    def ids_of_page(self, number: int) -> list[int]:
        return list(
            listing_cached(
                "contest-page-ids",
                (self.filters, self.per_page, self.max_rows, number),
                lambda: super(PublicListPaginator, self).ids_of_page(number),
            )
        )


TEXT_WORDS_MAX = 8


def _text_filter(qs: QuerySet[Contest], text: str) -> QuerySet[Contest]:
    """Contests whose title or summary has every word of ``text`` (as a word prefix on
    PostgreSQL, through the full-text index; as a substring on SQLite, which has none)."""
    words = re.findall(r"\w+", text.lower())[:TEXT_WORDS_MAX]
    if not words:
        return qs
    if connections[qs.db].vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        # The expression of the ``contest_public_text`` GIN index (migration 0008). Only
        # word characters reach to_tsquery, so no input can break its syntax.
        query = " & ".join(f"{word}:*" for word in words)
        return qs.alias(text=SearchVector("title", "summary", config="simple")).filter(
            text=SearchQuery(query, search_type="raw", config="simple")
        )
    for word in words:
        qs = qs.filter(Q(title__icontains=word) | Q(summary__icontains=word))
    return qs


def contest_list_public(*, filters: ContestFilters | None = None) -> QuerySet[Contest]:
    """Public contests for the list page, search and the API: never drafts, never private."""
    f = filters or ContestFilters()
    statuses = [f.status] if f.status else PUBLIC_STATUSES
    qs = _with_figures(_contest_base().filter(is_private=False, status__in=statuses))
    if f.status and f.status not in PUBLIC_STATUSES:
        qs = qs.none()
    if f.category:
        qs = qs.filter(category=f.category)
    if f.prize_min is not None:
        qs = qs.filter(prize_total__gte=f.prize_min)
    if f.prize_max is not None:
        qs = qs.filter(prize_total__lte=f.prize_max)
    if f.ends_soon:
        now = timezone.now()
        qs = qs.filter(status=Contest.Status.OPEN, entry_deadline__lte=now + limits.ENDS_SOON)
    if f.q:
        qs = _text_filter(qs, f.q)
    # Open contests first, soonest deadline first; then those in judging, soonest decision
    # first; then the decided ones, newest first: stored columns, in the order of the
    # ``contest_public_list`` index (no sort of every public contest per request).
    if f.ends_soon or f.status == Contest.Status.OPEN:
        return qs.order_by("entry_deadline", "pk")
    return qs.order_by("list_rank", F("list_due").asc(), F("published_at").desc(), F("id").desc())


def contest_list_public_by_ids(ids: Sequence[int]) -> QuerySet[Contest]:
    """The public contests among ``ids`` (what a kept page of ``contest_list_public`` names
    is checked again when its rows are read), without their figures."""
    return _contest_base().filter(pk__in=ids, is_private=False, status__in=PUBLIC_STATUSES)


def entry_counts(ids: Sequence[int], user: User | None) -> dict[int, tuple[int, int]]:
    """``{contest id: (entries that count, the user's own among them)}`` for the contests
    ``ids`` (a contest without entries is left out), in one query: read live, since an
    entry just submitted or withdrawn shows at once."""
    counted = Entry.objects.filter(contest_id__in=ids).exclude(status=Entry.Status.WITHDRAWN)
    if user is None:
        rows = counted.values("contest_id").annotate(n=Count("pk")).order_by()
        return {r["contest_id"]: (r["n"], 0) for r in rows}
    rows = (
        counted.values("contest_id")
        .annotate(n=Count("pk"), mine=Count("pk", filter=Q(entrant_id=user.pk)))
        .order_by()
    )
    return {r["contest_id"]: (r["n"], r["mine"]) for r in rows}


def contest_live_figures() -> tuple[int, int]:
    """``(open contests, their and the judging ones' prizes in escrow)`` of the public list,
    in one aggregate over the ``prize_total`` column (the home page)."""
    live = Contest.objects.filter(
        is_private=False, status__in=[Contest.Status.OPEN, Contest.Status.JUDGING]
    ).aggregate(
        open=Count("pk", filter=Q(status=Contest.Status.OPEN)),
        prizes=Sum("prize_total"),
    )
    return live["open"] or 0, live["prizes"] or 0


def contest_list_managed(*, user: User) -> QuerySet[Contest]:
    """Every contest the user manages, drafts included (client dashboard, ``?mine=1``)."""
    return _with_figures(_contest_base().filter(_manager_q(user))).order_by("-created_at", "-pk")


def contest_invitation_for_user(*, contest_id: int, user: User) -> ContestInvitation | None:
    """The user's invitation to a published private contest (``None``: not invited)."""
    return (
        ContestInvitation.objects.filter(contest_id=contest_id, user=user, contest__is_private=True)
        .exclude(contest__status=Contest.Status.DRAFT)
        .first()
    )


def _invited_with_nda_state(user: User) -> list[Contest]:
    """The contests the user is invited to; ``brief_hidden`` set on those whose NDA they
    have not accepted yet (their cards show no summary)."""
    # The invitations first (one narrow query): most people have none, and then the
    # contests' query (with its figures and prizes) is not run at all.
    accepted = dict(
        ContestInvitation.objects.filter(
            user=user, contest__is_private=True, contest__status__in=PUBLIC_STATUSES
        ).values_list("contest_id", "nda_version")
    )
    if not accepted:
        return []
    contests = list(contest_list_invited(user=user))
    for contest in contests:
        contest.brief_hidden = contest.has_nda and accepted.get(contest.pk) != contest.nda_version  # type: ignore[attr-defined]
    return contests


def contest_list_invited(*, user: User) -> QuerySet[Contest]:
    return _with_figures(
        _contest_base().filter(
            is_private=True,
            status__in=PUBLIC_STATUSES,
            invitations__user=user,
        )
    ).order_by("-published_at", "-pk")


# --- entries ------------------------------------------------------------------------------


def entries_visible_q(access: ContestAccess) -> Q:
    """The entries of ``access.contest`` its viewer may see (a filter on ``Entry``)."""
    if access.is_staff:
        return Q()
    if access.can_manage:
        return ~Q(status=Entry.Status.WITHDRAWN)
    own = Q(entrant=access.user) if access.user else Q(pk__in=[])
    if not access.can_read_brief:
        return own
    contest = access.contest
    # Entries staff hid are shown to their entrant (and the client) only.
    shown = Q(hidden_at__isnull=True)
    if not contest.is_blind:
        return own | (shown & Q(status__in=SHOWN_ENTRY))
    if contest.status in rules.DECIDED:
        return own | (shown & Q(status=Entry.Status.WINNER))
    return own


def entry_files_prefetch() -> Prefetch:
    """The files of each entry's current version, in their order (what grids show)."""
    return Prefetch("current_version__files", queryset=EntryFile.objects.order_by("position", "id"))


def _entry_base() -> QuerySet[Entry]:
    return Entry.objects.select_related(
        "entrant__profile", "current_version", "contest"
    ).prefetch_related(entry_files_prefetch())


@dataclass(frozen=True)
class EntryFilters:
    unrated: bool = False
    rated_min: int | None = None
    finalists: bool = False
    flagged: bool = False
    status: str = ""
    mine: bool = False


def entry_list_for_viewer(
    *, access: ContestAccess, filters: EntryFilters | None = None
) -> QuerySet[Entry]:
    """The entries the viewer may see, with what a grid needs loaded (constant queries).
    Judging filters (rating, flags, finalists) apply for managers and staff only. Their
    contest is ``access.contest`` (``entries_contest_set`` hands it to a page's entries
    instead of reading it with each)."""
    f = filters or EntryFilters()
    qs = _entry_base().filter(contest=access.contest).filter(entries_visible_q(access))
    if access.sees_all_entries:
        if f.unrated:
            qs = qs.filter(rating__isnull=True)
        if f.rated_min:
            qs = qs.filter(rating__gte=f.rated_min)
        if f.finalists:
            qs = qs.filter(Q(status=Entry.Status.FINALIST) | Q(finalist_at__isnull=False))
        if f.flagged:
            qs = qs.filter(is_flagged=True)
        if f.status:
            qs = qs.filter(status=f.status)
    if f.mine and access.user is not None:
        qs = qs.filter(entrant=access.user)
    return qs.order_by("number")


# A page of the entries a manager (or staff) sees, written out (PostgreSQL, prepared;
# ``entry_pages_for_manager``): the judging grid and the entries' API read it on every
# request, entries with their entrant, profile and current version as
# ``entries_without_contest`` loads them.
_ENTRY_ROWS = (
    "SELECT {columns} FROM {entry} e INNER JOIN {user} u ON u.id = e.entrant_id"
    " LEFT JOIN {profile} p ON p.user_id = u.id"
    " LEFT JOIN {version} v ON v.id = e.current_version_id WHERE {where}"
)
_ENTRY_ORDER = " ORDER BY e.number LIMIT %(limit)s OFFSET %(offset)s"
_ENTRY_COUNT = "SELECT COUNT(*) FROM (SELECT 1 FROM {entry} e WHERE {where} LIMIT %(limit)s) t"
_ENTRY_IDS = (
    "SELECT e.id FROM {entry} e WHERE {where} ORDER BY e.number LIMIT %(limit)s OFFSET %(offset)s"
)


def _entry_row_parts() -> list[tuple[str, type[Any], tuple[Any, ...]]]:
    from trefpunt.accounts.models import Profile, User

    return [
        ("e", Entry, model_fields(Entry)),
        ("u", User, model_fields(User)),
        ("p", Profile, model_fields(Profile)),
        ("v", EntryVersion, model_fields(EntryVersion)),
    ]


@functools.cache
def _entry_statements(conditions: tuple[str, ...]) -> dict[str, str]:
    """The statements of ``entry_pages_for_manager`` for one combination of filters (each
    combination its own text, so that each keeps its plan)."""
    from trefpunt.accounts.models import Profile, User

    quote = connection.ops.quote_name
    where = " AND ".join(("e.contest_id = %(contest)s", *conditions))
    tables = {
        "entry": quote(Entry._meta.db_table),
        "user": quote(User._meta.db_table),
        "profile": quote(Profile._meta.db_table),
        "version": quote(EntryVersion._meta.db_table),
        "columns": joined_columns(_entry_row_parts()),
    }
    rows = _ENTRY_ROWS.format(where=where, **tables)
    return {
        "count": _ENTRY_COUNT.format(where=where, **tables),
        "rows": rows + _ENTRY_ORDER,
        "ids": _ENTRY_IDS.format(where=where, **tables),
        "rows_of": _ENTRY_ROWS.format(
            where=where, **{**tables, "entry": pagination.rows_of_ids(tables["entry"])}
        ),
    }


def _entry_from_row(*row: Any) -> Entry:
    entry, entrant, profile, version = instances_from_row(_entry_row_parts(), row)
    Entry.entrant.field.set_cached_value(entry, entrant)
    _poster_profile_set(entrant, profile)
    Entry.current_version.field.set_cached_value(entry, version)
    return entry


def entry_pages_for_manager(
    *, access: ContestAccess, filters: EntryFilters, per_page: int
) -> BoundedPaginator | None:
    """The pages of ``entries_without_contest(entry_list_for_viewer(...))`` for a viewer
    who sees every entry (the contest's managers and staff), from hand-written statements
    (prepared on PostgreSQL: building the ORM's queries and making its rows cost the
    judging grid more than running them); ``None`` for other viewers and on other databases
    (the caller pages the queryset). Give the page's entries their contest with
    ``entries_contest_set``."""
    if connection.vendor != "postgresql" or not access.sees_all_entries:
        return None
    f = filters
    params: dict[str, Any] = {"contest": access.contest.pk}
    conditions: list[str] = []
    # As ``entries_visible_q`` and ``entry_list_for_viewer``, in the same order.
    if not access.is_staff:
        conditions.append(f"e.status <> {sql_literal(Entry.Status.WITHDRAWN)}")
    if f.unrated:
        conditions.append("e.rating IS NULL")
    if f.rated_min:
        conditions.append("e.rating >= %(rated_min)s")
        params["rated_min"] = f.rated_min
    if f.finalists:
        conditions.append(
            f"(e.status = {sql_literal(Entry.Status.FINALIST)} OR e.finalist_at IS NOT NULL)"
        )
    if f.flagged:
        conditions.append("e.is_flagged")
    if f.status:
        conditions.append("e.status = %(status)s")
        params["status"] = f.status
    if f.mine and access.user is not None:
        conditions.append("e.entrant_id = %(mine)s")
        params["mine"] = access.user.pk
    statements = _entry_statements(tuple(conditions))
    return pagination.StatementPaginator(
        per_page,
        count=statements["count"],
        rows=statements["rows"],
        ids=statements["ids"],
        rows_of=statements["rows_of"],
        params=params,
        row=_entry_from_row,
    )


def entries_without_contest(qs: QuerySet[Entry]) -> QuerySet[Entry]:
    """``qs`` (of ``entry_list_for_viewer``) without reading each entry's contest again:
    give the page's entries the known one with ``entries_contest_set``."""
    return qs.select_related(None).select_related("entrant__profile", "current_version")


def entries_contest_set(entries: Iterable[Entry], contest: Contest) -> None:
    for entry in entries:
        entry.contest = contest


def entry_get_for_user(*, entry_id: int, user: AnyUser) -> EntryAccess:
    # Not the contest's poster or organisation (the entry page, its files and the API show
    # neither): every join more costs PostgreSQL planning time on each entry page and each
    # thumbnail (eight tables took about 4 ms to plan, five take about 1).
    entry = _entry_base().filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("Entry not found."))
    access = contest_access(entry.contest, user)
    visible = Entry.objects.filter(pk=entry.pk).filter(entries_visible_q(access)).exists()
    is_entrant = access.user is not None and entry.entrant_id == access.user.pk
    if not visible or not (access.can_read_brief or is_entrant):
        raise NotFound(_("Entry not found."))
    return EntryAccess(entry, access, is_entrant)


def entry_versions(*, entry: Entry) -> QuerySet[EntryVersion]:
    return entry.versions.prefetch_related(
        Prefetch("files", queryset=EntryFile.objects.order_by("position", "id"))
    ).order_by("-number")


def entry_flags(*, entry: Entry) -> QuerySet[EntryFlag]:
    """Flags of an entry with both sides of each pair loaded (client and staff only)."""
    return entry.flags.select_related(
        "file",
        "other_file",
        "other_entry__contest",
        "other_entry__entrant__profile",
        "reported_by__profile",
    ).order_by("-created_at")


def flag_list_for_staff() -> QuerySet[EntryFlag]:
    return EntryFlag.objects.select_related(
        "entry__contest",
        "entry__entrant__profile",
        "file",
        "other_file",
        "other_entry__contest",
        "other_entry__entrant__profile",
        "reported_by__profile",
    ).order_by("-created_at", "-id")


def declines_pending_review() -> QuerySet[Entry]:
    """Declines for a rule break waiting for staff, oldest first (staff only): the ones
    whose judging ends first matter most, since the guarantee reads the outcome."""
    return (
        Entry.objects.filter(
            status=Entry.Status.DECLINED,
            decline_review=Entry.DeclineReview.PENDING,
            contest__status__in=[Contest.Status.OPEN, Contest.Status.JUDGING],
        )
        .select_related("contest", "entrant__profile", "current_version")
        .prefetch_related(
            Prefetch(
                "current_version__files", queryset=EntryFile.objects.order_by("position", "id")
            )
        )
        .order_by("declined_at", "pk")
    )


def entry_file_get_for_user(*, file_id: int, user: AnyUser) -> tuple[EntryFile, EntryAccess]:
    """An entry file and the viewer's access to its entry; not-found when the entry is
    not visible to the viewer."""
    entry_file = EntryFile.objects.select_related("version").filter(pk=file_id).first()
    if entry_file is None:
        raise NotFound(_("File not found."))
    return entry_file, entry_get_for_user(entry_id=entry_file.version.entry_id, user=user)


# --- money --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funding:
    """What publishing costs and how the paying wallet covers it (``ledger.funded``'s
    quote, with the contest's parts of the total)."""

    prize_pool: int
    stipends: int
    client_fee: int
    fee_bps: int
    total: int
    wallet: LedgerAccount | None
    balance: int
    shortfall: int
    deposit_amount: int
    currency: str


def contest_amounts(contest: Contest, prizes: list[int] | None = None) -> tuple[int, int, int]:
    """``(prize pool, stipend budget, client fee)`` at the current fee setting."""
    pool = sum(prizes if prizes is not None else [p.amount for p in contest.prizes.all()])
    stipends = contest.stipend_budget
    fee = split_bps(pool + stipends, settings.FEES_BPS["contest"]["client"])
    return pool, stipends, fee


def contest_funding(*, contest: Contest) -> Funding:
    """What publishing costs, what the paying wallet holds, and the deposit that closes the
    gap (``ledger.funded.funding_quote``)."""
    pool, stipends, fee = contest_amounts(contest)
    quote = funding_quote(work=contest.funded_work, total=pool + stipends + fee)
    return Funding(
        prize_pool=pool,
        stipends=stipends,
        client_fee=fee,
        fee_bps=settings.FEES_BPS["contest"]["client"],
        total=quote.total,
        wallet=quote.wallet,
        balance=quote.balance,
        shortfall=quote.shortfall,
        deposit_amount=quote.deposit_amount,
        currency=quote.currency,
    )


# --- dashboards ---------------------------------------------------------------------------


def client_dashboard(*, user: User) -> QuerySet[Contest]:
    """The user's contests, newest first, with whether delivered files wait for them (the
    view pages it; ``client_dashboard_figures`` counts a page's entries)."""
    delivered = Handover.objects.filter(contest=OuterRef("pk"), status=Handover.Status.DELIVERED)
    return (
        _contest_base()
        .filter(_manager_q(user))
        .order_by("-created_at", "-pk")
        .annotate(handover_waiting=Exists(delivered))
    )


# The client dashboard's list written out (PostgreSQL, prepared; ``client_dashboard_pages``):
# the user's own contests, and with ``{organisations}`` those of the organisations they
# manage, newest first (index ``contest_creator`` for the first).
_DASHBOARD_WHERE = "(c.created_by_id = %(user)s AND c.organisation_id IS NULL){organisations}"
_DASHBOARD_ORGANISATIONS = " OR c.organisation_id = ANY(%(organisations)s::bigint[])"
_DASHBOARD_COUNT = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM {contest} c WHERE {where} LIMIT %(limit)s) t"
)
_DASHBOARD_IDS = (
    "SELECT c.id FROM {contest} c WHERE {where}"
    " ORDER BY c.created_at DESC, c.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
_DASHBOARD_ROWS = (
    "SELECT c.id, c.title, o.name, c.status, c.prize_total, c.currency, c.entry_deadline,"
    " c.judging_ends_at, EXISTS(SELECT 1 FROM {handover} h WHERE h.contest_id = c.id"
    " AND h.status = {delivered})"
    " FROM {contest} c LEFT JOIN {organisation} o ON o.id = c.organisation_id WHERE {where}"
)
_DASHBOARD_PAGE = _DASHBOARD_ROWS + (
    " ORDER BY c.created_at DESC, c.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
_DASHBOARD_OF_IDS = _DASHBOARD_ROWS.replace("{where}", "c.id = ANY({{ids}}) AND ({where})")
# The contest columns a client's dashboard row shows, as plain values; ``ClientDashboardRow``
# is a row as ``client_dashboard(...).values_list(*CLIENT_ROW_VALUES, named=True)`` gives it.
CLIENT_ROW_VALUES = (
    "pk",
    "title",
    "organisation__name",
    "status",
    "prize_total",
    "currency",
    "entry_deadline",
    "judging_ends_at",
    "handover_waiting",
)
ClientDashboardRow = namedtuple("ClientDashboardRow", CLIENT_ROW_VALUES)  # type: ignore[misc]


@functools.cache
def _dashboard_statement(template: str, organisations: bool) -> str:
    from trefpunt.accounts.models import Organisation

    quote = connection.ops.quote_name
    where = _DASHBOARD_WHERE.format(organisations=_DASHBOARD_ORGANISATIONS if organisations else "")
    return template.format(
        where=where,
        contest=quote(Contest._meta.db_table),
        organisation=quote(Organisation._meta.db_table),
        handover=quote(Handover._meta.db_table),
        delivered=sql_literal(Handover.Status.DELIVERED),
    )


def client_dashboard_pages(*, user: User, per_page: int) -> BoundedPaginator | None:
    """The pages of ``client_dashboard`` as rows of ``ClientDashboardRow``, from
    hand-written statements (prepared on PostgreSQL: building the ORM's queries cost the
    page more than running them); ``None`` on other databases (the view pages the
    queryset). Two texts, with and without organisations, so that each keeps its plan."""
    if connection.vendor != "postgresql":
        return None
    organisations = sorted(managed_organisation_ids(user))

    def statement(template: str) -> str:
        return _dashboard_statement(template, bool(organisations))

    return pagination.StatementPaginator(
        per_page,
        count=statement(_DASHBOARD_COUNT),
        rows=statement(_DASHBOARD_PAGE),
        ids=statement(_DASHBOARD_IDS),
        rows_of=statement(_DASHBOARD_OF_IDS),
        params={
            "user": user.pk,
            "organisations": organisations,
        },
        row=ClientDashboardRow,
        keep_plan=False,  # a client has one contest or thousands (``prepared_cursor``)
    )


# ``client_dashboard_figures`` written out (PostgreSQL, prepared): building the ORM's
# grouped query with its three filtered counts cost the dashboard three times what running
# it did.
_DASHBOARD_FIGURES = """
SELECT contest_id,
  COUNT(*) FILTER (WHERE status <> {withdrawn}),
  COUNT(*) FILTER (WHERE rating IS NULL AND status IN ({active})),
  COUNT(*) FILTER (WHERE is_flagged AND status IN ({active}))
FROM {entry} WHERE contest_id = ANY(%(ids)s::bigint[])
GROUP BY contest_id
"""


@functools.cache
def _dashboard_figures_query() -> str:
    return _DASHBOARD_FIGURES.format(
        entry=connection.ops.quote_name(Entry._meta.db_table),
        withdrawn=sql_literal(Entry.Status.WITHDRAWN),
        active=", ".join(sql_literal(s) for s in ACTIVE_ENTRY),
    )


def client_dashboard_figures(ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """``{contest id: (entries not withdrawn, unrated, flagged)}`` (the last two among the
    entries still in the running) for a page's contests (every one of ``ids``): one pass over
    their entries in one query, where three subqueries per contest read them three times."""
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(_dashboard_figures_query(), {"ids": list(ids)})
            found = {pk: (n, unrated, flagged) for pk, n, unrated, flagged in cursor.fetchall()}
        return {pk: found.get(pk, (0, 0, 0)) for pk in ids}
    rows = (
        Entry.objects.filter(contest_id__in=ids)
        .values("contest_id")
        .annotate(
            entries=Count("pk", filter=~Q(status=Entry.Status.WITHDRAWN)),
            unrated=Count("pk", filter=Q(rating__isnull=True, status__in=ACTIVE_ENTRY)),
            flagged=Count("pk", filter=Q(is_flagged=True, status__in=ACTIVE_ENTRY)),
        )
        .order_by()
    )
    figures = {r["contest_id"]: (r["entries"], r["unrated"], r["flagged"]) for r in rows}
    return {pk: figures.get(pk, (0, 0, 0)) for pk in ids}


ENTRANT_PAYMENTS_SHOWN = 50


@dataclass(frozen=True)
class EntrantDashboard:
    """What the entrant's page shows beside the paged entries (``entrant_entries``): the
    latest payments, what they add up to, invitations and handovers to deliver."""

    payments: list[Payment]
    payment_count: int
    earned_net: int
    invitations: list[Contest]
    handovers_to_deliver: list[Handover]


# The columns a row of the entrant's page shows (``views.contests._entrant_row_parts``).
ENTRANT_ROW_FIELDS = (
    "id",
    "number",
    "title",
    "status",
    "rating",
    "feedback",
    "decline_reason",
    "created_at",
    "contest",
    "contest__id",
    "contest__title",
    "contest__status",
    "contest__entry_deadline",
    "contest__judging_ends_at",
)


def entrant_entries(*, user: User) -> QuerySet[Entry]:
    """The user's entries, newest first, for a paged list (index ``entrant, -created_at``),
    with their contests: the page shows no files, so none are loaded, and only the columns
    its rows show (not every brief's description)."""
    return (
        Entry.objects.filter(entrant=user)
        .select_related("contest")
        .only(*ENTRANT_ROW_FIELDS)
        .order_by("-created_at", "-pk")
    )


# The entrant's list written out (PostgreSQL, prepared; ``entrant_entries_pages``): the
# user's entries, newest first (index ``entry_entrant_newest``), with their contests.
_ENTRANT_WHERE = "e.entrant_id = %(user)s"
_ENTRANT_ORDER = " ORDER BY e.created_at DESC, e.id DESC LIMIT %(limit)s OFFSET %(offset)s"
_ENTRANT_COUNT = "SELECT COUNT(*) FROM (SELECT 1 FROM {entry} e WHERE {where} LIMIT %(limit)s) t"
_ENTRANT_IDS = (
    "SELECT e.id FROM {entry} e WHERE {where}"
    " ORDER BY e.created_at DESC, e.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
_ENTRANT_ROWS = (
    "SELECT e.id, e.number, e.title, e.status, e.rating, e.feedback, e.decline_reason,"
    " e.contest_id, c.title, c.status, c.entry_deadline, c.judging_ends_at"
    " FROM {entry} e INNER JOIN {contest} c ON c.id = e.contest_id WHERE {where}"
)
# What a row of the member's entries page (``dashboard_entrant.html``) shows, read as plain
# values; ``EntrantRow`` is a row as ``entrant_entries(...).values_list(*ENTRANT_ROW_VALUES,
# named=True)`` gives it.
ENTRANT_ROW_VALUES = (
    "pk",
    "number",
    "title",
    "status",
    "rating",
    "feedback",
    "decline_reason",
    "contest_id",
    "contest__title",
    "contest__status",
    "contest__entry_deadline",
    "contest__judging_ends_at",
)
EntrantRow = namedtuple("EntrantRow", ENTRANT_ROW_VALUES)  # type: ignore[misc]


@functools.cache
def _entrant_statements() -> dict[str, str]:
    quote = connection.ops.quote_name
    tables = {"entry": quote(Entry._meta.db_table), "contest": quote(Contest._meta.db_table)}
    return {
        "count": _ENTRANT_COUNT.format(where=_ENTRANT_WHERE, **tables),
        "rows": _ENTRANT_ROWS.format(where=_ENTRANT_WHERE, **tables) + _ENTRANT_ORDER,
        "ids": _ENTRANT_IDS.format(where=_ENTRANT_WHERE, **tables),
        "rows_of": _ENTRANT_ROWS.format(
            where=_ENTRANT_WHERE, **{**tables, "entry": pagination.rows_of_ids(tables["entry"])}
        ),
    }


def entrant_entries_pages(*, user: User, per_page: int) -> BoundedPaginator | None:
    """The pages of ``entrant_entries`` as rows of ``EntrantRow``, from hand-written
    statements (prepared on PostgreSQL: building the ORM's queries cost the page more than
    running them); ``None`` on other databases (the view pages the queryset)."""
    if connection.vendor != "postgresql":
        return None
    statements = _entrant_statements()
    return pagination.StatementPaginator(
        per_page,
        count=statements["count"],
        rows=statements["rows"],
        ids=statements["ids"],
        rows_of=statements["rows_of"],
        params={"user": user.pk},
        row=EntrantRow,
    )


# What ``entrant_dashboard`` reads first, in one written-out statement (PostgreSQL,
# prepared): the payments' count and sum, and whether there is any invitation or handover
# to show at all (most people have none, and then neither is read).
_ENTRANT_FACTS = """
SELECT
  (SELECT COUNT(*) FROM {payment} p WHERE p.recipient_id = %(user)s),
  (SELECT COALESCE(SUM(p.net), 0) FROM {payment} p WHERE p.recipient_id = %(user)s),
  EXISTS(SELECT 1 FROM {invitation} i INNER JOIN {contest} c ON c.id = i.contest_id
         WHERE i.user_id = %(user)s AND c.is_private AND c.status IN ({public})),
  EXISTS(SELECT 1 FROM {handover} h INNER JOIN {entry} e ON e.id = h.entry_id
         WHERE e.entrant_id = %(user)s AND h.status = {awaiting})
"""


@functools.cache
def _entrant_facts_query() -> str:
    quote = connection.ops.quote_name
    return _ENTRANT_FACTS.format(
        payment=quote(Payment._meta.db_table),
        invitation=quote(ContestInvitation._meta.db_table),
        contest=quote(Contest._meta.db_table),
        handover=quote(Handover._meta.db_table),
        entry=quote(Entry._meta.db_table),
        public=", ".join(sql_literal(s) for s in PUBLIC_STATUSES),
        awaiting=sql_literal(Handover.Status.AWAITING_FILES),
    )


def _entrant_facts(user: User) -> tuple[int, int, bool, bool]:
    """(payments, their net sum, any invitation?, any handover to deliver?); elsewhere than
    on PostgreSQL the last two are not asked (the lists are read)."""
    if connection.vendor != "postgresql":
        totals = Payment.objects.filter(recipient=user).aggregate(n=Count("pk"), net=Sum("net"))
        return totals["n"] or 0, totals["net"] or 0, True, True
    with prepared_cursor() as cursor:
        cursor.execute(_entrant_facts_query(), {"user": user.pk})
        n, net, invited, handovers = cursor.fetchone()
    return int(n), int(net), bool(invited), bool(handovers)


def entrant_dashboard(*, user: User) -> EntrantDashboard:
    """Everything but the entries, in a fixed number of queries whatever the history."""
    n, net, invited, handovers = _entrant_facts(user)
    return EntrantDashboard(
        payments=list(
            Payment.objects.filter(recipient=user)
            .select_related("contest", "entry", "prize")
            .order_by("-created_at", "-pk")[:ENTRANT_PAYMENTS_SHOWN]
        )
        if n
        else [],
        payment_count=n,
        earned_net=net,
        invitations=_invited_with_nda_state(user) if invited else [],
        handovers_to_deliver=list(
            Handover.objects.filter(
                entry__entrant=user, status=Handover.Status.AWAITING_FILES
            ).select_related("entry", "contest")
        )
        if handovers
        else [],
    )


def handover_get_for_user(*, entry_id: int, user: AnyUser) -> HandoverAccess:
    """The handover of a winning entry: for its entrant, the contest's managers and staff."""
    access = entry_get_for_user(entry_id=entry_id, user=user)
    handover = (
        Handover.objects.select_related("rights_transfer", "confirmed_by__profile")
        .prefetch_related("files")
        .filter(entry=access.entry)
        .first()
    )
    if handover is None or not access.can_see_original:
        raise NotFound(_("Handover not found."))
    return HandoverAccess(handover, access)


def contest_reference_labels(ids: Sequence[int]) -> dict[int, ReferenceLabel]:
    """Wallet lines about contests: "Contest: <title>", linked to the contest (only people
    with a wallet line about a contest see the label: its client and its paid entrants)."""
    return {
        pk: ReferenceLabel(
            label=_("Contest: %(title)s") % {"title": title},
            url=reverse("contests:detail", kwargs={"pk": pk}),
        )
        for pk, title in Contest.objects.filter(pk__in=ids).values_list("pk", "title")
    }
