"""Input and output shapes of the microtasks API. Amounts are integer cents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from trefpunt.core.api_schema import InSchema


class BatchIn(InSchema):
    title: str
    instructions: str = Field("", description="Markdown")
    form: list[dict[str, Any]] = Field(
        ...,
        description='Answer fields: {"name", "label", "type": single|multiple|text|number, '
        '"required", "choices": [{"value", "label"}], "min", "max", "integer", "max_length"}',
    )
    display: list[dict[str, Any]] = Field(
        ...,
        description='How an item is shown: [{"column", "widget": text|image|link, "label"}]',
    )
    reward: int = Field(..., description="reward per answer in cents")
    min_answers: int = 3
    max_answers: int = 3
    estimated_seconds: int = Field(30, description="your estimate of the time per task")
    lease_seconds: int = Field(600, description="how long a worker holds an item")
    strategy: Literal["depth", "breadth", "random"] = "depth"
    min_approval_rate: float | None = Field(None, ge=0, le=1)
    min_gold_accuracy: float | None = Field(None, ge=0, le=1)
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes")
    max_answers_per_worker: int | None = None
    aggregation_method: Literal["mv", "wmv", "ds", "ods"] = "ds"
    confidence_target: float = 0.95
    gold_rate: float = 0.1
    gold_feedback: bool = False
    organisation: str | None = Field(None, description="slug of an organisation you administer")


class BatchOut(Schema):
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


class AvailableBatchOut(Schema):
    batch: BatchOut
    items_left: int
    seconds_per_task: int
    hourly: int | None
    my_answers: int
    cap_left: int | None
    qualifies: bool
    problems: list[str]


class UploadOut(Schema):
    added: int
    items: int


class MoneyOut(Schema):
    funded: int
    rewards_paid: int
    fees_paid: int
    refunded: int
    in_escrow: int


class ProgressOut(Schema):
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


class ItemOut(Schema):
    id: int
    position: int
    data: dict[str, Any]
    html: str = Field(..., description="the item as the worker sees it (escaped HTML)")


class LeaseOut(Schema):
    id: int
    batch_id: int
    status: str
    expires_at: datetime
    seconds_left: int
    item: ItemOut
    form: list[dict[str, Any]]


class LeaseStatusOut(Schema):
    id: int
    status: str


class AnswerIn(InSchema):
    answer: dict[str, Any]
    seconds: int | None = Field(None, description="working time your program measured")


class AnswerOut(Schema):
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


class AnswerPage(Schema):
    items: list[AnswerOut]
    count: int
    page: int
    pages: int


class RewardIn(InSchema):
    reward: int


class ReasonIn(InSchema):
    reason: str


class AppealIn(InSchema):
    message: str


class NoteIn(InSchema):
    note: str = ""


class BulkReviewIn(InSchema):
    decision: Literal["approve", "reject"]
    reason: str = ""
    worker: str | None = Field(None, description="pseudonym: only this worker's answers")
    answer_ids: list[int] | None = None


class BulkReviewOut(Schema):
    changed: int


class ExcludeIn(InSchema):
    worker: str = Field(..., description="pseudonym of the worker in this batch")
    excluded: bool = True


class ExcludeOut(Schema):
    worker: str
    excluded: bool


class ResultAnswerOut(Schema):
    id: int
    worker: str = Field(..., description="pseudonym of the worker in this batch")
    answer: dict[str, Any]
    status: str
    counted: bool = Field(..., description="false for answers of excluded workers")


class ResultOut(Schema):
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


class ResultPage(Schema):
    items: list[ResultOut]
    count: int
    page: int
    pages: int


class WorkerOut(Schema):
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
