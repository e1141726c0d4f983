"""LabelTreeClassifier: an online probabilistic label tree grown from the label stream.

See :mod:`stream_xml.labeltree` for the design, and docs/extreme.md for the measurements behind
its defaults.
"""

from __future__ import annotations

import typing

import numpy as np

from stream_xml.base import MultiLabelLearner
from stream_xml.labels import MAX_KEPT_LABELSETS, LabelSpace
from stream_xml.labeltree.arena import WeightArena
from stream_xml.labeltree.cooccurrence import CoOccurrence
from stream_xml.labeltree.features import FeatureEncoder
from stream_xml.labeltree.label_thresholds import LabelThresholds, thresholded_ids
from stream_xml.labeltree.labelsets import KeptLabelsets
from stream_xml.labeltree.layout import (
    EV_DEPTH,
    EV_KIND,
    EV_SIZE,
    EVENT_NAMES,
    HEIGHT,
    N_DIRTY,
    N_EVENTS,
    N_FLAGS,
    N_LEARNED,
    N_MERGES,
    N_MONITORS,
    N_MOVES,
    N_NODES,
    N_RESETS,
    N_SPLITS,
    STAMP,
)
from stream_xml.labeltree.monitors import NodeMonitors
from stream_xml.labeltree.plt import (
    IP_LANE_BITS,
    IP_SALT,
    IP_SHIFT,
    Workspace,
    learn_record,
    pack_parameters,
    predict_record,
)
from stream_xml.labeltree.threshold import TAU, F1Threshold
from stream_xml.labeltree.tree import PLACEMENTS, LabelTree

__all__ = ["LabelTreeClassifier", "check_params"]

_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0)
# rough bytes of one entry of a Python dict of names plus its list slot and the name
_NAME_BYTES = 120


class LabelTreeClassifier(MultiLabelLearner):
    """Online probabilistic label tree for extreme multi-label streams, its tree grown from the
    labels' co-occurrence.

    Every label is a leaf of a B-tree whose internal nodes group labels that occur together
    (iHOMER's idea, Tsoumakas et al.'s HOMER hierarchy built online). Every node holds a sparse
    logistic regression estimating the probability that some label below it is relevant, given
    that some label below its parent is (probabilistic label trees, PLT: Jasinska et al., ICML
    2016; grown online as in OPLT: Jasinska-Kobus et al., AISTATS 2021); a label's score is the
    product of the probabilities on its path. All node weights live in one hashed table of
    ``2**bits`` slots (feature hashing: Weinberger et al., ICML 2009) and learn by AdaGrad
    (Duchi, Hazan, Singer, JMLR 2011). A record trains only the nodes on its labels' paths
    (positives) and their other children (negatives), and prediction is a uniform-cost search
    for the best products, so the cost per record grows with the depth, not with the number of
    labels; memory is the table plus O(labels x partners). Labels co-occurring more with
    another cluster than with their own move there, under a Hoeffding guard; internal nodes
    whose loss rises (ADWIN: Bifet & Gavaldà, SDM 2007) restart their weights.

    The predicted labelset is every label scoring at least a threshold adapted online to the
    best micro-F1 so far (``threshold=None``), or a fixed ``threshold``; with ``labelsets`` it
    may instead be the likeliest of the stream's frequent labelsets, whichever of the two
    answers has had the smaller Jaccard loss (:mod:`stream_xml.labeltree.labelsets`).

    Parameters
    ----------
    arity
        Most children per node (3 to 32: a node over the arity splits in two halves of at least
        two children each, which keeps the depth logarithmic).
    bits
        log2 of the number of weight slots (8 bytes each: 24 is 128 MB). None: chosen when the
        first record is learned from the labels known then (declared or seen),
        ``ceil(log2 L) + 10`` within [22, 26] (22 up to 4,096 labels, 24 for 10^4, 26 from
        6 x 10^4); pass it when the stream does not declare its labels.
    learning_rate
        AdaGrad's step size.
    adagrad_eps
        Added to AdaGrad's sum of squared gradients under the square root (damps first steps).
    top_k
        Labels the search always returns (the scores of ``predict_with_scores``).
    threshold
        Fixed labelset threshold, or None to adapt it towards the best micro-F1.
    threshold_floor
        Lowest threshold, and lowest score the search looks for beyond ``top_k``.
    partners
        Co-occurring labels remembered per label.
    restructure_every
        Records between two passes moving labels between clusters (0: never; see
        docs/extreme.md for why that is the default).
    move_delta
        Confidence of the Hoeffding guard on a move.
    min_count
        Records a label must have occurred in before it may move.
    cooccurrence_fading
        Factor applied to the co-occurrence counts every ``restructure_every`` records (1.0: none);
        a faded label may move once more.
    drift_detection
        Watch internal nodes' losses with ADWIN and restart the weights of a node whose loss rose.
    drift_delta
        ADWIN's confidence.
    normalize
        Scale each record to unit L2 norm (else values are only clipped to +-1e6).
    max_expansions
        Most nodes one search expands.
    labelsets
        Frequent labelsets kept to answer with the likeliest of them while that has done better
        than the thresholded labels (0 or None: none; iHOMER's sparse hand-over sets None to 256).
    label_thresholds
        Also give every label a threshold of its own, moved towards its best F1
        (:mod:`stream_xml.labeltree.label_thresholds`): more macro-F1 for a little micro-F1 and
        subset accuracy (docs/extreme.md); a label is predicted at the lower of the two.
    placement
        Where a new label goes: ``"cooccurrence"`` (beside the record's known labels, else down
        the path the record's features score best), ``"features"`` (always down that path), or
        ``"order"`` (in order of arrival, nodes split by position: no statistics, the shape of
        Vowpal Wabbit's tree; for comparison).
    seed
        Salt of the weight table's hash (the model is otherwise deterministic).

    Examples
    --------
    Two topics with two labels each; every record carries the labels of its topic:

    >>> from stream_xml.labeltree import LabelTreeClassifier
    >>> model = LabelTreeClassifier(arity=3, bits=16)
    >>> topics = {"sport": ({"ball": 1.0, "goal": 1.0}, {"football", "match"}),
    ...           "cook": ({"pan": 1.0, "salt": 1.0}, {"recipe", "dinner"})}
    >>> for i in range(300):
    ...     x, labels = topics["sport" if i % 2 else "cook"]
    ...     model.learn_labelset(x, labels)
    >>> predicted, scores = model.predict_with_scores({"pan": 1.0})
    >>> sorted(predicted)
    ['dinner', 'recipe']
    >>> sorted(sorted(cluster) for cluster in model.clusters())
    [['dinner', 'recipe'], ['football', 'match']]
    >>> model.predict_one({"ball": 2.0})["football"]
    True

    Structural events come out as iHOMER's and MLHAT's do:

    >>> sorted({event["kind"] for event in model.drain_events()})
    ['new_root', 'node_split']

    References
    ----------
    - Jasinska, K., Dembczyński, K., Busa-Fekete, R., Pfannschmidt, K., Klerx, T., Hüllermeier,
      E. (2016). Extreme F-measure maximization using sparse probability estimates. ICML 2016.
    - Wydmuch, M., Jasinska, K., Kuznetsov, M., Busa-Fekete, R., Dembczyński, K. (2018). A
      no-regret generalization of hierarchical softmax to extreme multi-label classification.
      NeurIPS 2018.
    - Jasinska-Kobus, K., Wydmuch, M., Thiruvenkatachari, D., Dembczyński, K. (2021). Online
      probabilistic label trees. AISTATS 2021.
    - Tsoumakas, G., Katakis, I., Vlahavas, I. (2008). Effective and efficient multilabel
      classification in domains with large number of labels. ECML/PKDD 2008 Workshop on Mining
      Multidimensional Data (MMD'08).
    - Prabhu, Y., Kag, A., Harsola, S., Agrawal, R., Varma, M. (2018). Parabel: Partitioned label
      trees for extreme classification with application to dynamic search advertising. WWW 2018
      (balanced 2-means splits of label sets; here over co-occurrence, not label centroids).
    - Weinberger, K., Dasgupta, A., Langford, J., Smola, A., Attenberg, J. (2009). Feature hashing
      for large scale multitask learning. ICML 2009.
    - Duchi, J., Hazan, E., Singer, Y. (2011). Adaptive subgradient methods for online learning
      and stochastic optimization. JMLR 12, 2121-2159.
    - Bifet, A., Gavaldà, R. (2007). Learning from time-changing data with adaptive windowing.
      SDM 2007.
    - Metwally, A., Agrawal, D., El Abbadi, A. (2005). Efficient computation of frequent and top-k
      elements in data streams. ICDT 2005 (the co-occurrence rows).
    - Lipton, Z. C., Elkan, C., Narayanaswamy, B. (2014). Optimal thresholding of classifiers to
      maximize F1 measure. ECML PKDD 2014 (the labelset threshold).
    - Domingos, P., Hulten, G. (2000). Mining high-speed data streams. KDD 2000 (the Hoeffding
      bound as a guard on decisions from a stream).
    - Busa-Fekete, R., Szörényi, B., Dembczyński, K., Hüllermeier, E. (2015). Online F-measure
      optimization. NIPS 2015 (``label_thresholds``).

    """

    _own_thresholds = None  # models pickled before label_thresholds existed have none

    def __init__(
        self,
        arity: int = 16,
        bits: int | None = None,
        learning_rate: float = 1.0,
        adagrad_eps: float = 0.1,
        top_k: int = 5,
        threshold: float | None = None,
        threshold_floor: float = 0.02,
        partners: int = 32,
        restructure_every: int = 0,
        move_delta: float = 0.01,
        min_count: int = 10,
        cooccurrence_fading: float = 1.0,
        drift_detection: bool = True,
        drift_delta: float = 0.002,
        normalize: bool = True,
        max_expansions: int = 2000,
        labelsets: int | None = None,
        label_thresholds: bool = False,
        placement: str = "cooccurrence",
        seed: int = 0,
    ):
        self.arity = arity
        self.bits = bits
        self.learning_rate = learning_rate
        self.adagrad_eps = adagrad_eps
        self.top_k = top_k
        self.threshold = threshold
        self.threshold_floor = threshold_floor
        self.partners = partners
        self.restructure_every = restructure_every
        self.move_delta = move_delta
        self.min_count = min_count
        self.cooccurrence_fading = cooccurrence_fading
        self.drift_detection = drift_detection
        self.drift_delta = drift_delta
        self.normalize = normalize
        self.max_expansions = max_expansions
        self.labelsets = labelsets
        self.label_thresholds = label_thresholds
        self.placement = placement
        self.seed = seed
        check_params(self)

        self._labels = LabelSpace()
        self._features = FeatureEncoder()
        self._tree = LabelTree(arity)
        self._co = CoOccurrence(m=partners)
        self._arena: WeightArena | None = None  # allocated when the first record is learned
        self._monitors = NodeMonitors(delta=drift_delta)
        initial = 0.5 if threshold is None else threshold
        self._threshold = F1Threshold(initial=max(initial, threshold_floor), floor=min(threshold_floor, initial),
                                      adaptive=threshold is None)
        self._dirty = np.zeros(0, dtype=np.int64)
        self._label_flags = np.zeros((0, N_FLAGS), dtype=np.int64)
        self._ip, self._fp = pack_parameters(self._get_params(), self._tree.lanes, PLACEMENTS[placement])
        self._work = Workspace(arity, max_expansions)
        self._events: list[dict] = []
        self._last: tuple | None = None  # (encoded record, candidate ids, scores, stamp, ids predicted)
        self._ids_of: dict = {}  # frozenset of names -> sorted id array (labelsets repeat)
        self._kept = KeptLabelsets(labelsets) if labelsets else None
        self._own_thresholds = LabelThresholds() if label_thresholds else None
        self._reserve_labels(0)

    def _allocate_table(self) -> None:
        bits = self.bits
        if bits is None:
            bits = min(26, max(22, (max(len(self._labels), 1) - 1).bit_length() + 10))
        self._arena = WeightArena(bits, lanes=self._tree.lanes, salt=self.seed)
        self._ip[IP_LANE_BITS] = self._arena.lane_bits
        self._ip[IP_SHIFT] = self._arena.shift
        self._ip[IP_SALT] = self._arena.salt

    @classmethod
    def _unit_test_params(cls):
        yield {"bits": 16}
        yield {"bits": 16, "arity": 3, "threshold": 0.5, "drift_detection": False, "restructure_every": 10}
        yield {"bits": 16, "arity": 4, "normalize": False, "min_count": 0}
        yield {"bits": 16, "labelsets": 8, "label_thresholds": True}

    # -- labels ----------------------------------------------------------------------------------
    @property
    def labels(self) -> list:
        """Known label names, in the order of their ids."""
        return list(self._labels.names)

    def add_labels(self, names: typing.Iterable) -> None:
        """Make labels known. A label gets a leaf only when a learned record carries it."""
        if self._labels.add_all(names):
            self._reserve_labels(len(self._labels))

    def _reserve_labels(self, n: int) -> None:
        self._tree.reserve_labels(n)
        self._co.reserve(n)
        more = self._tree.label_leaf.shape[0] - self._dirty.shape[0]
        if more > 0:
            self._dirty = np.concatenate([self._dirty, np.zeros(more, dtype=np.int64)])
            self._label_flags = np.concatenate([self._label_flags, np.zeros((more, N_FLAGS), dtype=np.int64)])

    def _ids(self, labelset) -> np.ndarray:
        """Sorted distinct ids of the names in ``labelset``, new names registered."""
        cached = self._ids_of.get(labelset) if isinstance(labelset, frozenset) else None
        if cached is not None:
            return cached
        names = labelset if isinstance(labelset, (set, frozenset)) else set(labelset)
        if self._labels.add_all(names):
            self._reserve_labels(len(self._labels))
        ids = np.array(self._labels.ids(names), dtype=np.int64) if names else _EMPTY_IDS
        if isinstance(labelset, frozenset):
            if len(self._ids_of) >= MAX_KEPT_LABELSETS:
                self._ids_of.clear()
            self._ids_of[labelset] = ids
        return ids

    # -- work arrays -----------------------------------------------------------------------------
    # -- learning --------------------------------------------------------------------------------
    def learn_labelset(self, x: dict, labelset: typing.Iterable) -> None:
        """Learn ``x`` whose relevant labels are the names in ``labelset`` (unknown names are
        added; every other label is irrelevant)."""
        ids = self._ids(labelset)
        if self._arena is None:
            self._allocate_table()
        encoded = self._features.encode(x, learn=True)
        idx, val = encoded
        tree, state = self._tree, self._tree.state
        last, self._last = self._last, None
        if self._kept is not None:
            self._kept.learn_record(encoded, ids)
        if last is not None and last[0] is encoded and last[3] == state[STAMP]:
            cand_labels, cand_scores = last[1], last[2]
            n_cand = cand_labels.shape[0]
            if self._own_thresholds is not None and last[4] is not None:
                self._own_thresholds.learn(ids, last[4])
        else:
            state[STAMP] += 1  # void logits cached by a prediction of another record
            cand_labels, cand_scores, n_cand = _EMPTY_IDS, _EMPTY_SCORES, -1
        n_labels = ids.shape[0]
        checking = self.restructure_every > 0 and (state[N_LEARNED] + 1) % self.restructure_every == 0
        moves = int(state[N_DIRTY]) if checking else 0  # at most every pending label moves
        # every new label or move adds a leaf and may split a node per level and add a root;
        # drift resets may take a new group for each trained node
        height = int(state[HEIGHT])
        tree.reserve_nodes((n_labels + moves + 1) * (height + 3) + self.arity * (n_labels + 1) * (height + 1))
        if self.drift_detection and state[N_MONITORS] + 2 * self.arity * (n_labels + 1) > self._monitors.capacity:
            self._monitors.reserve(2 * self._monitors.capacity + 2 * self.arity * (n_labels + 1))
        work = self._work.for_record(idx.shape[0], n_labels, height)
        learn_record(
            idx, val, len(self._features), ids, tree.arrays(), self._co_arrays(), tree.scratch(),
            self._arena.weights, self._arena.sums, self._monitors.arrays(), self._threshold.hist,
            self._threshold.state, cand_labels, cand_scores, n_cand, self._dirty, self._label_flags, self._ip,
            self._fp, work,
        )
        if state[N_EVENTS]:
            self._collect_events()

    def _co_arrays(self) -> tuple:
        co = self._co
        return (co.partners, co.counts, co.errors, co.occurrences)

    def _collect_events(self) -> None:
        state, rows = self._tree.state, self._tree.events
        n = int(state[N_EVENTS])
        t = int(state[N_LEARNED])
        for kind, depth, size in rows[: min(n, rows.shape[0]), [EV_KIND, EV_DEPTH, EV_SIZE]].tolist():
            self._events.append({"kind": EVENT_NAMES[kind], "depth": depth, "size": size, "t": t})
        if n > rows.shape[0]:
            self._events.append({"kind": "events_dropped", "count": n - rows.shape[0], "t": t})
        state[N_EVENTS] = 0

    # -- prediction ------------------------------------------------------------------------------
    def _search(self, x: dict) -> tuple[np.ndarray, np.ndarray]:
        if self._arena is None:  # nothing learned yet
            return _EMPTY_IDS, _EMPTY_SCORES
        encoded = self._features.encode(x, learn=False)
        idx, val = encoded
        ws = self._work
        n_out, _ = predict_record(
            idx, val, len(self._features), self._tree.arrays(), self._arena.weights, self._ip,
            self._threshold.explore, ws.heap_p, ws.heap_v, ws.out_labels, ws.out_scores,
            ws.for_record(idx.shape[0], 0, 0),
        )
        # views: the next search overwrites them, and only the learning call that follows this
        # search (same record, see learn_labelset) reads them
        labels = ws.out_labels[:n_out]
        scores = ws.out_scores[:n_out]
        self._last = (encoded, labels, scores, self._tree.state[STAMP], None)
        return labels, scores

    def predict_with_scores(self, x: dict) -> tuple[frozenset, dict]:
        """The predicted labelset and the scores of the labels the search reached (the top
        ``top_k`` and every label down to the search's reach; every other label scores 0)."""
        labels, scores = self._search(x)
        if not labels.shape[0]:
            return frozenset(), {}
        names = self._labels.names
        chosen = [names[i] for i in labels.tolist()]
        thresholded = thresholded_ids(labels, scores, self._threshold.state[TAU], self._own_thresholds)
        self._last = self._last[:4] + (thresholded,)  # the labels' own thresholds count it when learned
        if self._kept is not None:
            likeliest = self._kept.answer(self._last[0], labels, scores, thresholded, len(self._labels),
                                          self.threshold_floor)
            if likeliest is not None:
                return frozenset(names[i] for i in likeliest), dict(zip(chosen, scores.tolist()))
        return frozenset(names[i] for i in thresholded.tolist()), dict(zip(chosen, scores.tolist()))

    # -- introspection ---------------------------------------------------------------------------
    @property
    def tau(self) -> float:
        """The labelset threshold now."""
        return self._threshold.tau

    @property
    def height(self) -> int:
        """Depth of every leaf."""
        return self._tree.height

    @property
    def n_nodes(self) -> int:
        return int(self._tree.state[N_NODES])

    @property
    def counters(self) -> dict:
        """Structural counters: splits, label moves, merges, drift resets, records learned."""
        s = self._tree.state
        return {"splits": int(s[N_SPLITS]), "moves": int(s[N_MOVES]), "merges": int(s[N_MERGES]),
                "drift_resets": int(s[N_RESETS]), "learned": int(s[N_LEARNED])}

    def table_load(self) -> dict:
        """How full the weight table is: slots updated and buckets in use (shares); the bucket
        load is about the collision rate of a new (node, feature) pair. O(2**bits)."""
        if self._arena is None:
            return {"slots": 0, "slot_load": 0.0, "bucket_load": 0.0}
        return {"slots": self._arena.weights.shape[0], "slot_load": self._arena.occupancy(),
                "bucket_load": self._arena.bucket_load()}

    def clusters(self) -> list[list]:
        """The label names of every leaf-parent of the tree."""
        names = self._labels.names
        return [[names[i] for i in cluster] for cluster in self._tree.clusters()]

    def drain_events(self) -> list[dict]:
        """Structural events since the last call, each with ``kind`` (``node_split``,
        ``new_root``, ``label_moved``, ``cluster_merged``, ``node_drift``), ``depth`` (of the
        node concerned), ``size`` (its children) and ``t`` (records learned)."""
        events, self._events = self._events, []
        return events

    def memory_bytes(self) -> int:
        """Bytes of the arrays (weight table, tree, co-occurrence, detectors, work) and an
        estimate of the name maps of labels and features."""
        total = self._dirty.nbytes + self._label_flags.nbytes + self._work.memory_bytes()
        total += self._arena.memory_bytes() if self._arena is not None else 0
        total += self._tree.memory_bytes() + self._co.memory_bytes()
        total += self._monitors.memory_bytes() + self._threshold.memory_bytes()
        total += self._kept.memory_bytes() if self._kept is not None else 0
        total += self._own_thresholds.memory_bytes() if self._own_thresholds is not None else 0
        return total + _NAME_BYTES * len(self._labels) + self._features.memory_bytes()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_last"] = None  # the cache of the record at hand
        state["_ids_of"] = {}
        return state


def check_params(model: "LabelTreeClassifier") -> None:
    """Refuse parameters out of range, naming them."""
    if not 3 <= model.arity <= 32:
        raise ValueError(f"arity must be in [3, 32], got {model.arity!r}")
    if model.learning_rate <= 0 or model.adagrad_eps <= 0:
        raise ValueError("learning_rate and adagrad_eps must be positive")
    lane_bits = (model.arity - 1).bit_length()  # the bits of a node's slot that pick its child
    if model.bits is not None and not lane_bits < model.bits <= 34:
        raise ValueError(f"bits must be None or in ({lane_bits}, 34], got {model.bits!r}")
    if model.top_k < 1 or model.max_expansions < model.top_k:
        raise ValueError(f"need 1 <= top_k <= max_expansions, got {model.top_k!r}, {model.max_expansions!r}")
    if model.threshold is not None and not 0.0 < model.threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1] or None, got {model.threshold!r}")
    if not 0.0 < model.threshold_floor < 1.0:
        raise ValueError(f"threshold_floor must be in (0, 1), got {model.threshold_floor!r}")
    if model.restructure_every < 0 or model.min_count < 0 or not 0.0 < model.move_delta < 1.0:
        raise ValueError("need restructure_every >= 0, min_count >= 0 and 0 < move_delta < 1")
    if model.placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {model.placement!r}")
    if model.labelsets is not None and model.labelsets < 0:
        raise ValueError(f"labelsets must be None or >= 0, got {model.labelsets!r}")
    if not 0.0 < model.cooccurrence_fading <= 1.0:
        raise ValueError(f"cooccurrence_fading must be in (0, 1], got {model.cooccurrence_fading!r}")
