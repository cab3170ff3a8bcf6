"""The calibration of a batch's confidence, measured on its test questions.

Test (gold) questions are combined like every other item, from the workers' answers, so the
share of them whose combined answer matches the known answer, per band of stated
confidence, says whether "95 %" means 95 %: the reliability table on the results page.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Batch, Item
from ..quality import gold_matches

# Bands of stated confidence, lower bounds; the last band runs to 100 % inclusive.
BANDS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)


@dataclass(frozen=True)
class ReliabilityRow:
    low: float
    high: float
    items: int
    stated: float  # mean stated confidence in the band
    observed: float  # share of those test questions combined right


def batch_reliability(*, batch: Batch) -> list[ReliabilityRow]:
    """One row per band that holds combined test questions (one query); empty without."""
    rows = Item.objects.filter(
        batch=batch, is_gold=True, confidence__isnull=False, aggregated_answer__isnull=False
    ).values_list("confidence", "gold_answer", "aggregated_answer")
    bands: dict[int, list[tuple[float, bool]]] = {}
    for confidence, gold, combined in rows:
        if not gold or confidence is None or combined is None:
            continue
        band = max(k for k, low in enumerate(BANDS) if confidence >= low)
        bands.setdefault(band, []).append((confidence, gold_matches(batch.form, gold, combined)))
    out = []
    for band in sorted(bands):
        entries = bands[band]
        high = BANDS[band + 1] if band + 1 < len(BANDS) else 1.0
        out.append(
            ReliabilityRow(
                low=BANDS[band],
                high=high,
                items=len(entries),
                stated=sum(c for c, _ok in entries) / len(entries),
                observed=sum(ok for _c, ok in entries) / len(entries),
            )
        )
    return out
