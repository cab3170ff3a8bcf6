"""Similar ideas: TF-IDF over stemmed words and character 4-grams, cosine similarity.

Why this method (and no package): ideas are short texts in Dutch and English, often with
Dutch compounds ("verpakkingsafval" vs "afval van verpakkingen") and inflections
("reusable cups" vs "reuse a cup"). Character n-grams inside each word match parts of
compounds and inflected forms in both languages without a language-specific stemmer;
whole stemmed words add the precision of exact word matches; TF-IDF weighs words by how
rare they are *in this call* (a packaging call says "packaging" in every idea, so it counts
for little). It runs on CPU in a few milliseconds with numpy, needs no model download and
no network (embedding models would mean a large package and weights to fetch). MinHash
would estimate plain Jaccard overlap, which ignores term rarity; BM25 ranks documents for
a keyword query, whereas here the query is a whole idea — cosine over TF-IDF is the
symmetric measure for "these two texts say the same".

The features of every idea are computed when it is written and stored on the row
(``Idea.features``: hashed feature ids + term counts), so a suggestion never tokenises the
call's ideas. The index of a call (feature → ideas, as compressed sparse columns) is built
from those rows and kept per process, keyed by a signature of the call's active ideas read
from the database on every request (count, id sum, last indexed): a stale index is never
used (ideas posted or edited since it was built are scored beside it, see
``selectors/similar.py``), and several processes each keep their own (nothing is shared in
memory).

``SUGGEST_MIN_SCORE``: suggestions scoring below it are not shown. The paraphrase fixture
test (``tests/test_similarity.py``) checks that paraphrases land in the top 3 and that
unrelated ideas stay below it.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SUGGEST_MIN_SCORE = 0.18
SUGGEST_LIMIT = 5
FEATURE_BITS = 20
_MASK = (1 << FEATURE_BITS) - 1
NGRAM = 4
# The title says what the idea is; it counts as much as this many copies of its words.
TITLE_WEIGHT = 2
DESCRIPTION_CHARS = 3000

_WORD = re.compile(r"[a-z0-9]+")
_STOP_EN = (
    "a an and are as at be but by can could do for from has have how i if in into is it "
    "its just like make more most my no not of on or our so than that the their them then "
    "there these they this to too up us was we what when where which who why will with "
    "would you your about all also any been get should some very"
)
_STOP_NL = (
    "aan al als bij dan dat de deze die dit door een en er het hoe ik in is je jij kan "
    "kunnen maar meer met na naar niet nog of om onze ook op over te tot uit van veel voor "
    "was wat we wel wij worden wordt zijn zo zou zodat hun ons geen elke onder mijn"
)
STOPWORDS = frozenset(_STOP_EN.split() + _STOP_NL.split())
# Longest first; one suffix is taken off, and a stem keeps at least three letters.
SUFFIXES = (
    "ations", "ation", "ingen", "heden", "ments", "ment", "ness", "heid", "lijke", "lijk",
    "ings", "ing", "ies", "ied", "ers", "tjes", "tje", "jes", "en", "er", "ed", "es", "ly",
    "je", "e", "s",
)  # fmt: skip


def _fold(text: str) -> str:
    """Lower case without accents: "ideeën" and "ideeen" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(_fold(text)) if len(w) > 1 and w not in STOPWORDS]


def _terms(text: str) -> Iterable[str]:
    for word in words(text):
        yield "w:" + word
        padded = f"_{word}_"
        for i in range(max(1, len(padded) - NGRAM + 1)):
            yield "g:" + padded[i : i + NGRAM]


def _hash(term: str) -> int:
    return zlib.crc32(term.encode()) & _MASK


def features(title: str, description: str = "") -> bytes:
    """The stored features of a text: sorted unique hashed term ids (uint32) followed by
    their counts (uint8, capped), ``n * 5`` bytes."""
    counts: Counter[int] = Counter()
    for term in _terms(title):
        counts[_hash(term)] += TITLE_WEIGHT
    for term in _terms((description or "")[:DESCRIPTION_CHARS]):
        counts[_hash(term)] += 1
    ids = np.array(sorted(counts), dtype="<u4")
    tfs = np.array([min(255, counts[i]) for i in ids.tolist()], dtype="u1")
    return ids.tobytes() + tfs.tobytes()


def _unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    n = len(blob) // 5
    return (
        np.frombuffer(blob, dtype="<u4", count=n),
        np.frombuffer(blob, dtype="u1", count=n, offset=4 * n),
    )


@dataclass
class Index:
    """The ideas of one call as unit TF-IDF vectors, stored by feature (CSC)."""

    ids: np.ndarray  # idea ids, by document number
    indptr: np.ndarray  # feature f's postings are docs[indptr[f]:indptr[f + 1]]
    docs: np.ndarray
    weights: np.ndarray
    idf: np.ndarray

    @classmethod
    def build(cls, rows: Sequence[tuple[int, bytes]]) -> Index:
        n = len(rows)
        unpacked = [_unpack(bytes(blob)) for _id, blob in rows]
        lengths = np.array([len(f) for f, _tf in unpacked], dtype=np.int64)
        if n and lengths.sum():
            feats = np.concatenate([f for f, _tf in unpacked]).astype(np.int64)
            tfs = np.concatenate([tf for _f, tf in unpacked]).astype(np.float32)
        else:
            feats, tfs = np.zeros(0, np.int64), np.zeros(0, np.float32)
        doc = np.repeat(np.arange(n, dtype=np.int32), lengths)
        df = np.bincount(feats, minlength=_MASK + 1)
        idf = (np.log((n + 1) / (df + 1)) + 1).astype(np.float32)
        weights = ((1 + np.log(tfs)) * idf[feats]).astype(np.float32)
        norms = np.sqrt(np.bincount(doc, weights * weights, minlength=n)).astype(np.float32)
        weights = (weights / np.where(norms > 0, norms, 1)[doc]).astype(np.float32)
        order = np.argsort(feats, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(df)])
        return cls(
            ids=np.array([i for i, _blob in rows], dtype=np.int64),
            indptr=indptr,
            docs=doc[order],
            weights=weights[order].astype(np.float32),
            idf=idf,
        )

    def score_rows(self, blob: bytes, rows: Sequence[tuple[int, bytes]]) -> list[tuple[int, float]]:
        """Cosine of the text with a few ideas that are not (yet) in the index, weighed with
        the index's idf: the ideas posted or edited since it was built."""
        if not rows:
            return []
        q = self._vector(blob)
        out = []
        for pk, other in rows:
            d = self._vector(other)
            common = set(q) & set(d)
            out.append((pk, float(sum(q[f] * d[f] for f in common))))
        return out

    def _vector(self, blob: bytes) -> dict[int, float]:
        feats, tfs = _unpack(blob)
        weights = (1 + np.log(tfs.astype(np.float32))) * self.idf[feats.astype(np.int64)]
        norm = float(np.sqrt((weights * weights).sum())) or 1.0
        return dict(zip(feats.tolist(), (weights / norm).tolist(), strict=True))

    def query(
        self, blob: bytes, *, limit: int = SUGGEST_LIMIT, exclude: Iterable[int] = ()
    ) -> list[tuple[int, float]]:
        """The ``limit`` most similar ideas as ``(idea id, cosine)``, best first."""
        feats, tfs = _unpack(blob)
        if not len(feats) or not len(self.ids):
            return []
        feats = feats.astype(np.int64)
        q = (1 + np.log(tfs.astype(np.float32))) * self.idf[feats]
        norm = float(np.sqrt((q * q).sum())) or 1.0
        q /= norm
        starts, ends = self.indptr[feats], self.indptr[feats + 1]
        hit = ends > starts
        if not hit.any():
            return []
        parts = [(s, e, w) for s, e, w in zip(starts[hit], ends[hit], q[hit], strict=True)]
        docs = np.concatenate([self.docs[s:e] for s, e, _w in parts])
        contrib = np.concatenate([self.weights[s:e] * w for s, e, w in parts])
        scores = np.bincount(docs, contrib, minlength=len(self.ids))
        excluded = set(exclude)
        take = min(len(scores), limit + len(excluded))
        best = (
            np.argpartition(-scores, take - 1)[:take]
            if take < len(scores)
            else np.arange(len(scores))
        )
        ranked = sorted(best.tolist(), key=lambda d: (-scores[d], d))
        out = [
            (int(self.ids[d]), float(scores[d]))
            for d in ranked
            if scores[d] > 0 and int(self.ids[d]) not in excluded
        ]
        return out[:limit]


def cosine(a: bytes, b: bytes) -> float:
    """Similarity of two single texts (tf only, no idf): for tests and tiny sets."""
    fa, ta = _unpack(a)
    fb, tb = _unpack(b)
    wa = dict(zip(fa.tolist(), (1 + np.log(ta.astype(float))).tolist(), strict=True))
    wb = dict(zip(fb.tolist(), (1 + np.log(tb.astype(float))).tolist(), strict=True))
    dot = sum(w * wb.get(f, 0.0) for f, w in wa.items())
    na = math.sqrt(sum(w * w for w in wa.values())) or 1.0
    nb = math.sqrt(sum(w * w for w in wb.values())) or 1.0
    return dot / (na * nb)


class IndexCache:
    """Per-process indexes by call, each with the signature it was built for."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[tuple[object, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def latest(self, call_id: int) -> Any:
        """What is cached for the call, whatever its signature (to bring up to date)."""
        with self._lock:
            found = self._items.get(call_id)
            return found[1] if found else None

    def get(self, call_id: int, signature: tuple[object, ...]) -> Any:
        with self._lock:
            found = self._items.get(call_id)
            if found is None or found[0] != signature:
                return None
            self._items.move_to_end(call_id)
            return found[1]

    def put(self, call_id: int, signature: tuple[object, ...], index: Any) -> None:
        with self._lock:
            self._items[call_id] = (signature, index)
            self._items.move_to_end(call_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


INDEXES = IndexCache()
