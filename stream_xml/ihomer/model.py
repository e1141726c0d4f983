"""iHOMER: an Incremental Hierarchy Of Multi-label ClassifiERs.

iHOMER clusters the labels online (ODAC-J: Jaccard dissimilarity, Hoeffding-bound splits and
merges; :mod:`stream_xml.clustering`), refines the cluster tree's leaves into blocks of labels
(:mod:`stream_xml.ihomer.partition`), and trains multi-label Hoeffding adaptive trees
(:mod:`stream_xml.tree`) over those blocks. Drift is handled at two levels: the clustering
restructures the hierarchy when label correlations change, or restarts when a global watcher
says they have (:mod:`stream_xml.ihomer.watchers`), and every tree watches its own loss with
ADWIN and grows alternate subtrees (local).

Two ways to use the hierarchy (``mode``, :mod:`stream_xml.ihomer.modes`):

- ``"partition"``: one tree per block, every record reaches every block; a root tree over all
  labels learns beside them, and an arbiter (:mod:`stream_xml.ihomer.arbiter`) lets the blocks
  or the root tree answer, whichever has had the smaller loss.
- ``"routing"``: HOMER routing: the cluster tree's internal nodes learn meta-labels ("is any
  label below this child relevant?"); a record is learned only by the nodes whose labels it
  carries and predicted only down the branches whose meta-label fires, so the cost per record
  follows the labels present rather than all labels.

Every kNN leaf of every tree looks distances up in one shared memo, so the recent records all
blocks' leaves hold are compared with a query once.

>>> from river import datasets
>>> from stream_xml.ihomer import IHOMER
>>> model = IHOMER(seed=1)
>>> for x, y in datasets.Yeast().take(400):
...     model.learn_one(x, y)
>>> predicted, scores = model.predict_with_scores(x)
>>> sorted(scores) == sorted(y)
True
>>> all(0.0 <= p <= 1.0 for p in scores.values())
True

References
----------
Tsoumakas, G., Katakis, I. and Vlahavas, I. (2008). Effective and efficient multilabel
classification in domains with large number of labels. Proc. ECML/PKDD 2008 Workshop on Mining
Multidimensional Data (MMD'08).

Rodrigues, P. P., Gama, J. and Pedroso, J. P. (2008). Hierarchical clustering of time-series
data streams. IEEE Transactions on Knowledge and Data Engineering 20(5), 615-627 (ODAC).

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561 (MLHAT).

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2025). Online hierarchical partitioning of the
output space in extreme multi-label data stream (iHOMER).
"""

from __future__ import annotations

import math

import numpy as np

from stream_xml.base import MultiLabelLearner
from stream_xml.clustering import ODACJ, LabelsetSizeHistogram, refine
from stream_xml.ihomer.modes import MODES, PartitionEnsemble, RecordAtHand
from stream_xml.ihomer.partition import RecentRecords
from stream_xml.ihomer.watchers import SIGNALS, RisingChange
from stream_xml.labels import LabelSpace
from stream_xml.tree import MLHAT
from stream_xml.tree.features import FeatureIndex
from stream_xml.tree.knn import DistanceMemo

__all__ = ["IHOMER", "default_tree", "default_root_tree", "default_clustering"]

# restructure events carry the partition and the tree for the report; these bound their size
REPORTED_NAMES = 40
REPORTED_BLOCKS = 200
FALLBACKS = ("root", "replaced")


def default_clustering() -> ODACJ:
    """The clustering iHOMER clones when given none: ODAC-J with the reference's δ = 0.9."""
    return ODACJ(n_min=100, delta=0.9, tau=0.1)


def default_tree() -> MLHAT:
    """The block learner iHOMER clones when given none: MLHAT whose leaves choose between kNN and
    bagging by their measured loss."""
    return MLHAT(leaf_switch="loss")


def default_root_tree(tree: MLHAT) -> MLHAT:
    """The root learner iHOMER clones when given none: the block learner ``tree`` with a longer
    kNN memory, which a tree over all labels needs to find its many labelsets among neighbours
    (on Yeast 0.178 / 0.623 subset accuracy / micro-F1 against 0.139 / 0.606 with the blocks'
    170 records and 4 neighbours), and the majority labelset as a third leaf candidate (which
    suits a tree over all labels, not block trees, whose majority is often the empty set)."""
    return tree.clone({"leaf_switch": "loss_with_majority", "knn_window": 1000, "knn_k": 5})


class _Learners:
    """The factory of one iHOMER's node learners: clones of a template, seeded one after the
    other from the model's seed, sharing its feature index (a record is encoded once) and its
    distance memo (a kNN distance is computed once)."""

    def __init__(self, seed: int, features: FeatureIndex, memo: DistanceMemo):
        self.seed = seed
        self.features = features
        self.memo = memo
        self.n_made = 0

    def __call__(self, template: MLHAT) -> MLHAT:
        self.n_made += 1
        learner = template.clone({"seed": self.seed * 100003 + self.n_made})
        learner.share_features(self.features, self.memo)
        return learner


class IHOMER(MultiLabelLearner):
    """Incremental hierarchy of multi-label Hoeffding adaptive trees over online label clusters.

    Parameters
    ----------
    mode
        ``"partition"`` (one learner per block, every record to every block) or ``"routing"``
        (HOMER routing over the cluster tree with meta-label learners).
    clustering
        The label clustering to clone (:class:`~stream_xml.clustering.ODACJ`; None:
        :func:`default_clustering`), again whenever a global watcher restarts it.
    tree
        The node learner to clone for every block (and routing node): an
        :class:`~stream_xml.tree.MLHAT` (None: :func:`default_tree`). Every clone gets its own
        seed, derived from ``seed``.
    root_learner
        Partition mode: also train a tree over all labels, the learner of the cluster tree's
        root, which answers as ``root_choice`` says and stands in for new blocks while they are
        on trial (``fallback="root"``). While the partition is a single block, the root learner
        is that block's learner (unless ``root_tree`` is another kind of tree).
    root_tree
        The root learner to clone (None: :func:`default_root_tree` of ``tree``).
    root_choice
        ``"record"``: each record is answered wholly by the blocks or by the root learner,
        whichever has the smaller faded Jaccard loss on whole labelsets (exact match would pick
        a majority labelset on streams where hardly any record is matched exactly, at a large
        cost in F1); ``"block"``: each block answers with whichever of its own learner and the
        root learner has made fewer faded exact-match errors on its labels.
    min_block
        Least block size the refinement aims for, beside the most frequent labelset size
        (``1``: that size alone); ``"sqrt"`` asks for ⌈√L⌉ labels, L the labels known, so there
        are about √L blocks of about √L labels. Small clusters are merged with their nearest
        relatives in the cluster tree, so blocks stay unions of clusters.
    max_block
        Largest block size (labels) a merge of small blocks may produce (None: no limit).
    restructure_min_t
        No restructure before this many records.
    replay
        How many recent records a new block's learner replays when it is created (0: none).
    warmup
        Partition mode: a new block's learner answers for its labels only after learning this
        many records and once it has made fewer label errors than its fallback on the records
        since it was created; 0 switches at once.
    warmup_limit
        The new learner takes over after this many records whatever its errors.
    fallback
        Who answers for a new block's labels while its learner is on trial: ``"root"``, the root
        learner, which has learned every record; or ``"replaced"``, the learners of the blocks it
        replaces (kept, and learning, until the hand-over). Without a root learner ``"root"``
        acts as ``"replaced"``. Over the 21 datasets of experiments/RESULTS.md both give the
        same mean subset accuracy and micro-F1 to four decimals; the root is cheaper.
    drift_signals
        The global drift watchers (:mod:`stream_xml.ihomer.watchers`): ``"correlation"`` (the
        share of co-occurring label pairs that straddle two blocks) and ``"loss"`` (the stream's
        Hamming loss); when one rises, the clustering restarts from fresh statistics.
    route_threshold
        Routing mode: a record is passed down to a child whose meta-label has more than this
        probability (lower values trade speed for fewer routing misses).
    seed
        Seed of the node learners (each gets its own, derived from this one).

    """

    def __init__(
        self,
        mode: str = "partition",
        clustering: ODACJ | None = None,
        tree: MLHAT | None = None,
        root_learner: bool = True,
        root_tree: MLHAT | None = None,
        root_choice: str = "record",
        min_block: int | str = "sqrt",
        max_block: int | None = None,
        restructure_min_t: int = 100,
        replay: int = 100,
        warmup: int = 500,
        warmup_limit: int = 2000,
        fallback: str = "root",
        drift_signals: tuple = ("correlation",),
        route_threshold: float = 0.5,
        seed: int = 0,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {tuple(MODES)}, got {mode!r}")
        if min_block != "sqrt" and not (isinstance(min_block, int) and min_block >= 1):
            raise ValueError(f"min_block must be an integer >= 1 or 'sqrt', got {min_block!r}")
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {FALLBACKS}, got {fallback!r}")
        unknown = set(drift_signals) - set(SIGNALS)
        if unknown:
            raise ValueError(f"drift_signals must be among {SIGNALS}, got {sorted(unknown)}")
        self.mode = mode
        self.clustering = clustering
        self.tree = tree
        self.root_learner = root_learner
        self.root_tree = root_tree
        self.root_choice = root_choice
        self.min_block = min_block
        self.max_block = max_block
        self.restructure_min_t = restructure_min_t
        self.replay = replay
        self.warmup = warmup
        self.warmup_limit = warmup_limit
        self.fallback = fallback
        self.drift_signals = tuple(drift_signals)
        self.route_threshold = route_threshold
        self.seed = seed

        self._space = LabelSpace()
        self._features = FeatureIndex()  # shared by every tree: a record is encoded once
        self._factory = _Learners(seed, self._features, DistanceMemo())
        self._odac = self._clustering_template().clone()
        self._sizes = LabelsetSizeHistogram()
        self._recent = RecentRecords(replay)
        self._events: list = []
        self._mode = self._new_mode()
        self._correlation = RisingChange() if "correlation" in self.drift_signals else None
        self._loss = RisingChange() if "loss" in self.drift_signals else None
        self._at_hand: RecordAtHand | None = None  # the record last predicted
        self._t = 0
        self._pending = False  # a clustering change waiting for restructure_min_t
        self.n_restructures = 0

    # -- construction -----------------------------------------------------------------------------
    def templates(self) -> dict:
        """The sub-learners this model clones, as it uses them (defaults filled in)."""
        tree = self.tree if self.tree is not None else default_tree()
        templates = {"clustering": self._clustering_template(), "tree": tree}
        if self.root_learner:
            templates["root_tree"] = self.root_tree if self.root_tree is not None else default_root_tree(tree)
        return templates

    def _clustering_template(self) -> ODACJ:
        return self.clustering if self.clustering is not None else default_clustering()

    def _new_mode(self):
        templates = self.templates()
        common = (self._space, self._features.names, self._recent, self._factory, templates["tree"], self._events)
        if self.mode == "routing":
            return MODES["routing"](*common, threshold=self.route_threshold)
        return PartitionEnsemble(
            *common, root_tree=templates.get("root_tree"), root_choice=self.root_choice,
            fallback=self.fallback, warmup=self.warmup, warmup_limit=self.warmup_limit,
        )  # fmt: skip

    @classmethod
    def _unit_test_params(cls):
        yield {"clustering": ODACJ(n_min=50, delta=0.9, tau=0.1), "tree": MLHAT(grace_period=50, leaf_switch="loss")}
        yield {"mode": "routing", "clustering": ODACJ(n_min=50, delta=0.9, tau=0.1), "tree": MLHAT(grace_period=50)}

    @property
    def _is_stochastic(self):
        return True

    # -- labels -----------------------------------------------------------------------------------
    @property
    def labels(self) -> list:
        return list(self._space.names)

    def add_labels(self, names) -> None:
        """Register labels declared before they appear (e.g. in a file header)."""
        new = [self._space.add(n) for n in names if n not in self._space]
        for i in new:
            self._odac.add_label(i)
        if new:
            self._place_new_labels(new, ())

    def _place_new_labels(self, new_ids, positives) -> None:
        """A new label joins the block holding most of the record's other labels (else the largest)."""
        if not self._mode.partition.blocks:
            self._install([frozenset(new_ids)])
        else:
            self._mode.place(new_ids, positives, self._odac.tree)

    # -- learning ---------------------------------------------------------------------------------
    def learn_labelset(self, x, labelset) -> None:
        # encoded first: a record the trees cannot digest is refused before anything is counted
        encoded = self._features.encode(x, learn=True)
        names = frozenset(labelset)
        space = self._space
        new = space.add_all(names)
        sorted_ids = space.ids(names)
        ids = frozenset(sorted_ids)
        if new:
            self._place_new_labels(new, ids - set(new))
        self._t += 1
        if self._loss is not None:
            self._watch_loss(x, names)
        if self._correlation is not None and len(ids) > 1:
            if self._correlation.update(self._mode.partition.straddling_share(ids)) and self._t > self.restructure_min_t:
                self._correlation.reset()
                self._restart_clustering("correlation")

        at, self._at_hand = self._at_hand, None
        if at is None or not _same_encoding(at.encoded, encoded):
            at = RecordAtHand(id(x), encoded)
        self._mode.learn(x, names, ids, at)
        self._recent.append(at.encoded, ids)

        self._sizes.update(len(ids))
        n_events = len(self._odac.events)
        changed = self._odac.learn_one(sorted_ids)
        for e in self._odac.events[n_events:]:
            self._events.append({"kind": f"cluster_{e['kind']}", "labels": len(e.get("labels", ()))})
        # a change before restructure_min_t is applied as soon as that guard has passed
        self._pending |= changed
        if self._pending and self._t > self.restructure_min_t:
            self._pending = False
            self._restructure()

    def _watch_loss(self, x, truth: frozenset) -> None:
        at = self._at_hand
        predicted = at.predicted if at is not None and at.x_id == id(x) else self.predict_with_scores(x)[0]
        n = max(len(self._space), 1)
        if self._loss.update(len(truth ^ predicted) / n) and self._t > self.restructure_min_t:
            self._restart_clustering("loss")

    # -- prediction -------------------------------------------------------------------------------
    def predict_with_scores(self, x) -> tuple[frozenset, dict]:
        at = self._at_hand = RecordAtHand(id(x), self._features.encode(x, learn=False))
        scores = self._mode.scores(x, at)
        at.predicted = frozenset(k for k, p in scores.items() if p > 0.5)
        return at.predicted, scores

    # -- restructuring ----------------------------------------------------------------------------
    def _restructure(self) -> None:
        blocks = refine(self._odac, self._min_block_size(), self.max_block)
        partition = [frozenset(b.labels) for b in blocks]
        if set(partition) == {b.labels for b in self._mode.partition.blocks}:
            return
        kept, rebuilt = self._install(partition)
        self.n_restructures += 1
        self._events.append({
            "kind": "restructure", "blocks": len(partition), "kept": kept, "rebuilt": rebuilt,
            "sizes": sorted((len(p) for p in partition), reverse=True),
            "partition": [names[:REPORTED_NAMES] for names in self.partition[:REPORTED_BLOCKS]],
            "tree": self.cluster_tree_named(),
        })

    def _install(self, partition: list) -> tuple[int, int]:
        counts = self._mode.install(partition, self._odac.tree)
        if self._correlation is not None:
            self._correlation.reset()  # the share of straddling pairs means something new now
        return counts

    def _min_block_size(self) -> int:
        floor = self._sizes.min_size()
        if self.min_block == "sqrt":
            return max(floor, math.isqrt(len(self._space) - 1) + 1 if len(self._space) > 1 else 1)
        return max(floor, self.min_block)

    def _restart_clustering(self, reason: str) -> None:
        """Fresh co-occurrence statistics over all known labels; learners stay until the new
        clustering proposes a different partition."""
        self._odac = self._clustering_template().clone()
        for i in range(len(self._space)):
            self._odac.add_label(i)
        self._events.append({"kind": "global_drift", "signal": reason, "labels": len(self._space)})

    # -- views and reporting ----------------------------------------------------------------------
    def drain_events(self) -> list:
        events = self._events + self._mode.drain_events()
        self._events.clear()
        return events

    @property
    def blocks(self) -> tuple:
        """The blocks of the partition (read them, do not change them): each has ``labels`` (ids),
        ``names``, its ``learner``, and, while that learner is on trial, its ``fallback``."""
        return tuple(self._mode.partition.blocks)

    @property
    def root(self):
        """The root learner (partition mode with ``root_learner``), None before the first label."""
        return self._mode.root

    @property
    def arbiter(self):
        """The arbiter of root learner against blocks (partition mode with ``root_learner``)."""
        return self._mode.arbiter

    @property
    def router(self):
        """The routing tree (routing mode), None before the first label."""
        return self._mode.router

    @property
    def partition(self) -> list[list]:
        """The current blocks as lists of label names."""
        names = self._space.names
        return [sorted((names[i] for i in b.labels), key=str) for b in self._mode.partition.blocks]

    def cluster_tree(self) -> dict:
        """The clustering's tree (JSON-serialisable; label ids, counts and coefficients)."""
        return self._odac.tree()

    def cluster_tree_named(self, max_depth: int = 12) -> dict:
        """The clustering's tree with label names, for reports: leaves list (up to a few of)
        their labels, every node its number of labels; below ``max_depth`` subtrees are folded."""
        names = self._space.names

        def walk(node, depth):
            labels = node.get("labels", [])
            out = {"n_labels": len(labels)}
            children = node.get("children") or []
            if children and depth < max_depth:
                out["children"] = [walk(c, depth + 1) for c in children]
            else:
                out["labels"] = [names[i] for i in labels[:REPORTED_NAMES] if i < len(names)]
            return out

        return walk(self._odac.tree(), 0)

    def learners(self) -> list:
        """Every node learner the model holds, once each (blocks', fallbacks', root's, routers')."""
        return self._mode.learners()

    def memory_bytes(self) -> int:
        """Bytes of the numpy arrays of the clustering and of every learner (fallbacks included).

        The clustering's pair counts grow with the square of the largest cluster's size, so a
        stream that declares 10,000 labels starts with several hundred MB of them.
        """
        total = self._odac.memory_bytes() + self._factory.memo.memory_bytes()
        return total + self._mode.memory_bytes()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_at_hand"] = None  # a cache of the record at hand
        return state


def _same_encoding(a: tuple, b: tuple) -> bool:
    """Whether two encodings ``(idx, val)`` are the same arrays or equal ones."""
    return a is b or (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))
