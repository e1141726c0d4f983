"""The engine of iHOMER's ``partition`` and ``routing`` modes: the labels clustered online
(ODAC-J), the clusters refined into blocks, and a multi-label Hoeffding adaptive tree per block
(or per routing node), restructured when the clustering changes or a global watcher fires.

:class:`ClusterHierarchy` is what :class:`~stream_xml.ihomer.IHOMER` runs below its crossover in
labels (and always in those two modes); it is not an estimator of its own: IHOMER holds the
parameters and hands it the templates to clone.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from stream_xml.clustering import LabelsetSizeHistogram, refine
from stream_xml.ihomer.learners import LearnerFactory
from stream_xml.ihomer.modes import MODES, PartitionEnsemble, RecordAtHand
from stream_xml.ihomer.partition import RecentRecords
from stream_xml.ihomer.thresholds import EXACT_WEIGHTS, OnlineThreshold
from stream_xml.ihomer.watchers import RisingChange
from stream_xml.labels import LabelSpace
from stream_xml.tree.features import FeatureIndex
from stream_xml.tree.leaf_policies import ranked_into, ranked_score
from stream_xml.tree.knn import DistanceMemo

__all__ = ["ClusterHierarchy", "MIN_BLOCKS"]

#: The named rules of IHOMER's ``min_block`` (besides a least size): ``"all"``, one block of
#: every label; ``"sqrt"``, blocks of ⌈√L⌉ labels; ``"auto"``, ``"all"`` in the partition engine
#: with a root learner and ``"sqrt"`` otherwise.
MIN_BLOCKS = ("all", "sqrt", "auto")

# restructure events carry the partition and the tree for the report; these bound their size
REPORTED_NAMES = 40
REPORTED_BLOCKS = 200


class ClusterHierarchy:
    """Online label clusters, their blocks and the blocks' learners (see the module docstring).

    ``templates`` holds the ``clustering``, the ``tree`` of every block and (partition mode with a
    root learner) the ``root_tree``; the other arguments are IHOMER's parameters of the same names.
    """

    # the decisions and scores of _predict_by_arrays before they become lists (scratch: not
    # pickled; a class default, so that checkpoints written without it restore as they are)
    _handed_out = None

    def __init__(self, mode: str, templates: dict, root_choice: str, min_block, restructure_min_t: int,
                 replay: int, warmup: int, warmup_limit: int, fallback: str, drift_signals: tuple,
                 route_threshold: float, seed: int, threshold: str = "f1_exact"):  # fmt: skip
        self.mode = mode
        self.min_block = min_block
        self.restructure_min_t = restructure_min_t
        self._clustering = templates["clustering"]
        self._space = LabelSpace()
        self._features = FeatureIndex()  # shared by every tree: a record is encoded once
        self._factory = LearnerFactory(seed, self._features, DistanceMemo())
        self._odac = self._clustering.clone()
        self._sizes = LabelsetSizeHistogram()
        self._recent = RecentRecords(replay)
        self._events: list = []
        common = (self._space, self._features.names, self._recent, self._factory, templates["tree"], self._events)
        if mode == "routing":
            self._mode = MODES["routing"](*common, threshold=route_threshold)
        else:
            self._mode = PartitionEnsemble(
                *common, root_tree=templates.get("root_tree"), root_choice=root_choice,
                fallback=fallback, warmup=warmup, warmup_limit=warmup_limit,
            )  # fmt: skip
        self._correlation = RisingChange() if "correlation" in drift_signals else None
        self._loss = RisingChange() if "loss" in drift_signals else None
        self._at_hand: RecordAtHand | None = None  # the record last predicted
        # None: labels scored above 0.5
        self._threshold = OnlineThreshold(EXACT_WEIGHTS[threshold]) if threshold in EXACT_WEIGHTS else None
        # the partition's trees rank otherwise than by their answers: the scores handed out are ranked
        self._ranked = mode != "routing" and any(
            t is not None and t.leaf_ranking != "answer" for t in (templates["tree"], templates.get("root_tree")))
        self._t = 0
        self._pending = False  # a clustering change waiting for restructure_min_t
        self.n_restructures = 0

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

    def declare_features(self, kinds) -> None:
        """Take the feature kinds a source declares into the feature index every tree shares, so
        every tree, present or future, splits the nominal ones by counts."""
        self._features.declare(kinds)

    def _place_new_labels(self, new_ids, positives) -> None:
        """A new label joins the block holding most of the record's other labels (else the largest)."""
        if not self._mode.partition.blocks:
            self._install([frozenset(new_ids)])
        else:
            self._mode.place(new_ids, positives, self._odac.tree)

    # -- learning ---------------------------------------------------------------------------------
    def learn_labelset(self, x, labelset) -> None:
        """Learn ``x`` whose relevant labels are ``labelset`` (names)."""
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
        # a partition of one block straddles no pair: the watcher would only count zeros, which
        # never rise, and it starts afresh when a restructure installs more blocks
        if self._correlation is not None and len(ids) > 1 and len(self._mode.partition.blocks) > 1:
            if self._correlation.update(self._mode.partition.straddling_share(ids)) and self._t > self.restructure_min_t:
                self._correlation.reset()
                self._restart_clustering("correlation")

        at, self._at_hand = self._at_hand, None
        if at is None or (at.encoded is not encoded and not _same_encoding(at.encoded, encoded)):
            at = RecordAtHand(id(x), encoded)
        if self._threshold is not None:
            if at.scores is not None:
                self._threshold.observe(at.scores, names)
            elif at.answer is not None:
                learner_space, answer = at.answer
                self._threshold.observe_answer(answer, learner_space.known_ids(names), len(names))
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
        """The labels scored at least the online threshold (above 0.5, ``threshold="fixed"``),
        and every known label's score; with trees that rank otherwise than by their answers
        (``leaf_ranking``), the predicted labels score above 0.5 and the others below, each side
        in the order of the trees' rankings (:func:`~stream_xml.tree.leaf_policies.ranked`)."""
        at = self._at_hand = RecordAtHand(id(x), self._features.encode(x, learn=False))
        sole = self._mode.sole_learner() if self._threshold is not None else None
        if sole is not None:
            return self._predict_by_arrays(x, at, sole)
        scores = at.scores = self._mode.scores(x, at)
        self._mode.note_answers(at)
        if self._threshold is not None:
            at.predicted = self._threshold.predicted(scores)
        else:
            at.predicted = frozenset(k for k, p in scores.items() if p > 0.5)
        if self._ranked:
            scores = _ranked(scores, at.predicted, self._mode.ranking(x, at))
        return at.predicted, scores

    def _predict_by_arrays(self, x, at: RecordAtHand, learner) -> tuple[frozenset, dict]:
        """:meth:`predict_with_scores` of a record that one ``learner`` answers for every label
        (:meth:`~stream_xml.ihomer.modes.PartitionEnsemble.sole_learner`): the same labels and
        scores, its answers and rankings kept as arrays until the scores are handed out (by name,
        thresholding and ranking cost a record about as much as the tree's own Python)."""
        answer, rank = learner.answer_arrays(x, at.encoded)
        self._mode.note_sole_answer(learner)
        out = self._handed_out
        if out is None or out.shape[1] != answer.shape[0]:
            out = self._handed_out = np.empty((2, answer.shape[0]))
        ranked_into(answer, rank, self._threshold.tau, self._ranked, out)
        decided, scores = out.tolist()
        space = learner.label_space
        at.predicted = frozenset(itertools.compress(space.names, decided))
        # may be a leaf's cached vector, which answer_arrays lets a caller keep until the tree
        # learns: the threshold counts it before that (learn_labelset), so it is not copied
        at.answer = (space, answer)
        return at.predicted, dict(zip(space.names, scores))

    # -- restructuring ----------------------------------------------------------------------------
    def _restructure(self) -> None:
        blocks = refine(self._odac, self._min_block_size())
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
        rule = self.min_block
        if rule == "auto":
            rule = "all" if self.mode == "partition" and self._mode.root_tree is not None else "sqrt"
        if rule == "all":
            return max(floor, len(self._space))
        if rule == "sqrt":
            return max(floor, math.isqrt(len(self._space) - 1) + 1 if len(self._space) > 1 else 1)
        return max(floor, rule)

    def _restart_clustering(self, reason: str) -> None:
        """Fresh co-occurrence statistics over all known labels; learners stay until the new
        clustering proposes a different partition."""
        self._odac = self._clustering.clone()
        for i in range(len(self._space)):
            self._odac.add_label(i)
        self._events.append({"kind": "global_drift", "signal": reason, "labels": len(self._space)})

    # -- views and reporting ----------------------------------------------------------------------
    def recent_records(self):
        """The records kept for warm starts, oldest first, as ``(x, relevant names)``."""
        return self._recent.records(self._features.names, self._space.names)

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

    def answer_shares(self) -> dict | None:
        """Partition mode: the shares of the label answers given by the blocks' own learners, the
        root learner and the fallbacks of blocks on trial
        (:meth:`~stream_xml.ihomer.modes.PartitionEnsemble.answer_shares`); None otherwise."""
        return self._mode.answer_shares()

    def memory_bytes(self) -> int:
        """Bytes of the numpy arrays of the clustering and of every learner (fallbacks included).
        The clustering's pair counts grow with the square of the largest cluster's size."""
        total = self._odac.memory_bytes() + self._factory.memo.memory_bytes()
        if self._threshold is not None:
            total += self._threshold.memory_bytes()
        return total + self._mode.memory_bytes()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_at_hand"] = None  # a cache of the record at hand
        state.pop("_handed_out", None)
        return state


def _ranked(scores: dict, predicted: frozenset, rank: dict) -> dict:
    """``scores`` (answers, by name) encoded as :func:`~stream_xml.tree.leaf_policies.ranked`
    with the decisions ``predicted``, each label ranked by ``rank`` where it has one, else by its
    answer."""
    return {name: ranked_score(name in predicted, rank.get(name, p)) for name, p in scores.items()}


def _same_encoding(a: tuple, b: tuple) -> bool:
    """Whether two encodings ``(idx, val)`` are the same arrays or equal ones."""
    return a is b or (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))
