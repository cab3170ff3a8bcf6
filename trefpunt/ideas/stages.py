"""The state machines of idea calls (``core.states``): the call's fixed lifecycle, an idea's
status (active → merged | taken down), and the call's own stage pipeline.

Stages are the client's: renamed and added per call. A stage move is still "from A to B if
still A" as one conditional update with the event recorded, so ``StageMachine`` is the core
``StateMachine`` over ``Idea.stage_id`` with the call's stages as its states: any stage may
move to any other, except back to the entry stage (an answer is never taken back)."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trefpunt.core.states import StateMachine

from .models import Idea, IdeaCall, Stage

C = IdeaCall.Status

CALL_STATES: StateMachine[IdeaCall] = StateMachine(
    IdeaCall,
    subject="ideacall",
    moves={
        C.OPEN: {C.DRAFT},
        C.VOTING: {C.OPEN},
        C.CLOSED: {C.OPEN, C.VOTING},
    },
    refusal=gettext_lazy("You cannot %(action)s: the idea call is %(status)s."),
)

IDEA_STATES: StateMachine[Idea] = StateMachine(
    Idea,
    subject="idea",
    moves={
        Idea.Status.MERGED: {Idea.Status.ACTIVE},
        Idea.Status.HIDDEN: {Idea.Status.ACTIVE},
    },
    refusal=gettext_lazy("You cannot %(action)s: the idea is %(status)s."),
)

# key, kind: the pipeline every new call starts with (the client renames and adds).
DEFAULT_STAGES: list[tuple[str, str]] = [
    ("submitted", Stage.Kind.NEW),
    ("under_review", Stage.Kind.ACTIVE),
    ("selected", Stage.Kind.ACCEPTED),
    ("in_progress", Stage.Kind.ACTIVE),
    ("done", Stage.Kind.ACCEPTED),
    ("not_selected", Stage.Kind.DECLINED),
]
REWARD_STAGE_KEY = "selected"
NOT_SELECTED_KEY = "not_selected"


def default_stage_label(key: str) -> str:
    labels = {
        "submitted": _("Submitted"),
        "under_review": _("Under review"),
        "selected": _("Selected"),
        "in_progress": _("In progress"),
        "done": _("Done"),
        "not_selected": _("Not selected"),
    }
    return str(labels.get(key, key))


class StageMachine(StateMachine[Idea]):
    """Moves between the stages of one call, named in the reader's language."""

    def __init__(self, stages: Sequence[Stage], *, from_stage: Stage | None = None) -> None:
        """With ``from_stage``, a move happens only from that stage (the one the client saw
        when deciding); without, from any other stage."""
        ids = {str(s.pk) for s in stages}
        entry = {str(s.pk) for s in stages if s.kind == Stage.Kind.NEW}
        sources = {str(from_stage.pk)} if from_stage is not None else ids
        self._names = {str(s.pk): s.label for s in stages}
        super().__init__(
            Idea,
            subject="idea",
            field="stage_id",
            moves={to: sources - {to} for to in ids - entry},
            refusal=gettext_lazy("You cannot %(action)s: the idea is now in stage “%(status)s”."),
        )

    def label(self, state: str) -> str:
        return self._names.get(str(state), str(state))
