"""A person's track record: figures each mode computes from its own rows (``TrackPart``), never
typed in by the person. The profile, the directory, the API and proposals all read it here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .registry import track_parts


@dataclass(frozen=True)
class TrackRecord:
    figures: Mapping[str, Any] = field(default_factory=dict)
    score: int = 0

    def get(self, name: str, default: Any = 0) -> Any:
        return self.figures.get(name, default)

    @property
    def is_empty(self) -> bool:
        return not any(v for v in self.figures.values())


def track_records(
    user_ids: Sequence[int], *, show_private: Mapping[int, bool] | None = None
) -> dict[int, TrackRecord]:
    """Track records of many people in one query per mode. Figures a mode marks private are
    left out unless ``show_private[user_id]``."""
    ids = list(dict.fromkeys(int(i) for i in user_ids))
    figures: dict[int, dict[str, Any]] = {uid: {} for uid in ids}
    scores: dict[int, int] = dict.fromkeys(ids, 0)
    if not ids:
        return {}
    for part in track_parts():
        computed = part.compute(ids)
        for uid in ids:
            mine = dict(computed.get(uid, {}))
            scores[uid] += int(part.score(mine))
            if part.private and not (show_private or {}).get(uid, False):
                mine = {k: v for k, v in mine.items() if k not in part.private}
            figures[uid].update(mine)
    return {uid: TrackRecord(figures=figures[uid], score=scores[uid]) for uid in ids}
