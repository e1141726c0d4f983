"""The model behind the extreme synthetic streams: a topic model over a label taxonomy.

Nothing here is ``labels × features`` or ``labels × labels``: a world of 10^5 labels and 10^5
words holds a few arrays of ``labels × prototype`` words and ``features`` weights.

- ``rates``, the label popularity: label ``l`` has weight ``rank(l)^-skew`` (Zipf; the ranks
  are a random permutation). A record's *first* label is drawn with probability proportional to
  its weight among the active labels (:meth:`TopicWorld.effective_rates`).
- ``groups``, the taxonomy: labels fall into topical groups of ``group_size`` (a random
  partition). A record has ``1 + Poisson(cardinality - 1)`` distinct labels: its first label,
  then each further one drawn with probability ``cohesion`` from the first label's group
  (by popularity, without replacement; a *mate*) and otherwise from all labels by popularity
  (a *stray*); when the group has no mate left, a stray takes the place. Labels of a group
  therefore co-occur far more often than chance. The label frequencies follow a Zipf law too,
  with an exponent a little below ``skew`` (mates lift the rarer labels of a group whose
  first label is popular): about 0.8 at ``skew=1`` over the top 200 of 2,000 labels.
- ``planes``, the concept (what words a label brings): each group has a topic vocabulary of
  ``prototype`` words, and each label a prototype of ``prototype`` distinct words, a share
  ``shared`` of them from its group's vocabulary (siblings look alike) and the rest drawn from
  the whole vocabulary, with Dirichlet(1) weights.
- ``means``, the background: words are Zipf-distributed (``word_skew``) over a random ranking
  of the vocabulary.
- ``active``: which labels exist; an inactive label is never drawn.

A record of ``Poisson(words)`` tokens (at least one) takes each token from the background with
probability ``background``, otherwise from the prototype of one of its labels (chosen
uniformly); its features are the term frequencies, L2-normalised.

Drifts make new versions of a component with the methods :class:`~connectors.synthetic_stream.
DriftingStream` calls: ``shift_means`` (a share of the vocabulary dealt new background ranks),
``redraw_planes`` (a share of the groups get a new vocabulary and their labels new
prototypes), ``regroup`` (a share of the labels move to another group, keeping their
prototypes and popularity weights; their frequencies move a little, since how often a label
comes as a mate depends on its group's other labels), ``reweigh`` (popularity ranks dealt again) and ``set_active``.
Records of a transition draw each label and each token from the new version with the
record's weight ``beta`` on it (0 or 1 for a gradual change, rising from 0 to 1 for an
incremental one, so that the distributions move linearly).

>>> import numpy as np
>>> from connectors.synthetic_topics import TopicWorld, zipf_weights
>>> from connectors.synthetic_model import LabelVersions, State
>>> world = TopicWorld(n_labels=100, n_features=500, rng=np.random.default_rng(0))
>>> world.n_groups, world.prototype_words(0).shape
(5, (100, 30))
>>> s0 = State(0, 0, 0, 0, 0)
>>> labels = world.draw_labels(np.random.default_rng(1), s0, s0, np.zeros(2000))
>>> round(float(np.mean([len(y) for y in labels])), 1), min(len(y) for y in labels)
(2.7, 1)
>>> rows, words, values = world.draw_words(np.random.default_rng(2), s0, s0, np.zeros(2000), labels)
>>> norms = np.bincount(rows, values ** 2)
>>> bool(np.allclose(norms, 1.0, atol=1e-3))
True
>>> [round(float(w), 3) for w in zipf_weights(np.array([2, 0, 1]), 1.0)]
[0.333, 1.0, 0.5]

"""

from __future__ import annotations

import math

import numpy as np

from connectors.synthetic_model import LabelVersions, State

__all__ = ["TopicWorld", "zipf_weights"]

_STRAY_ROUNDS = 64  # draws per missing stray before a record settles for fewer labels
_LABEL_CHUNK = 8192  # labels whose prototypes are drawn together


def zipf_weights(ranks: np.ndarray, skew: float) -> np.ndarray:
    """``(rank + 1) ** -skew`` for 0-based ``ranks`` (not normalised)."""
    return (ranks + 1.0) ** -skew


def _distinct_rows(rng, n_rows: int, k: int, n: int, taken: np.ndarray | None = None) -> np.ndarray:
    """``n_rows × k`` ids in ``0..n-1``, distinct within a row and from the row of ``taken``."""
    rows = rng.integers(n, size=(n_rows, k))
    full = rows if taken is None else np.hstack([taken, rows])
    ordered = np.sort(full, axis=1)
    for i in np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1)):
        used = np.zeros(0, np.int64) if taken is None else taken[i]
        if n < 4 * (k + len(used)):  # a small vocabulary: choose among the free ids
            rows[i] = rng.choice(np.setdiff1d(np.arange(n), used), k, replace=False)
            continue
        while len(np.unique(np.concatenate([used, rows[i]]))) < k + len(used):  # rare: draw the row again
            rows[i] = rng.integers(n, size=k)
    return rows


def _choose(new: np.ndarray, a, b, draw) -> np.ndarray:
    """``draw(a)`` where ``new`` is False and ``draw(b)`` where it is True (``a is b``: one draw)."""
    out = draw(a)
    if b is not a and new.any():
        out = np.where(new, draw(b), out)
    return out


class TopicWorld(LabelVersions):
    """Every version of the label taxonomy, the labels' prototypes and the background words.

    Parameters
    ----------
    n_labels, n_features
        Sizes of the label space (labels that appear later included) and of the vocabulary.
    rng
        A numpy Generator; every random choice of the structure comes from it.
    cardinality
        Expected labels per record (>= 1; every record has at least one).
    group_size
        Labels per topical group.
    prototype
        Words in a label's prototype and in a group's vocabulary.
    shared
        Share of a prototype's words taken from the group's vocabulary.
    cohesion
        Probability that a record's further label comes from its first label's group.
    skew, word_skew
        Zipf exponents of the label popularity and of the background words.
    words
        Expected tokens per record.
    background
        Share of a record's tokens drawn from the background words.
    decimals
        Feature values are rounded to this many decimals (None: not rounded).
    inactive
        Indices of the labels that are not active at the start.

    """

    def __init__(
        self, n_labels: int, n_features: int, rng: np.random.Generator, cardinality: float = 2.7,
        group_size: int = 20, prototype: int = 30, shared: float = 0.5, cohesion: float = 0.8,
        skew: float = 1.0, word_skew: float = 1.0, words: float = 100.0, background: float = 0.5,
        decimals: int | None = 4, inactive=(),
    ):
        if n_labels < 1 or n_features < 1:
            raise ValueError("a topic world needs at least one label and one feature")
        if not 1 <= group_size <= n_labels:
            raise ValueError(f"group_size must lie in 1..labels ({n_labels}), got {group_size}")
        if not 1 <= prototype <= n_features:
            raise ValueError(f"prototype must lie in 1..features ({n_features}), got {prototype}")
        for name, value in (("shared", shared), ("cohesion", cohesion), ("background", background)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if cardinality < 1:
            raise ValueError(f"cardinality must be >= 1 (every record has a label), got {cardinality}")
        if skew < 0 or word_skew < 0 or words <= 0:
            raise ValueError("skew and word_skew must be >= 0 and words > 0")
        self.n_labels, self.n_features = n_labels, n_features
        self.n_groups = math.ceil(n_labels / group_size)
        self.cardinality, self.cohesion, self.skew = cardinality, cohesion, skew
        self.prototype, self.n_shared = prototype, round(shared * prototype)
        self.words, self.background, self.decimals = words, background, decimals
        self.word_skew = word_skew
        active = np.ones(n_labels, bool)
        active[list(inactive)] = False
        groups = np.empty(n_labels, np.int64)
        groups[rng.permutation(n_labels)] = np.arange(n_labels) // group_size
        self.groups: list[np.ndarray] = [groups]
        self.rates: list[np.ndarray] = [zipf_weights(rng.permutation(n_labels), skew)]
        self.active: list[np.ndarray] = [active]
        # a prototype's shared words come from the vocabulary of the group it was drawn for
        self.planes: list[dict] = [self._new_planes(rng, None, groups, np.arange(self.n_groups))]
        self.means: list[np.ndarray] = [zipf_weights(rng.permutation(n_features), word_skew)]
        self._cache: dict = {}

    # -- new versions ----------------------------------------------------------------------

    def _new_planes(self, rng, planes: dict | None, home: np.ndarray, redraw: np.ndarray) -> dict:
        """Copy of ``planes`` with the groups ``redraw`` given a new vocabulary and their labels new prototypes."""
        d, p, k = self.n_features, self.prototype, self.n_shared
        if planes is None:
            planes = {"home": home, "topics": np.zeros((self.n_groups, p), np.int64),
                      "words": np.zeros((self.n_labels, p), np.int32), "cum": np.zeros((self.n_labels, p), np.float32)}
        planes = {key: value.copy() for key, value in planes.items()}
        planes["topics"][redraw] = _distinct_rows(rng, len(redraw), p, d)
        every = np.flatnonzero(np.isin(planes["home"], redraw))
        for start in range(0, len(every), _LABEL_CHUNK):  # in chunks: temporaries stay small
            labels = every[start:start + _LABEL_CHUNK]
            picks = np.argsort(rng.random((len(labels), p)), axis=1)[:, :k]
            shared = np.take_along_axis(planes["topics"][planes["home"][labels]], picks, axis=1)
            planes["words"][labels] = np.hstack([shared, _distinct_rows(rng, len(labels), p - k, d, shared)])
            cum = np.cumsum(rng.exponential(size=(len(labels), p)), axis=1)
            planes["cum"][labels] = cum / cum[:, -1:]
        return planes

    def shift_means(self, version: int, shift: float, fraction: float, rng) -> int:
        """New background: ``fraction`` of the words are dealt each other's ranks (``shift`` is unused)."""
        weights = self.means[version].copy()
        moved = rng.choice(self.n_features, max(2, round(fraction * self.n_features)), replace=False)
        weights[moved] = weights[rng.permutation(moved)]
        self.means.append(weights)
        return len(self.means) - 1

    def redraw_planes(self, version: int, fraction: float, rng) -> int:
        """New concept: ``fraction`` of the groups get a new vocabulary, their labels new prototypes."""
        redraw = np.sort(rng.choice(self.n_groups, max(1, round(fraction * self.n_groups)), replace=False))
        self.planes.append(self._new_planes(rng, self.planes[version], self.planes[version]["home"], redraw))
        return len(self.planes) - 1

    def reweigh(self, rates_version: int, active_version: int, skew: float | None, rng) -> int:
        """New imbalance: the popularity ranks dealt again (Zipf exponent ``skew`` or the world's)."""
        skew = self.skew if skew is None else skew
        self.rates.append(zipf_weights(rng.permutation(self.n_labels), skew))
        return len(self.rates) - 1

    # -- derived arrays, cached per version ------------------------------------------------

    def _cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def effective_rates(self, state: State) -> np.ndarray:
        """Each label's probability of being a record's first label in ``state``."""
        def make():
            weights = self.rates[state.rates] * self.active[state.active]
            return weights / weights.sum()
        return self._cached(("rates", state.rates, state.active), make)

    def _label_cdf(self, state: State) -> np.ndarray:
        return self._cached(("cdf", state.rates, state.active), lambda: np.cumsum(self.effective_rates(state)))

    def _word_cdf(self, version: int) -> np.ndarray:
        def make():
            cum = np.cumsum(self.means[version])
            return cum / cum[-1]
        return self._cached(("words", version), make)

    def members(self, version: int) -> np.ndarray:
        """``groups × largest group`` label ids of each group (padded with -1)."""
        def make():
            groups = self.groups[version]
            order = np.argsort(groups, kind="stable")
            sizes = np.bincount(groups, minlength=self.n_groups)
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            table = np.full((self.n_groups, max(1, sizes.max())), -1, np.int64)
            table[groups[order], np.arange(len(order)) - starts[groups[order]]] = order
            return table
        return self._cached(("members", version), make)

    def prototype_words(self, version: int) -> np.ndarray:
        """``labels × prototype`` word ids of every label's prototype."""
        return self.planes[version]["words"]

    # -- draws -----------------------------------------------------------------------------

    @staticmethod
    def _new(rng, src: State, dst: State, fields: tuple, beta: np.ndarray) -> np.ndarray:
        """Which draws (one per entry of ``beta``) come from ``dst``'s versions of ``fields``."""
        if all(getattr(src, f) == getattr(dst, f) for f in fields) or not beta.any():
            return np.zeros(len(beta), bool)
        return rng.random(len(beta)) < beta

    def _draw_from(self, rng, cdf: np.ndarray, size: int) -> np.ndarray:
        return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(cdf) - 1)

    def draw_labels(self, rng, src: State, dst: State, beta: np.ndarray) -> list[np.ndarray]:
        """The label ids of records whose weight on ``dst`` is ``beta`` (one array per record)."""
        m = len(beta)
        size = 1 + rng.poisson(self.cardinality - 1.0, m)
        rates_new = self._new(rng, src, dst, ("rates", "active"), beta)
        src_cdf, dst_cdf = self._label_cdf(src), self._label_cdf(dst)
        first = _choose(rates_new, src_cdf, dst_cdf, lambda cdf: self._draw_from(rng, cdf, m))
        wanted = rng.binomial(size - 1, self.cohesion)
        mates = self._draw_mates(rng, src, dst, beta, first, rates_new, wanted)
        strays = [size[i] - 1 - len(mates[i]) for i in range(m)]
        strays_new = self._new(rng, src, dst, ("rates", "active"), beta)
        out = []
        for i in range(m):
            chosen = {int(first[i]), *mates[i].tolist()}
            cdf = dst_cdf if strays_new[i] else src_cdf
            missing, rounds = strays[i], 0
            while missing and rounds < _STRAY_ROUNDS * strays[i]:
                for label in self._draw_from(rng, cdf, missing).tolist():
                    if label not in chosen:
                        chosen.add(label)
                        missing -= 1
                rounds += 1
            out.append(np.array(sorted(chosen), np.int64))
        return out

    def _draw_mates(self, rng, src, dst, beta, first, rates_new, wanted) -> list[np.ndarray]:
        """Up to ``wanted[i]`` labels of ``first[i]``'s group, by popularity, without replacement."""
        groups_new = self._new(rng, src, dst, ("groups",), beta)
        a, b = self.members(src.groups), self.members(dst.groups)
        width = max(a.shape[1], b.shape[1])
        pad = lambda t: np.pad(t, ((0, 0), (0, width - t.shape[1])), constant_values=-1)  # noqa: E731
        a, b = pad(a), pad(b)
        rows = np.where(groups_new[:, None], b[self.groups[dst.groups][first]], a[self.groups[src.groups][first]])
        weights = np.where(rates_new[:, None], self.effective_rates(dst)[rows], self.effective_rates(src)[rows])
        weights[(rows < 0) | (rows == first[:, None])] = 0.0
        with np.errstate(divide="ignore"):
            keys = np.log(weights) + rng.gumbel(size=weights.shape)  # Gumbel top-k: sampling without replacement
        order = np.argsort(-keys, axis=1)
        ranked = np.take_along_axis(rows, order, axis=1)
        usable = np.isfinite(np.take_along_axis(keys, order, axis=1)) & (np.arange(width) < wanted[:, None])
        return [ranked[i][usable[i]] for i in range(len(first))]

    def draw_words(self, rng, src: State, dst: State, beta: np.ndarray, labels: list) -> tuple:
        """Term frequencies of the records, L2-normalised: ``(record, word, value)`` arrays, by record and word."""
        m = len(beta)
        tokens = np.maximum(1, rng.poisson(self.words, m))
        record = np.repeat(np.arange(m), tokens)
        word = np.empty(len(record), np.int64)
        background = rng.random(len(record)) < self.background
        # background tokens
        where = np.flatnonzero(background)
        new = self._new(rng, src, dst, ("means",), beta[record[where]])
        word[where] = _choose(new, self._word_cdf(src.means), self._word_cdf(dst.means),
                              lambda cdf: self._draw_from(rng, cdf, len(where)))
        # prototype tokens: a label of the record, uniformly, then a word of its prototype
        where = np.flatnonzero(~background)
        counts = np.array([len(y) for y in labels])
        flat = np.concatenate(labels)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        owner = record[where]
        label = flat[offsets[owner] + (rng.random(len(where)) * counts[owner]).astype(np.int64)]
        new = self._new(rng, src, dst, ("planes",), beta[owner])
        u = rng.random(len(where))

        def prototype_word(planes):
            slot = np.minimum((planes["cum"][label] < u[:, None]).sum(axis=1), self.prototype - 1)
            return planes["words"][label, slot]

        word[where] = _choose(new, self.planes[src.planes], self.planes[dst.planes], prototype_word)
        keys, tf = np.unique(record * self.n_features + word, return_counts=True)
        rows, words = keys // self.n_features, keys % self.n_features
        values = tf / np.sqrt(np.bincount(rows, tf.astype(float) ** 2, minlength=m))[rows]
        if self.decimals is not None:
            values = np.round(values, self.decimals)
        return rows, words, values
