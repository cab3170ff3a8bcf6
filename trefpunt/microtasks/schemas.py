"""Input and output shapes of the microtasks API. Amounts are integer cents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from trefpunt.core.api_schema import InSchema, OutSchema

from . import limits


class BatchIn(InSchema):
    title: str = Field(..., min_length=limits.TITLE_MIN_LENGTH, max_length=limits.TITLE_MAX_LENGTH)
    instructions: str = Field("", description="Markdown", max_length=limits.INSTRUCTIONS_MAX_LENGTH)
    form: list[dict[str, Any]] = Field(
        ...,
        description='Answer fields: {"name", "label", "type": single|multiple|text|number, '
        '"required", "choices": [{"value", "label"}], "min", "max", "integer", "max_length"}',
    )
    display: list[dict[str, Any]] = Field(
        ...,
        description='How an item is shown: [{"column", "widget": text|image|link, "label"}]',
    )
    reward: int = Field(
        ...,
        description="reward per answer in cents",
        ge=limits.REWARD_MIN_CENTS,
        le=limits.REWARD_MAX_CENTS,
    )
    min_answers: int = Field(limits.DEFAULT_ANSWERS_PER_ITEM, ge=1, le=limits.ANSWERS_PER_ITEM_MAX)
    max_answers: int = Field(limits.DEFAULT_ANSWERS_PER_ITEM, ge=1, le=limits.ANSWERS_PER_ITEM_MAX)
    estimated_seconds: int = Field(
        limits.DEFAULT_ESTIMATED_SECONDS,
        description="your estimate of the time per task",
        ge=limits.ESTIMATED_SECONDS_MIN,
        le=limits.ESTIMATED_SECONDS_MAX,
    )
    lease_seconds: int = Field(
        limits.DEFAULT_LEASE_SECONDS,
        description="how long a worker holds an item",
        ge=limits.LEASE_SECONDS_MIN,
        le=limits.LEASE_SECONDS_MAX,
    )
    strategy: Literal["depth", "breadth", "random"] = "depth"
    page_size: int = Field(
        limits.DEFAULT_PAGE_SIZE,
        description="items a worker claims and answers at once (POST /batches/{id}/page)",
        ge=1,
        le=limits.PAGE_SIZE_MAX,
    )
    min_approval_rate: float | None = Field(None, ge=0, le=1)
    min_gold_accuracy: float | None = Field(None, ge=0, le=1)
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes")
    max_answers_per_worker: int | None = Field(None, ge=1, le=limits.ANSWERS_PER_WORKER_MAX)
    aggregation_method: Literal["mv", "wmv", "ds", "ods"] = "ds"
    confidence_target: float = Field(
        limits.DEFAULT_CONFIDENCE_TARGET,
        ge=limits.CONFIDENCE_TARGET_MIN,
        le=limits.CONFIDENCE_TARGET_MAX,
    )
    gold_rate: float = Field(limits.DEFAULT_GOLD_RATE, ge=0, le=1)
    gold_feedback: bool = False
    organisation: str | None = Field(None, description="slug of an organisation you administer")


class BatchCanOut(OutSchema):
    """What the caller may do with the batch now (the same rules the operations apply)."""

    work: bool = Field(..., description="claim items (POST /batches/{id}/next)")
    manage: bool
    edit: bool = Field(..., description="change the definition and the items (a draft)")
    publish: bool
    pause: bool
    resume: bool = Field(..., description="false while a fair-pay pause needs a higher reward")
    close: bool
    raise_reward: bool
    review: bool = Field(..., description="review answers, results, workers, export")


class BatchOut(OutSchema):
    id: int
    url: str
    title: str
    instructions: str
    status: str
    pause_reason: str
    organisation: str | None
    form: list[dict[str, Any]]
    display: list[dict[str, Any]]
    reward: int
    currency: str
    min_answers: int
    max_answers: int
    estimated_seconds: int
    median_seconds: int | None
    hourly: int | None = Field(None, description="effective hourly pay in cents")
    lease_seconds: int
    strategy: str
    page_size: int = Field(..., description="items per page a worker claims and answers at once")
    min_approval_rate: float | None
    min_gold_accuracy: float | None
    languages: list[str]
    max_answers_per_worker: int | None
    aggregation_method: str
    confidence_target: float
    gold_rate: float
    gold_feedback: bool
    fitted_at: datetime | None = Field(None, description="time of the last full fit")
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None
    manages: bool
    can: BatchCanOut


class AvailableBatchOut(OutSchema):
    batch: BatchOut
    items_left: int
    seconds_per_task: int
    hourly: int | None
    my_answers: int
    cap_left: int | None
    qualifies: bool
    problems: list[str]


class UploadOut(OutSchema):
    added: int
    items: int


class MoneyOut(OutSchema):
    funded: int
    rewards_paid: int
    fees_paid: int
    refunded: int
    in_escrow: int


class ProgressOut(OutSchema):
    status: str
    items: int
    items_done: int
    answers: int
    answers_target: int
    pending_review: int
    appeals: int
    approved: int
    rejected: int
    live_leases: int
    median_seconds: float | None
    hourly: int | None
    answers_last_hour: int
    eta_seconds: int | None
    money: MoneyOut


class ItemOut(OutSchema):
    id: int
    position: int
    data: dict[str, Any]
    html: str = Field(..., description="the item as the worker sees it (escaped HTML)")


class LeaseOut(OutSchema):
    id: int
    batch_id: int
    status: str
    expires_at: datetime
    seconds_left: int
    item: ItemOut
    form: list[dict[str, Any]]


class LeasePageOut(OutSchema):
    """The worker's page of a batch: the live leases they hold there, oldest first."""

    batch_id: int
    page_size: int = Field(..., description="the batch's items per page")
    leases: list[LeaseOut] = Field(..., description="at most page_size; empty when nothing is left")


class PageAnswerIn(InSchema):
    lease: int = Field(..., description="id of one of your live leases")
    answer: dict[str, Any]


class PageAnswersIn(InSchema):
    answers: list[PageAnswerIn] = Field(
        ...,
        min_length=1,
        max_length=limits.PAGE_SIZE_MAX,
        description="one answer per lease; all are stored or none",
    )
    seconds: int | None = Field(
        None, description="working time of the whole page your program measured"
    )


class LeaseStatusOut(OutSchema):
    id: int
    status: str


class AnswerIn(InSchema):
    answer: dict[str, Any]
    seconds: int | None = Field(None, description="working time your program measured")


class AnswerCanOut(OutSchema):
    """What the caller may do with the answer now."""

    appeal: bool = Field(..., description="its worker, while the rejection can be appealed")
    review: bool = Field(..., description="its batch's client, while it is pending")
    decide_appeal: bool = Field(..., description="its batch's client, while appealed")


class AnswerOut(OutSchema):
    id: int
    batch_id: int
    item_id: int
    lease_id: int
    worker: str | None = Field(None, description="pseudonym of the worker (clients only)")
    answer: dict[str, Any]
    status: str
    working_seconds: int
    reward: int
    paid_reward: int
    reject_reason: str
    appeal_message: str
    appeal_note: str
    appeal_until: datetime | None
    created_at: datetime
    expected_answer: dict[str, Any] | None = Field(
        None,
        description="after answering a test question of a batch with gold feedback on: "
        "the expected answer; null otherwise",
    )
    can: AnswerCanOut


class AnswerPage(OutSchema):
    items: list[AnswerOut]
    count: int
    page: int
    pages: int


class PageAnswersOut(OutSchema):
    answers: list[AnswerOut] = Field(..., description="in the order sent")


class RewardIn(InSchema):
    reward: int = Field(..., ge=limits.REWARD_MIN_CENTS, le=limits.REWARD_MAX_CENTS)


class ReasonIn(InSchema):
    reason: str = Field(..., max_length=limits.REASON_MAX_LENGTH)


class AppealIn(InSchema):
    message: str = Field(..., max_length=limits.REASON_MAX_LENGTH)


class NoteIn(InSchema):
    note: str = Field("", max_length=limits.REASON_MAX_LENGTH)


class BulkReviewIn(InSchema):
    decision: Literal["approve", "reject"]
    reason: str = Field("", max_length=limits.REASON_MAX_LENGTH)
    worker: str | None = Field(None, description="pseudonym: only this worker's answers")
    answer_ids: list[int] | None = None


class BulkReviewOut(OutSchema):
    changed: int


class ExcludeIn(InSchema):
    worker: str = Field(..., description="pseudonym of the worker in this batch")
    excluded: bool = True


class ExcludeOut(OutSchema):
    worker: str
    excluded: bool


class ResultAnswerOut(OutSchema):
    id: int
    worker: str = Field(..., description="pseudonym of the worker in this batch")
    answer: dict[str, Any]
    status: str
    counted: bool = Field(..., description="false for answers of excluded workers")


class ResultOut(OutSchema):
    item_id: int
    position: int
    data: dict[str, Any]
    is_gold: bool
    gold_answer: dict[str, Any] | None
    status: str
    answers_count: int
    answers_target: int
    aggregated_answer: dict[str, Any] | None
    confidence: float | None = Field(
        None, description="probability of the combined answer (first categorical field)"
    )
    agreement: float | None = Field(
        None, description="share of counted answers that agree with the combined answer"
    )
    details: dict[str, Any] | None = Field(
        None, description="per-field figures: confidence, agreement, median, trimmed mean"
    )
    answers: list[ResultAnswerOut]


class ResultPage(OutSchema):
    items: list[ResultOut]
    count: int
    page: int
    pages: int


class WorkerOut(OutSchema):
    worker: str = Field(..., description="pseudonym of the worker in this batch")
    answers: int
    approved: int
    rejected: int
    pending: int
    gold_answers: int
    gold_correct: int
    gold_accuracy: float | None
    gold_interval: list[float] | None = Field(None, description="95 % Wilson interval")
    skill: float | None = Field(None, description="Dawid-Skene probability of a right answer")
    spam_score: float | None = Field(None, description="0 = uninformative, 1 = perfect")
    flagged_spammer: bool
    excluded: bool
