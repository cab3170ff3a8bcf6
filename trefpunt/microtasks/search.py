"""How microtask batches index (``discovery.registry``): open batches only, with what an answer
pays, the effective hourly pay and the instructions. Drafts, paused and closed batches are not
indexed (there is no work in them)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy

from trefpunt.core.markdown import markdown_text
from trefpunt.discovery.registry import Document, SearchKind, register, same
from trefpunt.discovery.text import guess_language

from .models import Batch
from .selectors.rules import hourly_cents


def batches_public() -> QuerySet[Batch]:
    """The rule: open batches (visitors may browse them; working needs an account)."""
    return Batch.objects.filter(status=Batch.Status.OPEN).select_related(
        "organisation", "owner__profile"
    )


def batch_document(batch: Batch) -> Document:
    if batch.organisation_id:
        by = {"name": batch.organisation.name, "org": batch.organisation.slug}  # type: ignore[union-attr]
    else:
        profile = getattr(batch.owner, "profile", None)
        by = {"name": profile.display_name, "handle": profile.handle} if profile else {"name": ""}
    seconds = batch.median_seconds or batch.estimated_seconds
    hourly = hourly_cents(reward=batch.reward, seconds=seconds)
    languages = list(batch.languages or []) or [
        lang for lang in [guess_language(f"{batch.title} {batch.instructions}")] if lang
    ]
    return Document(
        title=batch.title,
        body=markdown_text(batch.instructions),
        names=by["name"],
        status=batch.status,
        languages=languages,
        amount=hourly,
        currency=batch.currency,
        url_key=str(batch.pk),
        detail={
            "by": by,
            "reward": batch.reward,
            "hourly": hourly,
            "seconds": seconds,
        },
        score=hourly or 0,
        published_at=batch.published_at,
        updated_at=batch.published_at or batch.created_at,
    )


def register_search() -> None:
    from trefpunt.accounts.models import Organisation

    register(
        SearchKind(
            name="batch",
            label=gettext_lazy("Microtasks"),
            model=Batch,
            public=batches_public,
            document=batch_document,
            url=lambda key: reverse("microtasks:batch_detail", kwargs={"pk": int(key)}),
            events={"batch": same},
            follows={
                Organisation: lambda org: Batch.objects.filter(organisation=org).values_list(
                    "pk", flat=True
                ),
            },
            status_labels=lambda: {str(k): str(v) for k, v in Batch.Status.choices},
            order=40,
        )
    )


def track_compute(user_ids: object) -> dict[int, dict[str, object]]:
    """Answers reviewed and the share approved; gold questions answered and the share right.
    Both are private unless the worker shows them (``ProfileListing.shows_work_stats``)."""
    from django.db.models import Count, Q, Sum

    from .models import Answer, BatchWorker

    approved = [Answer.Status.APPROVED, Answer.Status.OVERTURNED]
    reviewed = [*approved, Answer.Status.REJECTED, Answer.Status.UPHELD]
    answers = (
        Answer.objects.filter(worker_id__in=user_ids, status__in=reviewed)  # type: ignore[misc]
        .values("worker_id")
        .annotate(n=Count("pk"), ok=Count("pk", filter=Q(status__in=approved)))
        .order_by()
    )
    gold = (
        BatchWorker.objects.filter(worker_id__in=user_ids)  # type: ignore[misc]
        .values("worker_id")
        .annotate(n=Sum("gold_answers"), ok=Sum("gold_correct"))
        .order_by()
    )
    out: dict[int, dict[str, object]] = {}
    for r in answers:
        out.setdefault(r["worker_id"], {}).update(
            answers_reviewed=r["n"], approval_rate=round(100 * r["ok"] / r["n"]) if r["n"] else None
        )
    for r in gold:
        if r["n"]:
            out.setdefault(r["worker_id"], {}).update(
                gold_answers=r["n"], gold_accuracy=round(100 * (r["ok"] or 0) / r["n"])
            )
    return out


def register_track_record() -> None:
    from trefpunt.discovery.registry import TrackPart, register_track

    register_track(
        TrackPart(
            name="microtasks",
            compute=track_compute,
            score=lambda f: int(f.get("answers_reviewed", 0) or 0) // 100,
            private=frozenset(
                {"answers_reviewed", "approval_rate", "gold_answers", "gold_accuracy"}
            ),
            order=40,
        )
    )
