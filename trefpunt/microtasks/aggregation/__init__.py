"""Answer aggregation for microtask batches: pure numpy, no Django.

Answers are three parallel integer arrays — ``items``, ``workers``, ``labels`` — plus the
sizes ``n_items``, ``n_workers``, ``n_classes`` (:func:`encode_answers` builds them from
arbitrary ids and label strings). Every categorical method returns a
:class:`CategoricalResult` with, per item, the label, its confidence and the posterior, and,
per worker, the confusion matrix and skill.

Degenerate input never crashes or yields NaN. The contract, shared by all methods:

- an item nobody answered: label ``-1`` (decoded: ``None``), confidence ``0.0``, an all-zero
  posterior row — except a gold item, which keeps its gold label with confidence ``1.0``;
- no answers at all: every item as above; workers get the uniform confusion matrix;
- one class: every answered item gets label ``0`` with confidence ``1.0``;
- one item, a worker with a single answer: estimates are smoothed with a Jeffreys
  pseudo-count, so they are finite and move towards "uninformative";
- one worker: majority vote follows the worker; Dawid-Skene cannot tell a good worker from a
  contrary one without overlap, so its confidences stay near the class prior (documented in
  :mod:`.dawid_skene`);
- ties: the lowest label index wins and ``tied`` is set for the item;
- numeric answers: an unanswered item has value ``0.0`` with ``n_answers == 0``;
- invalid input (an index out of range, arrays of different lengths, negative weights,
  non-finite numbers) raises ``ValueError`` naming the argument.
"""

from .adaptive import (
    confusion_for_updates,
    item_is_complete,
    item_posterior,
    items_complete,
    pooled_confusion,
    posterior_update,
)
from .dawid_skene import dawid_skene, one_coin_dawid_skene
from .encoding import EncodedAnswers, decode_labels, encode_answers
from .gold import GoldScores, gold_scores, weights_from_gold, wilson_interval
from .majority import (
    accuracy_to_weight,
    agreement_weights,
    majority_vote,
    weighted_majority_vote,
)
from .numeric import median, trimmed_mean
from .replay import ReplayResult, replay_adaptive
from .results import CategoricalResult, NumericResult, TextResult
from .spam import SpammerReport, detect_spammers, spammer_scores
from .text import normalize_text, text_majority

__all__ = [
    "CategoricalResult",
    "EncodedAnswers",
    "GoldScores",
    "NumericResult",
    "ReplayResult",
    "SpammerReport",
    "TextResult",
    "accuracy_to_weight",
    "agreement_weights",
    "confusion_for_updates",
    "dawid_skene",
    "decode_labels",
    "detect_spammers",
    "encode_answers",
    "gold_scores",
    "item_is_complete",
    "item_posterior",
    "items_complete",
    "majority_vote",
    "median",
    "normalize_text",
    "one_coin_dawid_skene",
    "pooled_confusion",
    "posterior_update",
    "replay_adaptive",
    "spammer_scores",
    "text_majority",
    "trimmed_mean",
    "weighted_majority_vote",
    "weights_from_gold",
    "wilson_interval",
]
