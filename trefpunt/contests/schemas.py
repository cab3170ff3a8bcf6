"""Input and output shapes of the contests API. Amounts are integer cents."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from trefpunt.accounts.schemas import PersonOut
from trefpunt.core.api_schema import InSchema, OutSchema

from . import limits


class PrizeOut(OutSchema):
    position: int
    amount: int
    winner_entry_id: int | None = None


class ContestCan(OutSchema):
    """What you may do with the contest now: the same rules the actions check."""

    edit: bool = Field(..., description="change the brief (a draft)")
    publish: bool
    cancel: bool = Field(..., description="a draft, or an open contest nobody entered")
    close_entries: bool = Field(
        ...,
        description=f"close early, once {limits.EARLY_CLOSE_MIN_ENTRIES} entries are in",
    )
    invite: bool = Field(..., description="a private draft or open contest")
    judge: bool = Field(..., description="rate, decline, pick finalists")
    award: bool
    accept_nda: bool = Field(
        ..., description="an invitee who has not accepted the NDA yet (POST …/nda)"
    )
    enter: bool = Field(..., description="entries are open to you and you have entries left")


class ContestOut(OutSchema):
    id: int
    url: str
    title: str
    summary: str
    description: str
    category: str
    status: str
    posted_by: PersonOut
    organisation: str | None = Field(None, description="slug of the organisation posting")
    currency: str
    prizes: list[PrizeOut]
    prize_total: int
    finalist_stipend: int
    finalists_max: int
    entry_deadline: datetime
    judging_days: int
    judging_ends_at: datetime | None
    finalist_deadline: datetime | None
    visibility: str
    max_entries_per_entrant: int
    is_private: bool
    nda_text: str = Field("", description="a private contest's non-disclosure agreement")
    nda_pending: bool = Field(
        False,
        description="you are invited and have not accepted the NDA: summary, description, "
        "reference files and entries stay hidden until you do",
    )
    entry_count: int
    published_at: datetime | None
    awarded_at: datetime | None
    award_method: str
    funded_amount: int | None = Field(None, description="managers only")
    client_fee: int | None = Field(None, description="managers only")
    can: ContestCan


class ContestPage(OutSchema):
    items: list[ContestOut]
    # Counted up to ``core.pagination.LIST_MAX_ROWS`` (10,000); ``count_capped``: at least.
    count: int
    count_capped: bool
    page: int
    pages: int


class ContestIn(InSchema):
    title: str
    summary: str
    description: str = ""
    category: str
    prizes: list[int] = Field(
        ..., description=f"1 to {limits.PRIZES_MAX} prizes in cents, largest first"
    )
    entry_deadline: datetime
    judging_days: int = limits.JUDGING_DAYS_DEFAULT
    visibility: str = "open"
    max_entries_per_entrant: int = limits.ENTRIES_PER_ENTRANT_DEFAULT
    finalist_stipend: int = 0
    finalists_max: int = limits.FINALISTS_DEFAULT
    is_private: bool = False
    nda_text: str = ""
    organisation: str | None = Field(None, description="slug; post for this organisation")


class ContestPatch(InSchema):
    title: str | None = None
    summary: str | None = None
    description: str | None = None
    category: str | None = None
    prizes: list[int] | None = None
    entry_deadline: datetime | None = None
    judging_days: int | None = None
    visibility: str | None = None
    max_entries_per_entrant: int | None = None
    finalist_stipend: int | None = None
    finalists_max: int | None = None
    is_private: bool | None = None
    nda_text: str | None = None
    organisation: str | None = None


class AwardItem(InSchema):
    prize: int = Field(..., description=f"prize position, 1 to {limits.PRIZES_MAX}")
    entry: int = Field(..., description="entry id")


class AwardIn(InSchema):
    awards: list[AwardItem]


class FileOut(OutSchema):
    id: int
    kind: str
    size: int
    width: int
    height: int
    thumb_url: str | None
    preview_url: str | None
    original_url: str | None = Field(None, description="entrant, managers and staff only")


class EntryCan(OutSchema):
    """What you may do with the entry now: the same rules the actions check."""

    withdraw: bool
    revise: bool
    report: bool
    rate: bool
    decline: bool
    make_finalist: bool
    unmark_finalist: bool
    add_to_portfolio: bool
    see_originals: bool


class EntryOut(OutSchema):
    id: int
    contest_id: int
    number: int
    url: str
    title: str
    description: str
    status: str
    entrant: PersonOut
    version: int
    files: list[FileOut]
    created_at: datetime
    rating: int | None = Field(None, description="entrant and managers")
    feedback: str | None = Field(None, description="entrant and managers")
    decline_reason: str | None = Field(None, description="entrant and managers")
    decline_code: str | None = Field(None, description="entrant and managers: fit, copied, rules")
    decline_review: str | None = Field(
        None, description="entrant and managers: pending, upheld or overturned (rule breaks)"
    )
    shares_in_guarantee: bool | None = Field(
        None,
        description="entrant and managers, while open or judging: whether the entry gets a "
        "share if the guarantee splits the prizes",
    )
    private_note: str | None = Field(None, description="managers only")
    is_flagged: bool | None = Field(None, description="managers only")
    can: EntryCan


class EntryPage(OutSchema):
    items: list[EntryOut]
    count: int
    count_capped: bool
    page: int
    pages: int


class VersionOut(OutSchema):
    number: int
    note: str
    created_at: datetime
    files: list[FileOut]


class RatingIn(InSchema):
    rating: int | None = Field(
        None, description=f"{limits.RATING_MIN} to {limits.RATING_MAX}; null clears it"
    )
    note: str | None = Field(None, description="private to the client")
    feedback: str | None = Field(None, description="the entrant sees this")


class DeclineIn(InSchema):
    reason: str = Field(
        ...,
        description=f"the entrant is told; {limits.REASON_MIN} to {limits.REASON_MAX} characters",
    )
    reason_code: str = Field(
        "fit",
        description=(
            "fit (not what you are looking for), copied or rules. A declined entry keeps its "
            "share in the guarantee unless the code is copied or rules and staff uphold it."
        ),
    )


class FinalistIn(InSchema):
    finalist: bool = True


class ReportIn(InSchema):
    reason: str = Field(
        ...,
        description=f"where it was copied from; {limits.REASON_MIN} to {limits.REASON_MAX} "
        "characters",
    )


class FlagOut(OutSchema):
    id: int
    kind: str
    created_at: datetime
