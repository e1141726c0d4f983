"""Pruned sets at a leaf: the frequent labelsets as the classes of a naive-Bayes-adaptive
single-label learner, the leaf learner of MOA's multi-label Hoeffding tree (Read et al., 2012).

A leaf's :class:`PrunedSets` keeps its first ``buffer`` records while the leaf answers with its
majority labelset. Then it keeps as its classes the labelsets of those records heavier than the
one in place ``n_sets + 1`` of their ranking (MEKA's pruning: raise the count a labelset must
exceed until at most ``n_sets`` do, so a tie at the cut drops every labelset of the tie, and a
buffer of labelsets all seen once keeps none: the leaf then stays with its majority labelset).
The empty labelset is a class like any other. It learns, in their order, the buffered
records whose labelset is a class; every later record too, and a record whose labelset is not a
class is not learned (pruned; the pruned-sets method's subsampling of frequent subsets, MEKA's
``N``, is 0 in MEKA's streaming version and not provided). The classes stay fixed: drift is the
tree's to handle (a new leaf starts a new model).

The classifier over the classes is naive Bayes: a declared ``{0,1}`` feature (and, under
``nominal="binary"``, one whose explicit values have all been 1) is Bernoulli with Laplace's
``(ones + 1) / (weight + 2)``; every other feature is Gaussian with implicit zeros, ddof 1, plus
1e-9 of the largest pooled variance (as scikit-learn's ``var_smoothing``). As MOA's
naive-Bayes-adaptive leaves, it answers with naive Bayes only while naive Bayes has been right on
more learned records (each scored before it is learned) than the heaviest class; else with the
heaviest class.

The answer is a labelset, the chosen class. As scores, every label gets half its posterior
probability (the summed posteriors of the classes holding it), plus one half if it is in the
chosen class: above 0.5 exactly for the chosen labels, ranked by posterior within each group.

>>> import numpy as np
>>> from stream_xml.tree.pruned_sets import PrunedSets
>>> ps = PrunedSets(n_sets=2, buffer=4)
>>> nominal = np.ones(2, dtype=np.uint8)  # both features declared {0,1}
>>> records = [([0], [0]), ([1], [1, 2]), ([0], [0]), ([1], [1, 2]), ([0, 1], [3])]
>>> for features, labels in records * 3:
...     idx, positives = np.array(features), np.array(labels)
...     ps.learn(idx, np.ones(len(features)), positives, 1.0, nominal, False)
>>> [c.tolist() for c in ps.classes]
[[0], [1, 2]]
>>> proba = ps.predict_proba(np.array([1]), np.ones(1), 4, nominal, False)
>>> (proba > 0.5).tolist()
[False, True, True, False]

References
----------
Read, J., Pfahringer, B. and Holmes, G. (2008). Multi-label classification using ensembles of
pruned sets. Proc. ICDM 2008, 995-1000.

Read, J., Bifet, A., Holmes, G. and Pfahringer, B. (2012). Scalable and efficient multi-label
classification for evolving data streams. Machine Learning 88(1-2), 243-272.

Gama, J., Rocha, R. and Medas, P. (2003). Accurate decision trees for mining high-speed data
streams. Proc. KDD 2003, 523-528 (naive-Bayes-adaptive leaves).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from stream_xml.tree.common_kernels import dense_record
from stream_xml.tree.leaf_arrays import grown, resized, sum_nbytes

__all__ = ["PrunedSets", "PS_SETS", "PS_BUFFER"]

#: MEKA's defaults for PSUpdateable: at most 10 labelsets, chosen from the first 1,000 records.
PS_SETS = 10
PS_BUFFER = 1000


@njit(cache=True)
def ps_learn(ones, squares, not_one, seen, weight, c, idx, val, w):
    """Class ``c`` learns a record of weight ``w``: explicit values only (zeros are implicit).
    Returns True if a feature was seen non-zero, or other than 1, for the first time (which may
    change which features are Bernoulli)."""
    weight[c] += w
    changed = False
    for j in range(idx.shape[0]):
        f = idx[j]
        v = val[j]
        ones[c, f] += w * v
        squares[c, f] += w * v * v
        if v != 0.0 and not seen[f]:
            seen[f] = True
            changed = True
        if v != 1.0 and not not_one[f]:
            not_one[f] = True
            changed = True
    return changed


@njit(cache=True)
def ps_bernoulli_base(ones, weight, counted, c):
    """Sum over the Bernoulli columns of log P(x_f = 0 | c), Laplace's ``(ones + 1) / (w + 2)``."""
    w = weight[c]
    cols = ones.shape[1]
    base = 0.0
    for f in range(counted.shape[0]):
        if counted[f]:
            p = ((ones[c, f] if f < cols else 0.0) + 1.0) / (w + 2.0)
            base += math.log(1.0 - p)
    return base


@njit(cache=True)
def ps_log_posterior(ones, squares, weight, base, counted, gaussian, idx, val):
    """Log P(class | x) of naive Bayes, unnormalised (-inf for a class with no weight): the
    class's prior and Bernoulli base (every Bernoulli column at 0), the record's non-zero
    Bernoulli columns' corrections, and a Gaussian term per column of ``gaussian``."""
    n_classes = weight.shape[0]
    cols = ones.shape[1]
    total = 0.0
    for c in range(n_classes):
        total += weight[c]
    out = np.full(n_classes, -np.inf)
    if total <= 0.0:
        return out
    x = dense_record(idx, val, cols)
    largest = 0.0
    if total > 1.0:
        for f in gaussian:
            s1 = 0.0
            s2 = 0.0
            for c in range(n_classes):
                s1 += ones[c, f]
                s2 += squares[c, f]
            largest = max(largest, (s2 - s1 * s1 / total) / (total - 1.0))
    smoothing = 1e-9 * largest if largest > 0.0 else 1e-9
    for c in range(n_classes):
        w = weight[c]
        if w <= 0.0:
            continue
        lp = math.log(w / total) + base[c]
        for j in range(idx.shape[0]):
            f = idx[j]
            if f < counted.shape[0] and counted[f] and val[j] != 0.0:
                p = ((ones[c, f] if f < cols else 0.0) + 1.0) / (w + 2.0)
                lp += math.log(p) - math.log(1.0 - p)
        for f in gaussian:
            mean = ones[c, f] / w
            var = (squares[c, f] - w * mean * mean) / (w - 1.0) if w > 1.0 else 0.0
            var = max(var, 0.0) + smoothing
            d = x[f] - mean
            lp += -0.5 * math.log(2.0 * math.pi * var) - d * d / (2.0 * var)
        out[c] = lp
    return out


class PrunedSets:
    """The pruned-sets model of one leaf (see the module).

    Parameters
    ----------
    n_sets
        Most labelsets kept as classes.
    buffer
        Records kept before the classes are chosen (the leaf answers with its majority labelset
        until then).

    """

    def __init__(self, n_sets: int = PS_SETS, buffer: int = PS_BUFFER):
        if n_sets < 1 or buffer < 1:
            raise ValueError("n_sets and buffer must be >= 1")
        self.n_sets = n_sets
        self.buffer = buffer
        self._buffered: list | None = []  # (idx, val, labelset key, positives, w) until built
        self.classes: list[np.ndarray] = []
        self._class_of: dict[bytes, int] = {}
        self._ones = np.zeros((0, 0))  # per class and column: sum of w * x, and of w * x²
        self._squares = np.zeros((0, 0))
        self._seen = np.zeros(0, dtype=np.bool_)  # column seen non-zero
        self._not_one = np.zeros(0, dtype=np.bool_)  # column seen with a value other than 1
        self._weight = np.zeros(0)
        self._base = np.zeros(0)  # per class: its Bernoulli columns all 0 (ps_bernoulli_base)
        self._stale = np.zeros(0, dtype=np.bool_)  # classes whose base must be computed again
        self._kinds = None  # (nominal, binary, flags version): what _counted was made from
        self._flags_version = 0
        self._counted = np.zeros(0, dtype=np.bool_)
        self._gaussian = np.zeros(0, dtype=np.int64)
        self.nb_correct = 0.0  # weight of learned records naive Bayes got right, before learning them
        self.mc_correct = 0.0  # the same for the heaviest class
        self._last = None  # (idx, val, log posterior) of the last query

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_last"] = None
        return state

    @property
    def built(self) -> bool:
        """True once the classes are chosen."""
        return self._buffered is None

    def learn(self, idx, val, positives, w, nominal, binary) -> None:
        """Learn a record (``positives``: its sorted label ids); ``nominal`` and ``binary`` say
        which features are Bernoulli (see the module)."""
        if not self.built:
            self._buffered.append((idx, val, positives.tobytes(), positives, w))
            if len(self._buffered) >= self.buffer:
                self._build(nominal, binary)
            return
        c = self._class_of.get(positives.tobytes())
        if c is not None:
            self._score_and_learn(c, idx, val, w, nominal, binary)

    def _build(self, nominal, binary) -> None:
        buffered, self._buffered = self._buffered, None
        weights: dict[bytes, float] = {}
        first: dict[bytes, np.ndarray] = {}
        for _, _, key, positives, w in buffered:
            weights[key] = weights.get(key, 0.0) + w
            first.setdefault(key, positives)
        order = sorted(weights, key=lambda k: -weights[k])  # stable: first seen first on ties
        if len(order) > self.n_sets:
            cut = weights[order[self.n_sets]]  # MEKA's pruning: only labelsets heavier than it
            order = [k for k in order[: self.n_sets] if weights[k] > cut]
        self.classes = [np.array(first[k], dtype=np.int64) for k in order]
        self._class_of = {k: i for i, k in enumerate(order)}
        k = len(order)
        self._weight, self._base = np.zeros(k), np.zeros(k)
        self._stale = np.ones(k, dtype=np.bool_)
        self._grow(max((int(idx.max()) + 1 for idx, *_ in buffered if idx.shape[0]), default=0))
        for idx, val, key, _, w in buffered:
            c = self._class_of.get(key)
            if c is not None:
                self._score_and_learn(c, idx, val, w, nominal, binary)

    def _grow(self, n_cols: int) -> None:
        cols = self._ones.shape[1]
        if n_cols > cols:
            cols = grown(cols, n_cols)
            k = len(self.classes)
            self._ones = resized(self._ones, (k, cols), 0.0)
            self._squares = resized(self._squares, (k, cols), 0.0)
            self._seen = resized(self._seen, (cols,), False)
            self._not_one = resized(self._not_one, (cols,), False)

    def _refresh(self, nominal, binary) -> None:
        """Which columns are Bernoulli and which Gaussian, and every stale class's base."""
        kinds = self._kinds
        if kinds is None or kinds[0] is not nominal or kinds[1] != binary or kinds[2] != self._flags_version:
            n_cols = max(nominal.shape[0], self._ones.shape[1])
            counted = np.zeros(n_cols, dtype=np.bool_)
            counted[: nominal.shape[0]] = nominal != 0
            cols = self._ones.shape[1]
            if binary:
                counted[:cols] |= self._seen & ~self._not_one
            if not np.array_equal(counted, self._counted):
                self._counted = counted
                self._stale[:] = True
            self._gaussian = np.flatnonzero(self._seen & ~counted[:cols]).astype(np.int64)
            self._kinds = (nominal, binary, self._flags_version)
        for c in np.flatnonzero(self._stale):
            self._base[c] = ps_bernoulli_base(self._ones, self._weight, self._counted, c)
        self._stale[:] = False

    def _score_and_learn(self, c, idx, val, w, nominal, binary) -> None:
        heaviest = int(np.argmax(self._weight))
        if self._weight[heaviest] > 0.0:
            self.mc_correct += w * (heaviest == c)
            self.nb_correct += w * (int(np.argmax(self._log_posterior(idx, val, nominal, binary))) == c)
        if idx.shape[0] and idx.max() >= self._ones.shape[1]:
            self._grow(int(idx.max()) + 1)
        if ps_learn(self._ones, self._squares, self._not_one, self._seen, self._weight, c, idx, val, w):
            self._flags_version += 1
        self._stale[c] = True
        self._last = None

    def _log_posterior(self, idx, val, nominal, binary) -> np.ndarray:
        last = self._last
        if last is not None and last[0] is idx and last[1] is val:
            return last[2]
        self._refresh(nominal, binary)
        lp = ps_log_posterior(self._ones, self._squares, self._weight, self._base, self._counted,
                              self._gaussian, idx, val)  # fmt: skip
        self._last = (idx, val, lp)  # the arrays are kept alive, so `is` is safe
        return lp

    def predict_proba(self, idx, val, n_labels: int, nominal, binary) -> np.ndarray | None:
        """Scores per label (see the module), None until the classes are chosen and learned."""
        if not self.built or not self._weight.shape[0] or self._weight.max() <= 0.0:
            return None
        lp = self._log_posterior(idx, val, nominal, binary)
        posterior = np.exp(lp - lp.max())
        posterior /= posterior.sum()
        chosen = int(np.argmax(lp)) if self.nb_correct > self.mc_correct else int(np.argmax(self._weight))
        out = np.zeros(n_labels)
        for c, labelset in enumerate(self.classes):
            if posterior[c] > 0.0:
                out[labelset[labelset < n_labels]] += 0.5 * posterior[c]
        chosen_set = self.classes[chosen]
        out[chosen_set[chosen_set < n_labels]] += 0.5
        return out

    def memory_bytes(self) -> int:
        n = sum_nbytes(self) + sum(c.nbytes for c in self.classes)
        if self._buffered is not None:
            n += sum(idx.nbytes + val.nbytes for idx, val, *_ in self._buffered)
        return n
