"""Incremental multi-label metrics: cumulative, over a rolling window and exponentially faded.

Labels are dense integer ids ``0..L-1`` (see :class:`stream_xml.labels.LabelSpace`); the label
space may grow during the stream. Each call to :meth:`MultiLabelMetrics.update` computes the
contribution of one instance once, at a cost of O(|Y| + |Z|) plus the ranking, and adds it to
three tallies that share one layout: the whole stream, the last ``window`` instances, and a
tally faded by ``fading`` at every step.

Conventions (the definitions are those of scikit-learn's batch metrics):

- ``zero_division`` is the value of a ratio whose denominator is 0 (an example precision with
  no predicted label, a per-label F1 of a label never relevant nor predicted, ...).
- Hamming loss divides each instance's ``|Y Δ Z|`` by the size of the label space *at that
  moment*; it equals scikit-learn's ``hamming_loss`` when the label space does not grow.
- Macro scores average over every label of the label space so far, including labels never
  relevant nor predicted (each counts ``zero_division``), like scikit-learn's ``average="macro"``
  on the full label matrix. river's ``MacroAverage`` averages over the labels seen instead.
- ``precision@k`` and ``ndcg@k`` rank the labels by score (higher first, ties broken by the
  smaller id; a label without a score has score 0) and average over the instances that came
  with scores and have at least one relevant label: instances with ``Y`` empty are not counted.
  They appear in the results once scores have been given at least once.
- ``psp@k``, propensity-scored precision (Jain, Prabhu and Varma, KDD 2016), weighs a relevant
  label ``l`` by its inverse propensity ``1 / p_l = 1 + C (N_l + B)^-A`` with
  ``C = max(ln N - 1, 0) (B + 1)^A``, where ``N`` is the number of instances so far and ``N_l``
  the number in which ``l`` was relevant, this instance included (``A = 0.55``, ``B = 1.5`` by
  default). Per instance, ``PSP@k = (1/k) sum_{l in top-k} y_l / p_l`` and its best value
  ``PSP*@k`` sums the ``min(k, |Y|)`` largest ``1 / p_l`` of the relevant labels; ``psp@k`` is
  ``sum PSP@k / sum PSP*@k`` over the instances counted by ``precision@k`` (the normalisation of
  the Extreme Classification Repository's tools: a ratio of means, so that instances with rare
  labels weigh more). 1 is the best value. ``C`` is kept at 0 while ``ln N < 1`` (the first two
  instances), where the formula would give negative propensities. The propensities come from
  the whole stream so far, also for the window and faded values.
- ``label_coverage`` is the share of the labels relevant at least once that were predicted
  (in the labelset) correctly at least once: labels with a true positive among those with a
  true positive or a false negative, over the stream, the window or the faded tally.
- A mean over no instance is reported as 0.0.

>>> from stream_xml.evaluation.metrics import MultiLabelMetrics
>>> metrics = MultiLabelMetrics(window=2, ks=(1, 2))
>>> metrics.update({0, 2}, {0}, scores={0: 0.9, 1: 0.4, 2: 0.3}, n_labels=3)
>>> metrics.update({1}, {1}, scores={1: 0.8}, n_labels=3)
>>> metrics.update(set(), {2}, n_labels=3)
>>> metrics.n
3
>>> overall = metrics.get()
>>> round(overall["subset_accuracy"], 4), round(overall["hamming_loss"], 4)
(0.3333, 0.2222)
>>> round(overall["micro_f1"], 4), overall["precision@1"], overall["precision@2"]
(0.6667, 1.0, 0.5)
>>> overall["psp@1"], round(overall["label_coverage"], 4)  # psp: no propensity yet (C = 0 below 3 instances)
(1.0, 0.6667)
>>> recent = metrics.get_window()  # the last two instances
>>> recent["subset_accuracy"], round(recent["micro_precision"], 4)
(0.5, 0.5)

"""

from __future__ import annotations

import collections.abc
import heapq
import re

import numpy as np

from stream_xml.evaluation.metric_kernels import add_contribution, macro_means

__all__ = [
    "MultiLabelMetrics",
    "metric_names",
    "bigger_is_better",
    "top_k",
    "SubsetAccuracy",
    "HammingLoss",
    "ExamplePrecision",
    "ExampleRecall",
    "ExampleF1",
    "ExampleJaccard",
    "MicroPrecision",
    "MicroRecall",
    "MicroF1",
    "MacroPrecision",
    "MacroRecall",
    "MacroF1",
    "PrecisionAtK",
    "NDCGAtK",
    "PSPrecisionAtK",
    "LabelCoverage",
    "inverse_propensities",
]

SET_METRICS = (
    "subset_accuracy",
    "hamming_loss",
    "example_precision",
    "example_recall",
    "example_f1",
    "example_jaccard",
    "micro_precision",
    "micro_recall",
    "micro_f1",
    "macro_precision",
    "macro_recall",
    "macro_f1",
)

# Layout of a contribution row (and of a tally's sums). Ranking slots follow: for the j-th k,
# precision@k at _RANKING + 4j, ndcg@k at + 1, and the sums of PSP@k and of its best value at + 2, + 3.
_N, _EXACT, _HAMMING, _EX_P, _EX_R, _EX_F1, _EX_JAC, _TP, _FP, _FN, _N_RANKED = range(11)
_RANKING = 11
_PER_K = 4
COVERAGE = "label_coverage"
PROPENSITY_A, PROPENSITY_B = 0.55, 1.5  # Jain, Prabhu and Varma's defaults
_MEAN_SLOTS = {
    "subset_accuracy": _EXACT,
    "hamming_loss": _HAMMING,
    "example_precision": _EX_P,
    "example_recall": _EX_R,
    "example_f1": _EX_F1,
    "example_jaccard": _EX_JAC,
}
_MACRO_POSITION = {"macro_precision": 0, "macro_recall": 1, "macro_f1": 2}
_RANKING_NAME = re.compile(r"(precision|ndcg|psp)@([1-9][0-9]*)")

# The faded tally stores counts divided by fading**t; it is brought back to scale before
# fading**-t gets near the float range.
_RESCALE_AT = 1e100


def metric_names(ks=(1, 3, 5), ranking: bool = True) -> list[str]:
    """The metric keys, in the order :meth:`MultiLabelMetrics.get` reports them (``ranking``: with scores).

    >>> metric_names(ks=(1, 5))[-8:]
    ['macro_f1', 'label_coverage', 'precision@1', 'ndcg@1', 'psp@1', 'precision@5', 'ndcg@5', 'psp@5']

    """
    ranked = (name for k in ks for name in (f"precision@{k}", f"ndcg@{k}", f"psp@{k}")) if ranking else ()
    return [*SET_METRICS, COVERAGE, *ranked]


class _Directions(collections.abc.Mapping):
    """Metric name -> whether a bigger value is better; ranking keys work for any ``k``.

    Iterating yields the set metrics, ``label_coverage`` and the templates ``precision@k``,
    ``ndcg@k`` and ``psp@k``.

    >>> bigger_is_better["hamming_loss"], bigger_is_better["micro_f1"], bigger_is_better["ndcg@10"]
    (False, True, True)

    """

    _TEMPLATES = ("precision@k", "ndcg@k", "psp@k")

    def __getitem__(self, name):
        if name in SET_METRICS or name == COVERAGE:
            return name != "hamming_loss"
        if name in self._TEMPLATES or _RANKING_NAME.fullmatch(name):
            return True
        raise KeyError(name)

    def __iter__(self):
        return iter((*SET_METRICS, COVERAGE, *self._TEMPLATES))

    def __len__(self):
        return len(SET_METRICS) + 1 + len(self._TEMPLATES)

    def __repr__(self):
        return repr(dict(self))


bigger_is_better = _Directions()


def inverse_propensities(counts, n: int, a: float = PROPENSITY_A, b: float = PROPENSITY_B) -> np.ndarray:
    """``1 / p_l = 1 + C (N_l + B)^-A`` for label counts ``N_l`` among ``n`` instances (Jain et al., 2016).

    ``C = (ln n - 1) (B + 1)^A``, kept at 0 while ``ln n < 1``.

    >>> [round(v, 3) for v in inverse_propensities(np.array([1, 10, 100]), 1000).tolist()]
    [6.908, 3.552, 1.77]

    """
    c = max(np.log(n) - 1.0, 0.0) * (b + 1.0) ** a
    return 1.0 + c * (np.asarray(counts, dtype=np.float64) + b) ** -a


def _ratio(num, den, when_zero):
    return float(num / den) if den else float(when_zero)


def _id_set(ids) -> set | frozenset:
    if isinstance(ids, (set, frozenset)):
        return ids
    if isinstance(ids, np.ndarray):
        return set(ids.tolist())
    return set(ids)


def top_k(scores, k: int, n_labels: int = 0) -> list[int]:
    """The ids of the ``k`` best-scored labels, best first; ties go to the smaller id.

    ``scores`` is a dict id -> score or an array with a score per id. Every label of
    ``0..max(n_labels, number of scored ids)-1`` takes part; a label without a score has
    score 0. Fewer than ``k`` ids come back only when there are fewer labels than ``k``.
    Costs O(nnz log k + k) for a dict, O(len(scores) + k log k) for an array.

    >>> top_k({4: 0.5, 2: 0.9, 7: -1.0}, 4, n_labels=8)
    [2, 4, 0, 1]
    >>> top_k(np.array([0.1, 0.7, 0.7, 0.3]), 2)
    [1, 2]

    """
    if isinstance(scores, dict):
        return _top_k_of_dict(scores, k, n_labels)
    return _top_k_of_array(np.asarray(scores, dtype=np.float64), k, n_labels)


def _top_k_of_dict(scores: dict, k: int, n_labels: int) -> list[int]:
    if any(v != v for v in scores.values()):
        raise ValueError("scores contain NaN")
    best = heapq.nsmallest(k, ((-v, i) for i, v in scores.items() if v > 0))
    top = [i for _, i in best]
    if len(top) == k:
        return top
    # The unscored labels and those scored exactly 0 tie at 0: take the smallest ids.
    scored_nonzero = {i for i, v in scores.items() if v != 0}
    n_candidates = max(n_labels, 1 + max(scores, default=-1))
    label = 0
    while len(top) < k and label < n_candidates:
        if label not in scored_nonzero:
            top.append(label)
        label += 1
    if len(top) < k:
        worst = heapq.nsmallest(k - len(top), ((-v, i) for i, v in scores.items() if v < 0))
        top.extend(i for _, i in worst)
    return top


def _top_k_of_array(scores: np.ndarray, k: int, n_labels: int) -> list[int]:
    if scores.ndim != 1:
        raise ValueError(f"scores must be one-dimensional, got shape {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN")
    if scores.shape[0] < n_labels:
        scores = np.concatenate([scores, np.zeros(n_labels - scores.shape[0])])
    size = scores.shape[0]
    k = min(k, size)
    if k == 0:
        return []
    if k < size:
        kth_best = np.partition(scores, size - k)[size - k]
        above = np.flatnonzero(scores > kth_best)
        tied = np.flatnonzero(scores == kth_best)[: k - above.shape[0]]
        candidates = np.concatenate([above, tied])
    else:
        candidates = np.arange(size)
    return candidates[np.lexsort((candidates, -scores[candidates]))].tolist()


class _Tally:
    """Sums of contribution rows and per-label tp/fp/fn counts (rows of ``counts``)."""

    def __init__(self, n_slots: int, dtype=np.int64):
        self.sums = np.zeros(n_slots)
        self.counts = np.zeros((3, 0), dtype=dtype)

    def reserve(self, n_ids: int):
        capacity = self.counts.shape[1]
        if n_ids > capacity:
            grown = np.zeros((3, max(n_ids, 2 * capacity, 8)), dtype=self.counts.dtype)
            grown[:, :capacity] = self.counts
            self.counts = grown

    def push(self, row, ids, n_tp, n_fp):
        add_contribution(self.sums, self.counts, row, ids, n_tp, n_fp, 1)


class _WindowTally(_Tally):
    """A tally of the last ``width`` instances, kept in a ring buffer of their contributions."""

    def __init__(self, n_slots: int, width: int):
        super().__init__(n_slots)
        self.width = width
        self.rows = np.zeros((width, n_slots))
        self.ids = [None] * width
        self.head = 0
        self.size = 0

    def push(self, row, ids, n_tp, n_fp):
        head = self.head
        if self.size == self.width:
            add_contribution(self.sums, self.counts, self.rows[head], *self.ids[head], -1)
        else:
            self.size += 1
        self.rows[head] = row
        self.ids[head] = (ids, n_tp, n_fp)
        add_contribution(self.sums, self.counts, row, ids, n_tp, n_fp, 1)
        self.head = (head + 1) % self.width
        if self.head == 0:
            # Adding and removing fractional values leaves rounding residue; a fresh sum of
            # the ring, once per turn, keeps it from building up.
            self.sums[:] = self.rows.sum(axis=0)


class _FadedTally(_Tally):
    """A tally where each step multiplies the past by ``fading`` before adding the new instance.

    Multiplying every per-label count at each step would cost O(L); the tally stores the
    counts divided by ``fading**t`` instead. Every metric is a ratio of two tallied
    quantities, so that scale cancels; it is folded back in before it leaves the float range.
    """

    def __init__(self, n_slots: int, fading: float):
        super().__init__(n_slots, np.float64)
        self.fading = fading
        self.steps = 0

    def push(self, row, ids, n_tp, n_fp):
        self.steps += 1
        weight = self.fading**-self.steps
        add_contribution(self.sums, self.counts, row, ids, n_tp, n_fp, weight)
        if weight > _RESCALE_AT:
            self.sums /= weight
            self.counts /= weight
            self.steps = 0


class MultiLabelMetrics:
    """Multi-label metrics over a stream: cumulative, over a rolling window and faded.

    Parameters
    ----------
    window
        Number of most recent instances :meth:`get_window` reports on (None disables it).
    fading
        Factor in (0, 1] applied to the past at every step for :meth:`get_fading`
        (None disables it).
    ks
        Cut-offs of ``precision@k``, ``ndcg@k`` and ``psp@k``.
    zero_division
        Value of a ratio whose denominator is 0: 0.0 (scikit-learn's and river's
        ``zero_division=0``) or 1.0 (the convention of many papers).
    propensity
        ``(A, B)`` of the propensity model behind ``psp@k`` (see the module docstring).

    Examples
    --------
    >>> metrics = MultiLabelMetrics(window=None, fading=0.5, ks=())
    >>> metrics.update([0], [0], n_labels=2)
    >>> metrics.update([1], [0], n_labels=2)
    >>> metrics.get()["subset_accuracy"], round(metrics.get_fading()["subset_accuracy"], 4)
    (0.5, 0.3333)
    >>> list(metrics.get()) == metric_names(ks=()), metrics.get_window()
    (True, {})

    """

    def __init__(
        self,
        window: int | None = 1000,
        fading: float | None = None,
        ks=(1, 3, 5),
        zero_division: float = 0.0,
        propensity: tuple = (PROPENSITY_A, PROPENSITY_B),
    ):
        if window is not None and (int(window) != window or window < 1):
            raise ValueError(f"window must be a positive integer or None, got {window!r}")
        if fading is not None and not 0.0 < fading <= 1.0:
            raise ValueError(f"fading must be in (0, 1] or None, got {fading!r}")
        ks = tuple(int(k) for k in ks)
        if any(k < 1 for k in ks) or len(set(ks)) != len(ks):
            raise ValueError(f"ks must be distinct positive integers, got {ks!r}")
        self.window = None if window is None else int(window)
        self.fading = fading
        self.ks = ks
        self.zero_division = float(zero_division)
        self.propensity = tuple(float(v) for v in propensity)
        self.n = 0
        self.n_labels = 0
        self.has_scores = False
        n_slots = _RANKING + _PER_K * len(ks)
        self._ranking_slots = {}
        for j, k in enumerate(ks):
            self._ranking_slots[f"precision@{k}"] = _RANKING + _PER_K * j
            self._ranking_slots[f"ndcg@{k}"] = _RANKING + _PER_K * j + 1
            self._ranking_slots[f"psp@{k}"] = _RANKING + _PER_K * j + 2  # its best value's sum follows
        discounts = 1.0 / np.log2(np.arange(2, max(ks, default=0) + 2))
        self._ideal_dcg = np.concatenate([[0.0], np.cumsum(discounts)]).tolist()
        self._discounts = discounts.tolist()
        self._total = _Tally(n_slots)
        self._recent = None if window is None else _WindowTally(n_slots, self.window)
        self._faded = None if fading is None else _FadedTally(n_slots, fading)

    def _tallies(self):
        return [t for t in (self._total, self._recent, self._faded) if t is not None]

    def update(self, y_true, y_pred, scores=None, n_labels: int | None = None) -> None:
        """Score one instance.

        Parameters
        ----------
        y_true, y_pred
            The ids of the relevant and of the predicted labels (a set, a list or an int array).
        scores
            None, a dict id -> score or a float array with a score per id (higher is more
            relevant; missing labels score 0). Only the ranking metrics use it.
        n_labels
            Size of the label space now. Defaults to the size known so far, grown to cover the
            ids of this instance; it cannot be smaller than either.
        """
        y_true, y_pred = _id_set(y_true), _id_set(y_pred)
        hits = y_true & y_pred
        false_pos = y_pred - y_true
        false_neg = y_true - y_pred
        n_ids = 1 + max(max(y_true, default=-1), max(y_pred, default=-1))
        if min(min(y_true, default=0), min(y_pred, default=0)) < 0:
            raise ValueError("label ids must be non-negative")
        if n_labels is None:
            n_labels = max(self.n_labels, n_ids)
        elif n_labels < max(self.n_labels, n_ids):
            raise ValueError(
                f"n_labels={n_labels} is smaller than the label space so far "
                f"({self.n_labels} labels) or than the largest id of this instance + 1 ({n_ids})"
            )

        n_true, n_pred, n_hit = len(y_true), len(y_pred), len(hits)
        n_diff = len(false_pos) + len(false_neg)
        zd = self.zero_division
        row = [
            1.0,
            float(n_diff == 0),
            n_diff / n_labels if n_labels else 0.0,
            n_hit / n_pred if n_pred else zd,
            n_hit / n_true if n_true else zd,
            2 * n_hit / (n_true + n_pred) if n_true + n_pred else zd,
            n_hit / (n_true + n_pred - n_hit) if n_true + n_pred else zd,
            n_hit,
            len(false_pos),
            len(false_neg),
            *self._ranking_contribution(y_true, scores, n_labels, self._inverse_propensities(y_true)),
        ]
        row = np.array(row)
        ids = np.array([*hits, *false_pos, *false_neg], dtype=np.int64)

        # Everything above may refuse the instance; nothing below does.
        self.n_labels = n_labels
        self.has_scores = self.has_scores or scores is not None
        for tally in self._tallies():
            tally.reserve(n_ids)
            tally.push(row, ids, n_hit, len(false_pos))
        self.n += 1

    def _inverse_propensities(self, y_true) -> dict:
        """Relevant label id -> ``1 / p_l``, from the counts so far with this instance included."""
        if not y_true or not self.ks:
            return {}
        counts = self._total.counts
        stored = counts.shape[1]
        seen = [int(counts[0, i] + counts[2, i]) if i < stored else 0 for i in y_true]
        return dict(zip(y_true, inverse_propensities(np.array(seen) + 1, self.n + 1, *self.propensity).tolist()))

    def _ranking_contribution(self, y_true, scores, n_labels, inverse_propensity: dict) -> list[float]:
        """[ranked?, precision@k1, ndcg@k1, PSP@k1, best PSP@k1, precision@k2, ...] for one instance."""
        if scores is None or not y_true or not self.ks:
            return [0.0] * (1 + _PER_K * len(self.ks))
        gains = [inverse_propensity.get(label, 0.0) for label in top_k(scores, max(self.ks), n_labels)]
        best = sorted(inverse_propensity.values(), reverse=True)
        contribution = [1.0]
        for k in self.ks:
            hits = sum(1 for gain in gains[:k] if gain)
            dcg = sum(d for d, gain in zip(self._discounts[:k], gains) if gain)
            contribution += [hits / k, dcg / self._ideal_dcg[min(k, len(y_true))], sum(gains[:k]) / k,
                             sum(best[:k]) / k]
        return contribution

    def _value(self, tally: _Tally, name: str, macro=None) -> float:
        sums, zd = tally.sums, self.zero_division
        if name in _MEAN_SLOTS:
            return _ratio(sums[_MEAN_SLOTS[name]], sums[_N], 0.0)
        if name.startswith("psp@") and name in self._ranking_slots:
            slot = self._ranking_slots[name]
            return _ratio(sums[slot], sums[slot + 1], 0.0)
        if name in self._ranking_slots:
            return _ratio(sums[self._ranking_slots[name]], sums[_N_RANKED], 0.0)
        if name == COVERAGE:
            tp, fn = tally.counts[0], tally.counts[2]
            return _ratio(np.count_nonzero(tp), np.count_nonzero(tp + fn), 0.0)
        tp, fp, fn = sums[_TP], sums[_FP], sums[_FN]
        if name == "micro_precision":
            return _ratio(tp, tp + fp, zd)
        if name == "micro_recall":
            return _ratio(tp, tp + fn, zd)
        if name == "micro_f1":
            return _ratio(2 * tp, 2 * tp + fp + fn, zd)
        if name in _MACRO_POSITION:
            macro = macro or macro_means(tally.counts, self.n_labels, zd)
            return float(macro[_MACRO_POSITION[name]])
        raise KeyError(f"unknown metric {name!r}; known: {metric_names(self.ks)}")

    def _report(self, tally: _Tally | None) -> dict:
        if tally is None:
            return {}
        names = metric_names(self.ks, ranking=self.has_scores)
        macro = macro_means(tally.counts, self.n_labels, self.zero_division)
        return {name: self._value(tally, name, macro) for name in names}

    def get(self) -> dict:
        """Metric name -> value over the whole stream."""
        return self._report(self._total)

    def get_window(self) -> dict:
        """Metric name -> value over the last ``window`` instances ({} when disabled)."""
        return self._report(self._recent)

    def get_fading(self) -> dict:
        """Metric name -> value with faded weights ({} when disabled)."""
        return self._report(self._faded)

    def __repr__(self):
        shown = ", ".join(f"{name}={value:.4f}" for name, value in self.get().items())
        return f"{type(self).__name__}(n={self.n}, {shown})"


class _SingleMetric:
    """One cumulative metric, river style: a view over a :class:`MultiLabelMetrics`."""

    name = ""

    def __init__(self, zero_division: float = 0.0):
        self._metrics = MultiLabelMetrics(
            window=None, fading=None, ks=self._ks(), zero_division=zero_division
        )

    def _ks(self):
        return ()

    def update(self, y_true, y_pred, scores=None, n_labels: int | None = None) -> None:
        """Score one instance (see :meth:`MultiLabelMetrics.update`)."""
        self._metrics.update(y_true, y_pred, scores=scores, n_labels=n_labels)

    def get(self) -> float:
        return self._metrics._value(self._metrics._total, self.name)

    @property
    def n(self) -> int:
        return self._metrics.n

    @property
    def bigger_is_better(self) -> bool:
        return bigger_is_better[self.name]

    def __repr__(self):
        return f"{type(self).__name__}: {self.get():.6f}"


class SubsetAccuracy(_SingleMetric):
    """Fraction of instances whose predicted label set equals the true one (exact match).

    >>> metric = SubsetAccuracy()
    >>> for y, z in [({0, 1}, {0, 1}), ({2}, {0, 2}), (set(), set())]:
    ...     metric.update(y, z)
    >>> metric
    SubsetAccuracy: 0.666667

    """

    name = "subset_accuracy"


class HammingLoss(_SingleMetric):
    """Mean over instances of ``|Y Δ Z| / n_labels``: the fraction of wrong label decisions.

    >>> metric = HammingLoss()
    >>> metric.update({0, 1}, {1, 3}, n_labels=4)
    >>> metric.get(), metric.bigger_is_better
    (0.5, False)

    """

    name = "hamming_loss"


class ExamplePrecision(_SingleMetric):
    """Mean over instances of ``|Y ∩ Z| / |Z|``.

    >>> metric = ExamplePrecision()
    >>> metric.update({0, 1}, {1, 3})
    >>> metric.get()
    0.5

    """

    name = "example_precision"


class ExampleRecall(_SingleMetric):
    """Mean over instances of ``|Y ∩ Z| / |Y|``.

    >>> metric = ExampleRecall()
    >>> metric.update({0, 1, 2, 4}, {1, 3})
    >>> metric.get()
    0.25

    """

    name = "example_recall"


class ExampleF1(_SingleMetric):
    """Mean over instances of ``2 |Y ∩ Z| / (|Y| + |Z|)``.

    >>> metric = ExampleF1(zero_division=1.0)
    >>> metric.update({0, 1}, {1, 3})
    >>> metric.update(set(), set())  # nothing relevant, nothing predicted: zero_division
    >>> metric.get()
    0.75

    """

    name = "example_f1"


class ExampleJaccard(_SingleMetric):
    """Mean over instances of ``|Y ∩ Z| / |Y ∪ Z|``.

    >>> metric = ExampleJaccard()
    >>> metric.update({0, 1}, {1, 3})
    >>> round(metric.get(), 4)
    0.3333

    """

    name = "example_jaccard"


class MicroPrecision(_SingleMetric):
    """``sum tp / (sum tp + sum fp)`` over all labels and instances.

    >>> metric = MicroPrecision()
    >>> metric.update({0, 1}, {1, 3})
    >>> metric.update({2}, {2})
    >>> round(metric.get(), 4)
    0.6667

    """

    name = "micro_precision"


class MicroRecall(_SingleMetric):
    """``sum tp / (sum tp + sum fn)`` over all labels and instances.

    >>> metric = MicroRecall()
    >>> metric.update({0, 1}, {1, 3})
    >>> metric.update({2, 4}, {2})
    >>> metric.get()
    0.5

    """

    name = "micro_recall"


class MicroF1(_SingleMetric):
    """``2 sum tp / (2 sum tp + sum fp + sum fn)`` over all labels and instances.

    >>> metric = MicroF1()
    >>> metric.update({0, 1}, {1, 3})
    >>> metric.update({2, 4}, {2})
    >>> round(metric.get(), 4)
    0.5714

    """

    name = "micro_f1"


class MacroPrecision(_SingleMetric):
    """Mean over all labels of the label space of ``tp / (tp + fp)``.

    >>> metric = MacroPrecision()
    >>> metric.update({0, 1}, {1, 3})
    >>> metric.get()  # labels 0..3: precision 0 (0/0), 1, 0 (0/0), 0
    0.25

    """

    name = "macro_precision"


class MacroRecall(_SingleMetric):
    """Mean over all labels of the label space of ``tp / (tp + fn)``.

    >>> metric = MacroRecall(zero_division=1.0)
    >>> metric.update({0, 1}, {1, 3})
    >>> metric.get()  # labels 0..3: recall 0, 1, 1 (0/0), 1 (0/0)
    0.75

    """

    name = "macro_recall"


class MacroF1(_SingleMetric):
    """Mean over all labels of the label space of ``2 tp / (2 tp + fp + fn)``.

    A label never relevant nor predicted counts ``zero_division``.

    >>> metric = MacroF1()
    >>> metric.update({0}, {0}, n_labels=10)
    >>> metric.get()  # one label right, nine never seen
    0.1

    """

    name = "macro_f1"


class _RankingMetric(_SingleMetric):
    """A ranking metric at cut-off ``k``; averages over the instances with scores and ``Y`` not empty."""

    prefix = ""

    def __init__(self, k: int = 5):
        self.k = int(k)
        self.name = f"{self.prefix}@{self.k}"
        super().__init__()

    def _ks(self):
        return (self.k,)

    def __repr__(self):
        return f"{type(self).__name__}@{self.k}: {self.get():.6f}"


class PrecisionAtK(_RankingMetric):
    """``|top-k(scores) ∩ Y| / k``, averaged over instances with at least one relevant label.

    >>> metric = PrecisionAtK(2)
    >>> metric.update({0, 3}, set(), scores={3: 0.9, 1: 0.5, 0: 0.1})
    >>> metric
    PrecisionAtK@2: 0.500000

    """

    prefix = "precision"


class PSPrecisionAtK(_RankingMetric):
    """Propensity-scored precision@k, normalised by its best value (see the module docstring).

    ``sum_i (1/k) sum_{l in top-k} y_l / p_l`` over ``sum_i`` of its best value on the same
    instance, with the propensities ``p_l`` of the labels' counts so far.

    >>> metric = PSPrecisionAtK(1)
    >>> for _ in range(3):
    ...     metric.update({0}, set(), scores={0: 0.9})
    >>> metric.update({0, 1}, set(), scores={0: 0.9, 1: 0.5})  # the rare label 1 ranked second
    >>> round(metric.get(), 4)  # (1 + 1 + 1.071 + 1.250) / (1 + 1 + 1.071 + 1.386)
    0.9695

    """

    prefix = "psp"


class LabelCoverage(_SingleMetric):
    """Share of the labels relevant at least once that were predicted correctly at least once.

    >>> metric = LabelCoverage()
    >>> metric.update({0, 1}, {1, 3})
    >>> metric.update({2}, {2})
    >>> round(metric.get(), 4)  # labels 1 and 2 of 0, 1, 2
    0.6667

    """

    name = COVERAGE


class NDCGAtK(_RankingMetric):
    """``DCG@k / IDCG@k``, averaged over instances with at least one relevant label.

    ``DCG@k = sum_{r<=k} rel_r / log2(r + 1)`` and ``IDCG@k`` is its best value,
    ``sum_{r <= min(k, |Y|)} 1 / log2(r + 1)``.

    >>> metric = NDCGAtK(2)
    >>> metric.update({1}, set(), scores={3: 0.9, 1: 0.5})
    >>> round(metric.get(), 4)  # the relevant label comes second: 1 / log2(3)
    0.6309

    """

    prefix = "ndcg"
