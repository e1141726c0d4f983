"""Extreme multi-label streams: a topic model over a label taxonomy, 10^4-10^5 labels and words.

:class:`ExtremeStream` draws sparse records from a :class:`~connectors.synthetic_topics.TopicWorld`:
Zipf label popularity, labels in topical groups, each label a sparse prototype of words, and
records that mix their labels' prototypes with background words (term frequencies,
L2-normalised); every record has at least one label. It takes the drifts of the other synthetic
streams (:class:`~connectors.synthetic_stream.Drift`; what each kind changes in a topic world is
in :mod:`connectors.synthetic_topics`), knows its change points, and tags every record with its
concept id. Memory holds ``labels × prototype`` and ``features`` arrays, never
``labels × features``; records are drawn in chunks, so it does not grow with ``n``. The
``synth:extreme?labels=...&features=...`` source spec opens one (:mod:`connectors.synthetic`).

>>> from connectors.synthetic_extreme import ExtremeStream
>>> from connectors.synthetic_stream import Drift
>>> stream = ExtremeStream(n=1000, n_labels=200, n_features=2000, seed=3,
...                        drifts=[Drift(at=501, kinds="correlation")])
>>> stream.labels[:3], stream.features[:2], stream.sparse
(['l000', 'l001', 'l002'], ['f0000', 'f0001'], True)
>>> stream.change_points
[{'t': 501, 'width': 0, 'kind': 'correlation', 'recurring': False}]
>>> records = list(stream)
>>> records[0].meta, min(len(r.y) for r in records) >= 1
({'source': 'synthetic-extreme', 'line': 1, 'concept': 0}, True)
>>> round(sum(v * v for v in records[0].x.values()), 3)
1.0
>>> len(set(stream.label_groups(0).values()))
10

"""

from __future__ import annotations

import typing

import numpy as np

from connectors.base import Record
from connectors.synthetic_stream import Drift, DriftingStream, _Phase
from connectors.synthetic_topics import TopicWorld

__all__ = ["ExtremeStream"]

CHUNK = 1024  # records drawn together; a chunk holds about CHUNK × words tokens


class ExtremeStream(DriftingStream):
    """A seeded extreme multi-label stream from a topic model over a label taxonomy.

    Parameters
    ----------
    n
        Records in the stream.
    n_labels, n_features
        Label names ``l0..`` (those that appear mid-stream included) and feature (word) names
        ``f0..``, zero-padded to equal width.
    cardinality
        Expected labels per record (>= 1): ``1 + Poisson(cardinality - 1)`` distinct labels.
    group_size
        Labels per topical group.
    prototype
        Words in each label's prototype (and in each group's vocabulary).
    shared
        Share of a prototype's words from its group's vocabulary.
    cohesion
        Probability that each further label of a record comes from its first label's group.
    skew, word_skew
        Zipf exponents of the label popularity and of the background words.
    words
        Expected tokens per record (its distinct words are its non-zero features).
    background
        Share of the tokens drawn from the background words.
    decimals
        Feature values are rounded to this many decimals (None: not rounded).
    drifts
        :class:`~connectors.synthetic_stream.Drift` objects in order.
    seed
        Same seed, same stream.
    name
        Written into every record's ``meta["source"]``.
    on_error
        Accepted for the Source protocol; a synthetic stream has no bad records.
    sparse
        Must be True: records list only their non-zero features.

    """

    def __init__(
        self, n: int, n_labels: int = 10000, n_features: int = 50000, cardinality: float = 2.7,
        group_size: int = 20, prototype: int = 30, shared: float = 0.5, cohesion: float = 0.8, skew: float = 1.0,
        word_skew: float = 1.0, words: float = 100.0, background: float = 0.5, decimals: int | None = 4,
        drifts: typing.Sequence[Drift] = (), seed: int = 0, name: str = "synthetic-extreme",
        on_error: str = "raise", sparse: bool = True,
    ):
        if not sparse:
            raise ValueError("an extreme stream is always sparse (records list their non-zero features only)")
        super().__init__(n, n_labels, n_features, drifts, seed, name, on_error, sparse=True)
        self._build(lambda rng, inactive: TopicWorld(
            n_labels, n_features, rng, cardinality=cardinality, group_size=group_size, prototype=prototype,
            shared=shared, cohesion=cohesion, skew=skew, word_skew=word_skew, words=words, background=background,
            decimals=decimals, inactive=inactive,
        ))

    def label_groups(self, concept: int) -> dict:
        """Label name -> its topical group in ``concept`` (the taxonomy the records follow)."""
        groups = self.world.groups[self._state(concept).groups]
        return dict(zip(self.labels, groups.tolist()))

    def _chunk_size(self) -> int:
        return CHUNK

    def _records(self, rng, phase: _Phase, ts: np.ndarray) -> typing.Iterator[Record]:
        beta = self._transition_weights(rng, phase, ts)
        world = self.world
        label_ids = world.draw_labels(rng, phase.src, phase.dst, beta)
        rows, words, values = world.draw_words(rng, phase.src, phase.dst, beta, label_ids)
        bounds = np.searchsorted(rows, np.arange(len(ts) + 1)).tolist()
        words, values = words.tolist(), values.tolist()
        concepts = self._concept_ids(phase, beta)
        labels, features, name = self.labels, self.features, self.name
        for i, t in enumerate(ts.tolist()):
            a, b = bounds[i], bounds[i + 1]
            x = {features[j]: v for j, v in zip(words[a:b], values[a:b])}
            y = frozenset(labels[j] for j in label_ids[i].tolist())
            yield Record(x, y, {"source": name, "line": t, "concept": concepts[i]})
