"""Microtasks API under /api/v1/: thin endpoints over the services and selectors.

A worker's program needs only ``POST /batches/{id}/next`` (200 with a lease and its
item, 204 when nothing is left for them) and ``POST /leases/{id}/answer`` or
``/skip``; or, a page of the batch's ``page_size`` items at once, ``POST
/batches/{id}/page`` and ``POST /leases/answers`` (all the page's answers in one
transaction). Clients create, upload, publish, watch progress, review and export.
Objects the caller may not see answer 404. Money moves on ``publish``, ``reward``,
``close``, ``approve``, ``review`` and ``overturn``; each is idempotent by itself
(one journal entry per batch or answer) and also honours ``Idempotency-Key``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Query, Router, Status, UploadedFile

from trefpunt.core.api_schema import PAGE_MAX, InSchema
from trefpunt.core.types import AuthedRequest

from . import selectors, services
from .exports import export_filename, export_stream
from .models import Answer, Batch, Lease
from .rendering import item_render
from .schemas import (
    AnswerIn,
    AnswerOut,
    AnswerPage,
    AppealIn,
    AvailableBatchOut,
    BatchIn,
    BatchOut,
    BulkReviewIn,
    BulkReviewOut,
    ExcludeIn,
    ExcludeOut,
    LeaseOut,
    LeasePageOut,
    LeaseStatusOut,
    NoteIn,
    PageAnswersIn,
    PageAnswersOut,
    ProgressOut,
    ReasonIn,
    ResultPage,
    RewardIn,
    UploadOut,
    WorkerOut,
)

router = Router(tags=["microtasks"])
PAGE_SIZE = 50
PAGE_SIZE_MAX = 200


def _batch_out(access: selectors.BatchAccess) -> dict[str, Any]:
    batch, manages = access.batch, access.manages
    seconds = batch.median_seconds or batch.estimated_seconds
    return {
        "id": batch.pk,
        "url": settings.SITE_URL + reverse("microtasks:batch_detail", kwargs={"pk": batch.pk}),
        "title": batch.title,
        "instructions": batch.instructions,
        "status": batch.status,
        "pause_reason": batch.pause_reason,
        "organisation": batch.organisation.slug if batch.organisation else None,
        "form": batch.form,
        "display": batch.display,
        "reward": batch.reward,
        "currency": batch.currency,
        "min_answers": batch.min_answers,
        "max_answers": batch.max_answers,
        "estimated_seconds": batch.estimated_seconds,
        "median_seconds": batch.median_seconds,
        "hourly": selectors.hourly_cents(reward=batch.reward, seconds=seconds),
        "lease_seconds": batch.lease_seconds,
        "strategy": batch.strategy,
        "page_size": batch.page_size,
        "min_approval_rate": batch.min_approval_rate,
        "min_gold_accuracy": batch.min_gold_accuracy,
        "languages": batch.languages,
        "max_answers_per_worker": batch.max_answers_per_worker,
        "aggregation_method": batch.aggregation_method,
        "confidence_target": batch.confidence_target,
        "gold_rate": batch.gold_rate,
        "gold_feedback": batch.gold_feedback,
        "fitted_at": batch.fitted_at if manages else None,
        "created_at": batch.created_at,
        "published_at": batch.published_at,
        "closed_at": batch.closed_at,
        "manages": manages,
        "can": access.capabilities(),
    }


def _managed_out(request: AuthedRequest, batch: Batch) -> dict[str, Any]:
    return _batch_out(selectors.batch_access(batch, request.user, manages=True))


def _lease_out(lease: Lease, batch: Batch) -> dict[str, Any]:
    item = lease.item
    left = int((lease.expires_at - timezone.now()).total_seconds())
    return {
        "id": lease.pk,
        "batch_id": batch.pk,
        "status": lease.status,
        "expires_at": lease.expires_at,
        "seconds_left": max(0, left),
        "item": {
            "id": item.pk,
            "position": item.position,
            "data": item.data,
            "html": str(item_render(batch.display, item.data)),
        },
        "form": batch.form,
    }


def _answer_out(
    answer: Answer,
    *,
    reward: int,
    access: selectors.AnswerAccess,
    worker: str | None = None,
    expected: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "can": access.capabilities(),
        "expected_answer": expected,
        "id": answer.pk,
        "batch_id": answer.batch_id,
        "item_id": answer.item_id,
        "lease_id": answer.lease_id,
        "worker": worker,
        "answer": answer.data,
        "status": answer.status,
        "working_seconds": answer.working_seconds,
        "reward": reward,
        "paid_reward": answer.paid_reward,
        "reject_reason": answer.reject_reason,
        "appeal_message": answer.appeal_message,
        "appeal_note": answer.appeal_note,
        "appeal_until": selectors.appeal_deadline(answer),
        "created_at": answer.created_at,
    }


def _page(number: int, size: int, count: int) -> tuple[int, int, int]:
    size = max(1, min(size, PAGE_SIZE_MAX))
    pages = max(1, math.ceil(count / size))
    return max(1, min(number, pages)), pages, size


def _manager_batch(request: AuthedRequest, batch_id: int) -> Batch:
    return selectors.batch_for_manager(batch_id=batch_id, user=request.user)


# --- batches -------------------------------------------------------------------------------


class BatchQuery(InSchema):
    role: Literal["worker", "client"] = "worker"


@router.get(
    "/batches",
    response=list[AvailableBatchOut] | list[BatchOut],
    summary="Batches to work on (role=worker, with qualification) or your own (role=client)",
)
def batch_list_api(request: AuthedRequest, filters: Query[BatchQuery]) -> list[dict[str, Any]]:
    if filters.role == "client":
        return [
            _managed_out(request, b)
            for b in selectors.batches_for_client(user=request.user)[:PAGE_SIZE_MAX]
        ]
    return [
        {
            "batch": _batch_out(row.access),
            "items_left": row.items_left,
            "seconds_per_task": row.seconds_per_task,
            "hourly": row.hourly,
            "my_answers": row.my_answers,
            "cap_left": row.cap_left,
            "qualifies": row.qualifies,
            "problems": row.problems,
        }
        for row in selectors.batches_available(user=request.user)
    ]


@router.post("/batches", response={201: BatchOut}, summary="Create a draft batch")
def batch_create_api(request: AuthedRequest, payload: BatchIn) -> Status[dict[str, Any]]:
    values = payload.dict()
    organisation = values.pop("organisation")
    batch = services.batch_create(user=request.user, organisation_slug=organisation, **values)
    return Status(201, _managed_out(request, batch))


@router.get("/batches/{batch_id}", response=BatchOut, summary="Get a batch")
def batch_get_api(request: AuthedRequest, batch_id: int) -> dict[str, Any]:
    managed = selectors.batches_managed_by(user=request.user).filter(pk=batch_id).first()
    if managed is not None:
        return _managed_out(request, managed)
    batch = selectors.batch_for_worker(batch_id=batch_id)
    return _batch_out(selectors.batch_access(batch, request.user, manages=False, with_lease=False))


@router.put("/batches/{batch_id}", response=BatchOut, summary="Replace a draft's definition")
def batch_update_api(request: AuthedRequest, batch_id: int, payload: BatchIn) -> dict[str, Any]:
    values = payload.dict()
    organisation = values.pop("organisation")
    batch = services.batch_update(
        batch_id=batch_id, user=request.user, organisation_slug=organisation, **values
    )
    return _managed_out(request, batch)


@router.post(
    "/batches/{batch_id}/items",
    response={201: UploadOut},
    summary="Upload items (CSV with a header row, or JSON Lines); all or nothing",
)
def items_upload_api(
    request: AuthedRequest, batch_id: int, file: File[UploadedFile]
) -> Status[dict[str, int]]:
    content = file.read()
    added = services.items_upload(
        batch_id=batch_id, user=request.user, content=content, filename=file.name or ""
    )
    total = _manager_batch(request, batch_id).items.count()
    return Status(201, {"added": added, "items": total})


@router.post(
    "/batches/{batch_id}/publish",
    response=BatchOut,
    summary="Publish: move items × max answers × (reward + fee) into escrow",
)
def batch_publish_api(request: AuthedRequest, batch_id: int) -> dict[str, Any]:
    return _managed_out(request, services.batch_publish(batch_id=batch_id, user=request.user))


@router.post("/batches/{batch_id}/pause", response=BatchOut, summary="Stop handing out items")
def batch_pause_api(request: AuthedRequest, batch_id: int) -> dict[str, Any]:
    return _managed_out(request, services.batch_pause(batch_id=batch_id, user=request.user))


@router.post("/batches/{batch_id}/resume", response=BatchOut, summary="Hand out items again")
def batch_resume_api(request: AuthedRequest, batch_id: int) -> dict[str, Any]:
    return _managed_out(request, services.batch_resume(batch_id=batch_id, user=request.user))


@router.post(
    "/batches/{batch_id}/close",
    response=BatchOut,
    summary="Close: stop, and refund what the escrow no longer needs",
)
def batch_close_api(request: AuthedRequest, batch_id: int) -> dict[str, Any]:
    return _managed_out(request, services.batch_close(batch_id=batch_id, user=request.user))


@router.post(
    "/batches/{batch_id}/reward",
    response=BatchOut,
    summary="Raise the reward; tops up the escrow and answers already paid",
)
def batch_reward_api(request: AuthedRequest, batch_id: int, payload: RewardIn) -> dict[str, Any]:
    batch = services.batch_reward_raise(batch_id=batch_id, user=request.user, reward=payload.reward)
    return _managed_out(request, batch)


@router.get("/batches/{batch_id}/progress", response=ProgressOut, summary="Progress and spend")
def batch_progress_api(request: AuthedRequest, batch_id: int) -> dict[str, Any]:
    batch = _manager_batch(request, batch_id)
    progress = selectors.batch_progress(batch=batch)
    money = progress.money
    return {
        "status": batch.status,
        "items": progress.items,
        "items_done": progress.items_done,
        "answers": progress.answers,
        "answers_target": progress.answers_target,
        "pending_review": progress.pending_review,
        "appeals": progress.appeals,
        "approved": progress.approved,
        "rejected": progress.rejected,
        "live_leases": progress.live_leases,
        "median_seconds": progress.median_seconds,
        "hourly": progress.hourly,
        "answers_last_hour": progress.answers_last_hour,
        "eta_seconds": int(progress.eta.total_seconds()) if progress.eta else None,
        "money": {
            "funded": money.funded,
            "rewards_paid": money.rewards_paid,
            "fees_paid": money.fees_paid,
            "refunded": money.refunded,
            "in_escrow": money.in_escrow,
        },
    }


class ExportQuery(InSchema):
    format: Literal["csv", "jsonl"] = "csv"


@router.get(
    "/batches/{batch_id}/export",
    summary="Results: item data, aggregated answer and confidence, raw answers (pseudonymised)",
)
def batch_export_api(
    request: AuthedRequest, batch_id: int, query: Query[ExportQuery]
) -> HttpResponse:
    batch = _manager_batch(request, batch_id)
    content_type = "text/csv" if query.format == "csv" else "application/x-ndjson"
    response = StreamingHttpResponse(
        export_stream(batch, query.format), content_type=f"{content_type}; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(batch, query.format)}"'
    )
    return response  # type: ignore[return-value]


class AnswerQuery(InSchema):
    status: str = ""
    worker: str = ""
    page: int = Field(1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, le=PAGE_SIZE_MAX)


@router.get("/batches/{batch_id}/answers", response=AnswerPage, summary="Answers of a batch")
def batch_answers_api(
    request: AuthedRequest, batch_id: int, filters: Query[AnswerQuery]
) -> dict[str, Any]:
    batch = _manager_batch(request, batch_id)
    answers = selectors.answers_for_review(batch=batch, status=filters.status or None)
    if filters.worker:
        worker_id = selectors.worker_id_for_pseudonym(batch=batch, pseudonym=filters.worker)
        answers = answers.filter(worker_id=worker_id or 0)
    count = answers.count()
    page, pages, size = _page(filters.page, filters.page_size, count)
    rows = answers[(page - 1) * size : page * size]
    now = timezone.now()
    return {
        "items": [
            _answer_out(
                a,
                reward=batch.reward,
                access=selectors.answer_access(a, manages=True, now=now),
                worker=selectors.worker_pseudonym(batch_id=batch.pk, user_id=a.worker_id),
            )
            for a in rows
        ],
        "count": count,
        "page": page,
        "pages": pages,
    }


@router.post(
    "/batches/{batch_id}/review",
    response=BulkReviewOut,
    summary="Approve or reject many pending answers (one worker's, given ids, or all)",
)
def batch_review_api(
    request: AuthedRequest, batch_id: int, payload: BulkReviewIn
) -> dict[str, int]:
    changed = services.answers_review_bulk(
        batch_id=batch_id,
        user=request.user,
        decision=payload.decision,
        reason=payload.reason,
        pseudonym=payload.worker,
        answer_ids=payload.answer_ids,
    )
    return {"changed": changed}


@router.post(
    "/batches/{batch_id}/exclude", response=ExcludeOut, summary="Exclude a worker from a batch"
)
def batch_exclude_api(request: AuthedRequest, batch_id: int, payload: ExcludeIn) -> dict[str, Any]:
    row = services.batch_worker_exclude(
        batch_id=batch_id, user=request.user, pseudonym=payload.worker, excluded=payload.excluded
    )
    return {"worker": payload.worker, "excluded": row.excluded}


class ResultQuery(InSchema):
    show: Literal["all", "uncertain", "review", "gold"] = "all"
    page: int = Field(1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, le=PAGE_SIZE_MAX)


@router.get(
    "/batches/{batch_id}/results",
    response=ResultPage,
    summary="Combined answers with confidence and agreement, least certain first",
)
def batch_results_api(
    request: AuthedRequest, batch_id: int, filters: Query[ResultQuery]
) -> dict[str, Any]:
    batch = _manager_batch(request, batch_id)
    items = selectors.batch_results(batch=batch, show=filters.show)
    count = items.count()
    page, pages, size = _page(filters.page, filters.page_size, count)
    excluded = selectors.batch_excluded_workers(batch=batch)
    rows = []
    for item in items[(page - 1) * size : page * size]:
        details = item.aggregate_details or {}
        rows.append(
            {
                "item_id": item.pk,
                "position": item.position,
                "data": item.data,
                "is_gold": item.is_gold,
                "gold_answer": item.gold_answer,
                "status": item.status,
                "answers_count": item.answers_count,
                "answers_target": item.answers_target,
                "aggregated_answer": item.aggregated_answer,
                "confidence": item.confidence,
                "agreement": details.get("agreement"),
                "details": details.get("fields"),
                "answers": [
                    {
                        "id": a.pk,
                        "worker": selectors.worker_pseudonym(
                            batch_id=batch.pk, user_id=a.worker_id
                        ),
                        "answer": a.data,
                        "status": a.status,
                        "counted": a.worker_id not in excluded,
                    }
                    for a in sorted(item.answers.all(), key=lambda a: (a.created_at, a.pk))
                ],
            }
        )
    return {"items": rows, "count": count, "page": page, "pages": pages}


def _worker_out(row: dict[str, Any]) -> dict[str, Any]:
    interval = row["gold_interval"]
    return {
        "worker": row["pseudonym"],
        "answers": row["answers"],
        "approved": row["approved"],
        "rejected": row["rejected"],
        "pending": row["pending"],
        "gold_answers": row["gold_answers"],
        "gold_correct": row["gold_correct"],
        "gold_accuracy": row["gold_accuracy"],
        "gold_interval": list(interval) if interval else None,
        "skill": row["skill"],
        "spam_score": row["spam_score"],
        "flagged_spammer": row["flagged_spammer"],
        "excluded": row["excluded"],
    }


@router.get(
    "/batches/{batch_id}/workers",
    response=list[WorkerOut],
    summary="Worker quality: answers, gold accuracy with interval, skill, spammer flag",
)
def batch_workers_api(request: AuthedRequest, batch_id: int) -> list[dict[str, Any]]:
    batch = _manager_batch(request, batch_id)
    return [_worker_out(row) for row in selectors.batch_workers(batch=batch)]


def _worker_set_excluded(
    request: AuthedRequest, batch_id: int, worker: str, excluded: bool
) -> dict[str, Any]:
    services.batch_worker_exclude(
        batch_id=batch_id, user=request.user, pseudonym=worker, excluded=excluded
    )
    batch = _manager_batch(request, batch_id)
    row = next(r for r in selectors.batch_workers(batch=batch) if r["pseudonym"] == worker)
    return _worker_out(row)


@router.post(
    "/batches/{batch_id}/workers/{worker}/exclude",
    response=WorkerOut,
    summary="Exclude a worker: no more items, answers leave the combined answers (idempotent)",
)
def batch_worker_exclude_api(request: AuthedRequest, batch_id: int, worker: str) -> dict[str, Any]:
    return _worker_set_excluded(request, batch_id, worker, True)


@router.post(
    "/batches/{batch_id}/workers/{worker}/include",
    response=WorkerOut,
    summary="Let an excluded worker back in; their answers count again (idempotent)",
)
def batch_worker_include_api(request: AuthedRequest, batch_id: int, worker: str) -> dict[str, Any]:
    return _worker_set_excluded(request, batch_id, worker, False)


# --- working -------------------------------------------------------------------------------


@router.post(
    "/batches/{batch_id}/next",
    response={200: LeaseOut, 204: None},
    summary="Claim the next item (or get the lease you hold); 204 when nothing is left for you",
)
def batch_next_api(request: AuthedRequest, batch_id: int) -> Any:
    lease = services.lease_claim(batch_id=batch_id, worker=request.user)
    if lease is None:
        return Status(204, None)
    return _lease_out(lease, lease.batch)


@router.post(
    "/batches/{batch_id}/page",
    response=LeasePageOut,
    summary="Claim a page of up to the batch's page_size items (or get the page you hold)",
)
def batch_page_api(request: AuthedRequest, batch_id: int) -> dict[str, Any]:
    batch = selectors.batch_for_work(batch_id=batch_id)
    leases = services.lease_claim_page(batch_id=batch.pk, worker=request.user, size=batch.page_size)
    return {
        "batch_id": batch.pk,
        "page_size": batch.page_size,
        "leases": [_lease_out(lease, batch) for lease in leases],
    }


def _own_answer_out(answer: Answer) -> dict[str, Any]:
    """An answer as its worker sees it right after giving it (with the expected answer of a
    test question when the batch tells it)."""
    batch = answer.batch
    item = answer.item
    expected = item.gold_answer if batch.gold_feedback and item.is_gold else None
    access = selectors.answer_access(answer, worker=True)
    return _answer_out(answer, reward=batch.reward, access=access, expected=expected)


@router.post(
    "/leases/{lease_id}/answer",
    response={201: AnswerOut},
    summary="Answer the item of your live lease",
)
def lease_answer_api(
    request: AuthedRequest, lease_id: int, payload: AnswerIn
) -> Status[dict[str, Any]]:
    answer = services.lease_answer(
        lease_id=lease_id, worker=request.user, answer=payload.answer, seconds=payload.seconds
    )
    return Status(201, _own_answer_out(answer))


@router.post(
    "/leases/answers",
    response={201: PageAnswersOut},
    summary="Answer a page: one answer per live lease, all stored in one transaction or none",
)
def lease_answer_page_api(request: AuthedRequest, payload: PageAnswersIn) -> Status[dict[str, Any]]:
    answers = services.lease_answer_page(
        worker=request.user,
        answers=[(row.lease, row.answer) for row in payload.answers],
        seconds=payload.seconds,
    )
    return Status(201, {"answers": [_own_answer_out(answer) for answer in answers]})


@router.post(
    "/leases/{lease_id}/skip",
    response=LeaseStatusOut,
    summary="Give the item back; it is not offered to you again",
)
def lease_skip_api(request: AuthedRequest, lease_id: int) -> dict[str, Any]:
    lease = services.lease_skip(lease_id=lease_id, worker=request.user)
    return {"id": lease.pk, "status": lease.status}


class HistoryQuery(InSchema):
    page: int = Field(1, le=PAGE_MAX)
    page_size: int = Field(PAGE_SIZE, le=PAGE_SIZE_MAX)


@router.get("/answers", response=AnswerPage, summary="Your answers, newest first")
def answer_history_api(request: AuthedRequest, filters: Query[HistoryQuery]) -> dict[str, Any]:
    answers = selectors.answers_of_worker(user=request.user)
    count = answers.count()
    page, pages, size = _page(filters.page, filters.page_size, count)
    now = timezone.now()
    return {
        "items": [
            _answer_out(
                a, reward=a.batch.reward, access=selectors.answer_access(a, worker=True, now=now)
            )
            for a in answers[(page - 1) * size : page * size]
        ],
        "count": count,
        "page": page,
        "pages": pages,
    }


# --- review ---------------------------------------------------------------------------------


def _reviewed(request: AuthedRequest, answer: Answer) -> dict[str, Any]:
    answer.refresh_from_db()
    batch = Batch.objects.get(pk=answer.batch_id)
    return _answer_out(
        answer,
        reward=batch.reward,
        access=selectors.answer_access(answer, manages=True),
        worker=selectors.worker_pseudonym(batch_id=batch.pk, user_id=answer.worker_id),
    )


@router.post("/answers/{answer_id}/approve", response=AnswerOut, summary="Approve and pay")
def answer_approve_api(request: AuthedRequest, answer_id: int) -> dict[str, Any]:
    return _reviewed(request, services.answer_approve(answer_id=answer_id, user=request.user))


@router.post("/answers/{answer_id}/reject", response=AnswerOut, summary="Reject with a reason")
def answer_reject_api(request: AuthedRequest, answer_id: int, payload: ReasonIn) -> dict[str, Any]:
    answer = services.answer_reject(answer_id=answer_id, user=request.user, reason=payload.reason)
    return _reviewed(request, answer)


@router.post("/answers/{answer_id}/appeal", response=AnswerOut, summary="Appeal a rejection once")
def answer_appeal_api(request: AuthedRequest, answer_id: int, payload: AppealIn) -> dict[str, Any]:
    answer = services.answer_appeal(
        answer_id=answer_id, worker=request.user, message=payload.message
    )
    return _answer_out(
        answer, reward=answer.batch.reward, access=selectors.answer_access(answer, worker=True)
    )


@router.post(
    "/answers/{answer_id}/overturn", response=AnswerOut, summary="Decide an appeal: approve, pay"
)
def answer_overturn_api(request: AuthedRequest, answer_id: int, payload: NoteIn) -> dict[str, Any]:
    answer = services.appeal_decide(
        answer_id=answer_id, user=request.user, overturn=True, note=payload.note
    )
    return _reviewed(request, answer)


@router.post(
    "/answers/{answer_id}/uphold", response=AnswerOut, summary="Decide an appeal: keep rejection"
)
def answer_uphold_api(request: AuthedRequest, answer_id: int, payload: NoteIn) -> dict[str, Any]:
    answer = services.appeal_decide(
        answer_id=answer_id, user=request.user, overturn=False, note=payload.note
    )
    return _reviewed(request, answer)
