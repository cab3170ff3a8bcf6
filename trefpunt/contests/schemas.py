"""Input and output shapes of the contests API. Amounts are integer cents."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from trefpunt.core.api_schema import InSchema


class PersonOut(Schema):
    handle: str
    display_name: str


class PrizeOut(Schema):
    position: int
    amount: int
    winner_entry_id: int | None = None


class ContestOut(Schema):
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
    entry_count: int
    published_at: datetime | None
    awarded_at: datetime | None
    award_method: str
    funded_amount: int | None = Field(None, description="managers only")
    client_fee: int | None = Field(None, description="managers only")


class ContestPage(Schema):
    items: list[ContestOut]
    count: int
    page: int
    pages: int


class ContestIn(InSchema):
    title: str
    summary: str
    description: str = ""
    category: str
    prizes: list[int] = Field(..., description="1 to 3 prizes in cents, largest first")
    entry_deadline: datetime
    judging_days: int = 7
    visibility: str = "open"
    max_entries_per_entrant: int = 3
    finalist_stipend: int = 0
    finalists_max: int = 5
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
    prize: int = Field(..., description="prize position, 1 to 3")
    entry: int = Field(..., description="entry id")


class AwardIn(InSchema):
    awards: list[AwardItem]


class FileOut(Schema):
    id: int
    kind: str
    size: int
    width: int
    height: int
    thumb_url: str | None
    preview_url: str | None
    original_url: str | None = Field(None, description="entrant, managers and staff only")


class EntryOut(Schema):
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


class EntryPage(Schema):
    items: list[EntryOut]
    count: int
    page: int
    pages: int


class VersionOut(Schema):
    number: int
    note: str
    created_at: datetime
    files: list[FileOut]


class RatingIn(InSchema):
    rating: int | None = Field(None, description="1 to 5; null clears it")
    note: str | None = Field(None, description="private to the client")
    feedback: str | None = Field(None, description="the entrant sees this")


class DeclineIn(InSchema):
    reason: str = Field(..., description="the entrant is told; at least 10 characters")
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
    reason: str


class FlagOut(Schema):
    id: int
    kind: str
    created_at: datetime
