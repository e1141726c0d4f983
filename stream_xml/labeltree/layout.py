"""Where things sit in the label tree's arrays: column and slot indices shared by the kernels.

The tree is a struct of arrays, one row per node:

* ``nodes`` (int64, ``(capacity, N_INT)``): :data:`PARENT` (-1 for the root), :data:`N_CHILDREN`,
  :data:`LABEL` (the label id of a leaf, -1 for an internal node), :data:`GROUP` and :data:`LANE`
  (the node's place in the weight arena: its weights for feature ``f`` sit at
  ``bucket(GROUP, f) * lanes + LANE``), :data:`HOME` (the group in which an internal node's new
  children get lanes), :data:`Z_STAMP` (the record whose logit :data:`LOGIT` holds),
  :data:`POS_STAMP` (the last record in which the node was positive), :data:`MONITOR` (the
  node's drift detector, -1 if none), :data:`N_POS` (records in which the node was positive);
* ``values`` (float64, ``(capacity, N_FLOAT)``): :data:`BIAS` and its AdaGrad sum
  :data:`BIAS_G2`, and the cached :data:`LOGIT`;
* ``children`` (int64, ``(capacity, arity + 1)``): the children of each node, one spare column
  for the moment between an insertion and the split it causes;
* ``state`` (int64, ``(N_STATE,)``): the scalars.
"""

# nodes: int64 columns
PARENT = 0
N_CHILDREN = 1
LABEL = 2
GROUP = 3
LANE = 4
HOME = 5
Z_STAMP = 6
POS_STAMP = 7
MONITOR = 8
N_POS = 9
N_INT = 10

# values: float64 columns
BIAS = 0
BIAS_G2 = 1
LOGIT = 2
N_FLOAT = 3

# state: int64 slots
ROOT = 0
N_NODES = 1
N_GROUPS = 2
HEIGHT = 3  # depth of every leaf (the root is at depth 0)
STAMP = 4  # marks logits cached by a prediction for the next learning call (bumped to void them)
OP_STAMP = 5  # a counter for the marks of structural operations
N_EVENTS = 6
N_MONITORS = 7
N_DIRTY = 8  # labels with new co-occurrences since the last restructuring pass
N_MOVES = 9
N_SPLITS = 10
N_MERGES = 11
N_RESETS = 12
N_LEARNED = 13  # records learned
N_STATE = 14

# label_flags: int64 columns, one row per label
DIRTY = 0  # new co-occurrences since the last restructuring pass
MOVED = 1  # times the label moved
N_FLAGS = 2

# events: int64 rows (kind, node, depth, size)
EV_KIND = 0
EV_NODE = 1
EV_DEPTH = 2
EV_SIZE = 3
EV_COLUMNS = 4
EVENT_SPLIT = 1  # a node over the arity was split in two
EVENT_NEW_ROOT = 2  # the root was split: the tree is one level deeper
EVENT_MOVE = 3  # a label moved to the cluster it co-occurs with
EVENT_MERGE = 4  # an under-filled cluster was merged into a sibling
EVENT_DRIFT = 5  # a node's loss rose (ADWIN): its weights were reset
EVENT_NAMES = {
    EVENT_SPLIT: "node_split",
    EVENT_NEW_ROOT: "new_root",
    EVENT_MOVE: "label_moved",
    EVENT_MERGE: "cluster_merged",
    EVENT_DRIFT: "node_drift",
}
