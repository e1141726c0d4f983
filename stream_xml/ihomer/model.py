"""iHOMER: an Incremental Hierarchy Of Multi-label ClassifiERs.

iHOMER clusters the labels online (ODAC-J: Jaccard dissimilarity, Hoeffding-bound splits and
merges; :mod:`stream_xml.clustering`), refines the cluster tree's leaves into blocks of labels
(:mod:`stream_xml.ihomer.partition`), and trains multi-label Hoeffding adaptive trees
(:mod:`stream_xml.tree`) over those blocks. Drift is handled at two levels: the clustering
restructures the hierarchy when label correlations change, or restarts when a global watcher
says they have (:mod:`stream_xml.ihomer.watchers`), and every tree watches its own loss with
ADWIN and grows alternate subtrees (local).

Three engines (``mode``):

- ``"partition"`` (:mod:`stream_xml.ihomer.hierarchy`, :mod:`stream_xml.ihomer.modes`): one tree
  per block, every record reaches every block; a root tree over all labels learns beside them,
  and an arbiter (:mod:`stream_xml.ihomer.arbiter`) lets the blocks or the root tree answer,
  whichever has had the smaller loss; the labels answered are those scored at least a threshold
  moved online towards the best micro-F1 plus exact-match share (:mod:`stream_xml.ihomer.thresholds`).
- ``"routing"``: HOMER routing over the same clusters: the cluster tree's internal nodes learn
  meta-labels ("is any label below this child relevant?"); a record is learned only by the nodes
  whose labels it carries and predicted only down the branches whose meta-label fires.
- ``"tree"``: for extreme label spaces, an online probabilistic label tree grown from the labels'
  co-occurrence (:mod:`stream_xml.labeltree`, docs/extreme.md): HOMER's meta-labels made
  probabilistic, one sparse logistic regression per node, its cost logarithmic in the labels.
- ``"auto"`` (the default): ``"partition"`` while fewer than :data:`AUTO_TREE_LABELS` labels are
  known and the records are not sparse, ``"tree"`` otherwise: a partition engine that meets that
  many labels hands over to a label tree, which first replays the records it kept for warm
  starts, and so does one whose first :data:`AUTO_PROBE_RECORDS` records were sparse (on average
  fewer non-zero features than :data:`AUTO_SPARSE_DENSITY` of the features they showed: texts as
  bags of words, where linear node learners do better than trees that split on one feature at a
  time; such a label tree, handed over below :data:`AUTO_TREE_LABELS` labels, also keeps the
  stream's frequent labelsets, which repeat in small label spaces).

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

from stream_xml.base import MultiLabelLearner
from stream_xml.clustering import ODACJ
from stream_xml.ihomer.arbiter import CHOICES
from stream_xml.ihomer.hierarchy import MIN_BLOCKS, ClusterHierarchy
from stream_xml.ihomer.modes import MODES
from stream_xml.ihomer.thresholds import THRESHOLDS
from stream_xml.ihomer.watchers import SIGNALS
from stream_xml.labeltree import LabelTreeClassifier
from stream_xml.tree import MLHAT

__all__ = ["IHOMER", "AUTO_TREE_LABELS", "AUTO_PROBE_RECORDS", "AUTO_SPARSE_DENSITY", "default_tree", "default_root_tree", "default_clustering"]

FALLBACKS = ("root", "replaced")
ENGINES = ("auto", *MODES, "tree")
#: ``mode="auto"`` runs the label tree from this many labels on (experiments/RESULTS.md, "iHOMER's
#: engine by the stream"): the partition engine's cost grows with the labels (a tree per block,
#: every leaf with statistics per feature and label), the label tree's with their logarithm.
AUTO_TREE_LABELS = 128
#: ``mode="auto"`` looks at this many records before it judges them sparse or not ...
AUTO_PROBE_RECORDS = 100
#: ... and takes them as sparse (and hands over to the label tree) when their mean number of
#: non-zero features is below this share of the features they showed. The 26 streams of
#: experiments/RESULTS.md fall in two groups, at most 0.062 (texts, tags, sparse image words) and
#: at least 0.195 (dense measurements, Langlog's word indicators); the cut lies between.
AUTO_SPARSE_DENSITY = 0.1
#: Labelsets kept by the label tree ``mode="auto"`` hands over to on sparse records (unless the
#: ``extreme`` template sets ``labelsets``).
AUTO_KEPT_LABELSETS = 256


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
    suits a tree over all labels, not block trees, whose majority is often the empty set), and
    naive Bayes over its observers answering instead while it makes fewer label errors (MOA's
    naive-Bayes-adaptive rule; on Emotions micro-F1 0.434 → 0.612; in the blocks' trees too it
    changed nothing measured and cost time: experiments/RESULTS.md, issue 23), and otherwise adding
    the labels it says are relevant where such additions were right more often than not (Flags
    0.693 → 0.711; :class:`~stream_xml.tree.label_fallback.LabelAdditions`). Unless ``tree``
    ranks otherwise, its leaves rank the labels they answer by their shares of the leaf's records
    too (``leaf_ranking="prior"``: P@1 on Yeast 0.704 → 0.738, on Flags 0.711 → 0.732; no
    prediction changes)."""
    ranking = "prior" if tree.leaf_ranking == "answer" else tree.leaf_ranking
    return tree.clone({"leaf_switch": "loss_with_majority_and_nb", "knn_window": 1000, "knn_k": 5,
                       "leaf_ranking": ranking})


class IHOMER(MultiLabelLearner):
    """Incremental hierarchy of multi-label Hoeffding adaptive trees over online label clusters.

    Parameters
    ----------
    mode
        The engine (see the module docstring): ``"auto"``, ``"partition"``, ``"routing"`` or
        ``"tree"``.
    clustering
        The label clustering to clone (:class:`~stream_xml.clustering.ODACJ`; None:
        :func:`default_clustering`), again whenever a global watcher restarts it.
    tree
        The node learner to clone for every block (and routing node): an
        :class:`~stream_xml.tree.MLHAT` (None: :func:`default_tree`). Every clone gets its own
        seed, derived from ``seed``. Trees that rank otherwise than by their answers
        (``leaf_ranking``; this one or the root learner's, which ranks by ``"prior"`` unless
        this one ranks otherwise) change the partition engine's ranking only: the labelsets are
        those of the trees' answers at the online threshold, and the scores put them above 0.5,
        ranked by the trees' rankings.
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
        are about √L blocks of about √L labels; ``"all"`` keeps one block of every label.
        Small clusters are merged with their nearest relatives in the cluster tree, so blocks
        stay unions of clusters. ``"auto"`` (default): ``"all"`` in the partition engine with a
        root learner, whose single block's learner is then the root learner itself, ``"sqrt"``
        otherwise (routing, or no root learner). Over the 26 real streams the blocks' own
        learners gave at most 17 % of the label answers and changed no mean by more than 0.0001,
        on synthetic streams of correlated label groups they cost 0.011-0.016 of micro-F1 and
        subset accuracy, and one block runs 1.3-2.8x faster (experiments/RESULTS.md, issue 23's
        seventh round); ``"sqrt"`` keeps the spec's partition ensemble.
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
    threshold
        How the partition and routing engines turn scores into labels: every label scored at
        least a threshold moved online (:mod:`stream_xml.ihomer.thresholds`) to where the stream
        so far had the highest micro-F1 plus share of records answered exactly
        (``"f1_exact"``), or the highest micro-F1 alone (``"f1"``); or every label scored above
        0.5 (``"fixed"``). The learners' scores (kNN votes, bagged logistic outputs, naive-Bayes
        posteriors) stay below 0.5 for most relevant labels where labels are rare; ``"f1"``
        answers them but trades whole labelsets for F1, ``"f1_exact"`` lowers the threshold only
        where F1 gains more than exact matches lose (experiments/RESULTS.md, issue 23's third
        round: on Langlog micro-F1 0.089 -> 0.137, both halves of the 26 streams gain on subset
        accuracy, micro- and macro-F1). The label tree keeps its own threshold.
    extreme
        The label tree to clone in tree mode (:class:`~stream_xml.labeltree.LabelTreeClassifier`;
        None: its defaults, with this model's ``seed``). One taken over for sparse records keeps
        :data:`AUTO_KEPT_LABELSETS` labelsets unless this template sets ``labelsets``.
    seed
        Seed of the node learners (each gets its own, derived from this one).

    """

    _probe = None  # models pickled before the sparse-records probe have none

    def __init__(
        self,
        mode: str = "auto",
        clustering: ODACJ | None = None,
        tree: MLHAT | None = None,
        root_learner: bool = True,
        root_tree: MLHAT | None = None,
        root_choice: str = "record",
        min_block: int | str = "auto",
        restructure_min_t: int = 100,
        replay: int = 100,
        warmup: int = 500,
        warmup_limit: int = 2000,
        fallback: str = "root",
        drift_signals: tuple = ("correlation",),
        route_threshold: float = 0.5,
        threshold: str = "f1_exact",
        extreme: LabelTreeClassifier | None = None,
        seed: int = 0,
    ):
        if mode not in ENGINES:
            raise ValueError(f"mode must be one of {ENGINES}, got {mode!r}")
        if min_block not in MIN_BLOCKS and not (isinstance(min_block, int) and min_block >= 1):
            raise ValueError(f"min_block must be an integer >= 1 or one of {MIN_BLOCKS}, got {min_block!r}")
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {FALLBACKS}, got {fallback!r}")
        if threshold not in THRESHOLDS:
            raise ValueError(f"threshold must be one of {THRESHOLDS}, got {threshold!r}")
        if root_choice not in CHOICES:
            raise ValueError(f"root_choice must be one of {CHOICES}, got {root_choice!r}")
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
        self.restructure_min_t = restructure_min_t
        self.replay = replay
        self.warmup = warmup
        self.warmup_limit = warmup_limit
        self.fallback = fallback
        self.drift_signals = tuple(drift_signals)
        self.route_threshold = route_threshold
        self.threshold = threshold
        self.extreme = extreme
        self.seed = seed
        self._labels: dict = {}  # the labels known before an engine is chosen (mode "auto")
        self._probe: list | None = [0, 0, set()] if mode == "auto" else None  # records, non-zeros, features
        self._events: list = []
        self._kinds: dict = {}  # the feature kinds declared, for every engine to come
        self._engine = None if mode == "auto" else self._new_engine(mode)

    # -- construction -----------------------------------------------------------------------------
    def templates(self) -> dict:
        """The sub-learners this model clones, as it uses them (defaults filled in)."""
        return {**self._partition_templates(), "extreme": self._extreme_template()}

    def _partition_templates(self) -> dict:
        """The templates a partition engine clones (a label tree is built only when it is needed:
        building one costs as much as a few dozen records of a small stream)."""
        tree = self.tree if self.tree is not None else default_tree()
        templates = {"clustering": self.clustering if self.clustering is not None else default_clustering(),
                     "tree": tree}
        if self.root_learner:
            templates["root_tree"] = self.root_tree if self.root_tree is not None else default_root_tree(tree)
        return templates

    def _extreme_template(self) -> LabelTreeClassifier:
        return self.extreme if self.extreme is not None else LabelTreeClassifier(seed=self.seed)

    def _new_engine(self, mode: str, tree_params: dict | None = None):
        if mode == "tree":
            engine = self._extreme_template().clone(tree_params)
        else:
            engine = ClusterHierarchy(
                mode, self._partition_templates(), self.root_choice, self.min_block, self.restructure_min_t,
                self.replay, self.warmup, self.warmup_limit, self.fallback, self.drift_signals, self.route_threshold,
                self.seed, threshold=self.threshold,
            )  # fmt: skip
        if self._kinds:
            engine.declare_features(self._kinds)
        return engine

    def _auto_engine(self, names) -> object:
        """Mode ``"auto"``: note the labels ``names``, and return the engine for the labels known:
        a partition engine below :data:`AUTO_TREE_LABELS` labels, a label tree from there on (a
        partition engine that reaches that many labels hands over to one)."""
        self._labels.update(dict.fromkeys(names))
        engine = self._engine
        if len(self._labels) >= AUTO_TREE_LABELS and not isinstance(engine, LabelTreeClassifier):
            engine = self._engine = self._handed_over(engine)
        elif engine is None:
            engine = self._engine = self._new_engine("partition")
        return engine

    def _handed_over(self, hierarchy: ClusterHierarchy | None, sparse: bool = False) -> LabelTreeClassifier:
        """A label tree over every label known, which first learns the records ``hierarchy`` kept
        for warm starts; one taken for ``sparse`` records keeps labelsets (unless the ``extreme``
        template says how many: a template given for another parameter keeps them too, so that
        ``extreme__learning_rate=...`` changes the step size alone)."""
        unset = self._extreme_template().labelsets is None
        kept = {"labelsets": AUTO_KEPT_LABELSETS} if sparse and unset else None
        tree = self._new_engine("tree", kept)
        tree.add_labels(list(self._labels))
        if hierarchy is not None:
            for x, relevant in hierarchy.recent_records():
                tree.learn_labelset(x, relevant)
            self._events.extend(hierarchy.drain_events())
            self._events.append({"kind": "engine_switch", "to": "tree", "labels": len(self._labels),
                                 "reason": "sparse records" if sparse else "labels"})
        return tree

    def _probed(self, x) -> None:
        """Mode ``"auto"``: count the non-zero features of one of the first records; after
        :data:`AUTO_PROBE_RECORDS` of them, hand a partition engine over to the label tree if
        they were sparse."""
        probe = self._probe
        probe[0] += 1
        for name, value in x.items():
            if value != 0:
                probe[1] += 1
                probe[2].add(name)
        if probe[0] >= AUTO_PROBE_RECORDS:
            self._probe = None
            seen = len(probe[2])
            if seen and probe[1] / probe[0] < AUTO_SPARSE_DENSITY * seen and isinstance(self._engine, ClusterHierarchy):
                self._engine = self._handed_over(self._engine, sparse=True)

    @classmethod
    def _unit_test_params(cls):
        yield {"clustering": ODACJ(n_min=50, delta=0.9, tau=0.1), "tree": MLHAT(grace_period=50, leaf_switch="loss")}
        yield {"mode": "routing", "clustering": ODACJ(n_min=50, delta=0.9, tau=0.1), "tree": MLHAT(grace_period=50)}
        yield {"mode": "tree"}
        yield {"mode": "partition", "threshold": "f1", "clustering": ODACJ(n_min=50, delta=0.9, tau=0.1),
               "tree": MLHAT(grace_period=50, leaf_switch="loss", leaf_ranking="bagging", cardinality_th=30)}

    @property
    def _is_stochastic(self):
        return True

    # -- the learner contract, by the engine --------------------------------------------------------
    @property
    def labels(self) -> list:
        return list(self._labels) if self._engine is None else self._engine.labels

    def add_labels(self, names) -> None:
        """Register labels declared before they appear (e.g. in a file header)."""
        names = list(names)
        engine = self._auto_engine(names) if self.mode == "auto" else self._engine
        engine.add_labels(names)

    def declare_features(self, kinds) -> None:
        """Take the feature kinds a source declares (name -> "nominal" or "numeric") to the engine
        at work and to any engine that replaces it (mode ``"auto"``'s hand-over to the label
        tree). The cluster hierarchy's trees then split the nominal ones by counts (the trees'
        ``nominal`` parameter); the label tree's linear models take a 0/1 indicator as the number
        it is and ignore the declaration."""
        self._kinds.update(kinds)
        if self._engine is not None:
            self._engine.declare_features(kinds)

    def learn_labelset(self, x, labelset) -> None:
        engine = self._engine
        # not isinstance(engine, LabelTreeClassifier), without river's Python-level type check
        if self.mode == "auto" and (engine is None or isinstance(engine, ClusterHierarchy)):
            labelset = frozenset(labelset)
            if engine is None or not labelset <= self._labels.keys():
                engine = self._auto_engine(labelset)
        engine.learn_labelset(x, labelset)
        if self._probe is not None:
            self._probed(x)

    def predict_with_scores(self, x) -> tuple[frozenset, dict]:
        if self._engine is None:
            return frozenset(), dict.fromkeys(self._labels, 0.0)
        return self._engine.predict_with_scores(x)

    def drain_events(self) -> list:
        events = self._events + (self._engine.drain_events() if self._engine is not None else [])
        self._events = []
        return events

    def memory_bytes(self) -> int:
        return self._engine.memory_bytes() if self._engine is not None else 0

    # -- views of the partition engine (empty in tree mode) -----------------------------------------
    @property
    def engine(self) -> str | None:
        """The engine at work: ``"partition"``, ``"routing"``, ``"tree"``, or None (mode
        ``"auto"`` before the first label)."""
        if self._engine is None:
            return None
        return "tree" if isinstance(self._engine, LabelTreeClassifier) else self._engine.mode

    def _hierarchy(self) -> ClusterHierarchy | None:
        return self._engine if isinstance(self._engine, ClusterHierarchy) else None

    @property
    def n_restructures(self) -> int:
        hierarchy = self._hierarchy()
        return hierarchy.n_restructures if hierarchy is not None else 0

    @property
    def blocks(self) -> tuple:
        """The blocks of the partition (read them, do not change them): each has ``labels`` (ids),
        ``names``, its ``learner``, and, while that learner is on trial, its ``fallback``."""
        hierarchy = self._hierarchy()
        return hierarchy.blocks if hierarchy is not None else ()

    @property
    def root(self):
        """The root learner (partition mode with ``root_learner``), None before the first label."""
        hierarchy = self._hierarchy()
        return hierarchy.root if hierarchy is not None else None

    @property
    def arbiter(self):
        """The arbiter of root learner against blocks (partition mode with ``root_learner``)."""
        hierarchy = self._hierarchy()
        return hierarchy.arbiter if hierarchy is not None else None

    @property
    def router(self):
        """The routing tree (routing mode), None before the first label."""
        hierarchy = self._hierarchy()
        return hierarchy.router if hierarchy is not None else None

    @property
    def partition(self) -> list[list]:
        """The current blocks as lists of label names."""
        hierarchy = self._hierarchy()
        return hierarchy.partition if hierarchy is not None else []

    def answer_shares(self) -> dict | None:
        """Whether the hierarchy answers: the shares of the label answers handed out so far that
        came from the blocks' own learners (``"blocks"``), from the root learner (``"root"``, as
        the arbiter chose), and from the root learner or the replaced learners answering for a
        block whose new learner is on trial (``"on trial"``). Partition engine only (None under
        the label tree, HOMER routing, or before the first prediction); the evaluation report
        shows them."""
        hierarchy = self._hierarchy()
        return hierarchy.answer_shares() if hierarchy is not None else None

    def cluster_tree(self) -> dict:
        """The clustering's tree (JSON-serialisable; label ids, counts and coefficients)."""
        hierarchy = self._hierarchy()
        return hierarchy.cluster_tree() if hierarchy is not None else {}

    def cluster_tree_named(self, max_depth: int = 12) -> dict:
        """The clustering's tree with label names, for reports."""
        hierarchy = self._hierarchy()
        return hierarchy.cluster_tree_named(max_depth) if hierarchy is not None else {}

    def learners(self) -> list:
        """Every node learner the partition engine holds, once each."""
        hierarchy = self._hierarchy()
        return hierarchy.learners() if hierarchy is not None else []
