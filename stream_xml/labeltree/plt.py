"""The per-record kernels of the probabilistic label tree: one call predicts, one call learns.

A node ``v`` holds a logistic regression for ``eta(x, v) = P(z_v = 1 | z_parent(v) = 1, x)``,
``z_v = 1`` iff some label below ``v`` is relevant; the root's own classifier is
``P(any label | x)``. A label's marginal is the product of ``eta`` along its path (probabilistic
label trees: Jasinska, Dembczyński, Busa-Fekete, Pfannschmidt, Klerx, Hüllermeier, ICML 2016;
HOMER's meta-labels made probabilistic: Tsoumakas, Katakis, Vlahavas, 2008).

* :func:`predict_record` runs a uniform-cost (best-first) search from the root on the path
  products with a binary max-heap: the leaves come out in decreasing marginal order, so the
  first ``k`` are exactly the top ``k``; it goes on down to ``explore`` (every label whose
  marginal is at least ``explore`` comes out). The logits it computes are cached on the nodes
  under the record's stamp, and the learning call that follows reuses them.
* :func:`learn_record` applies the PLT rule: the positive nodes are those on the path of a
  relevant label (the root when there is one), the negative nodes the other children of
  positive nodes (the root when there is none); only these learn, one AdaGrad step each. Before
  that, it counts the record's co-occurrences and gives new labels leaves
  (:mod:`stream_xml.labeltree.tree`); after it, it feeds the threshold
  (:mod:`stream_xml.labeltree.threshold`) and the drift detectors
  (:mod:`stream_xml.labeltree.monitors`), and every ``check_every`` records it restructures.

Cost per record: O(|y| x depth x arity x nnz(x)) for learning, O(expanded nodes x arity x
nnz(x)) for the search; nothing depends on the number of labels beyond the depth.

The estimator refuses records with values no model digests before they reach a kernel
(:func:`stream_xml.base.refuse_undigestible`); the kernels still treat a non-finite value as
absent (a second line of defence), and with ``normalize`` scale the record to unit L2 norm
(computed without overflow).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stream_xml.labeltree.arena import adagrad_members, dot_members
from stream_xml.labeltree.cooccurrence import fade, update_pairs
from stream_xml.labeltree.layout import (
    BIAS,
    BIAS_G2,
    DIRTY,
    EVENT_DRIFT,
    GROUP,
        LABEL,
    LANE,
    LOGIT,
    MONITOR,
    MOVED,
    N_CHILDREN,
    N_DIRTY,
    N_LEARNED,
    N_MONITORS,
    N_POS,
    N_RESETS,
    PARENT,
    POS_STAMP,
    ROOT,
    STAMP,
    Z_STAMP,
)
from stream_xml.labeltree.monitors import observe
from stream_xml.labeltree.threshold import observe_record
from stream_xml.labeltree.tree import emit, insert_label, node_depth, restructure, take_lane
from stream_xml.tree.common_kernels import sigmoid

__all__ = ["predict_record", "learn_record", "prepare", "pack_parameters", "Workspace"]

# integer parameters
IP_ARITY = 0
IP_LANES = 1
IP_LANE_BITS = 2
IP_SHIFT = 3
IP_SALT = 4
IP_TOP_K = 5
IP_MAX_POPS = 6
IP_CHECK_EVERY = 7
IP_MAX_MOVES = 8
IP_MONITOR = 9
IP_NORMALIZE = 10
IP_FADE_EVERY = 11
IP_PLACEMENT = 12
N_IP = 13
# float parameters
FP_LR = 0
FP_EPS = 1
FP_MIN_COUNT = 2
FP_MOVE_DELTA = 3
FP_COOC_FADING = 4
N_FP = 5

CLIP = 1e6  # without normalisation, feature values are clipped to [-CLIP, CLIP]


def pack_parameters(p: dict, lanes: int, placement: int) -> tuple[np.ndarray, np.ndarray]:
    """The kernels' integer and float parameters from the estimator's ``p`` (its ``__init__``
    arguments); the hash's (``IP_LANE_BITS``, ``IP_SHIFT``, ``IP_SALT``) are set when the weight
    table is allocated."""
    ip = np.zeros(N_IP, dtype=np.int64)
    ip[IP_ARITY] = p["arity"]
    ip[IP_LANES] = lanes
    ip[IP_TOP_K] = p["top_k"]
    ip[IP_MAX_POPS] = p["max_expansions"]
    ip[IP_CHECK_EVERY] = p["restructure_every"]
    ip[IP_MAX_MOVES] = 1 << 30
    ip[IP_MONITOR] = int(bool(p["drift_detection"]))
    ip[IP_NORMALIZE] = int(bool(p["normalize"]))
    ip[IP_FADE_EVERY] = max(1, p["restructure_every"])
    ip[IP_PLACEMENT] = placement
    fp = np.zeros(N_FP)
    fp[FP_LR] = p["learning_rate"]
    fp[FP_EPS] = p["adagrad_eps"]
    fp[FP_MIN_COUNT] = p["min_count"]
    fp[FP_MOVE_DELTA] = p["move_delta"]
    fp[FP_COOC_FADING] = p["cooccurrence_fading"]
    return ip, fp


class Workspace:
    """The kernels' scratch arrays, kept between records (nothing is allocated per record unless
    a record needs more room than any before it)."""

    def __init__(self, arity: int, max_expansions: int):
        width = arity + 1
        self.groups = np.zeros(width, dtype=np.int64)
        self.lanes = np.zeros(width, dtype=np.int64)
        self.logits = np.zeros(width)
        self.grads = np.zeros(width)
        self.drifted = np.zeros(width, dtype=np.int64)
        self.one = np.zeros(1, dtype=np.int64)
        self.values = np.zeros(64)
        self.positive_nodes = np.zeros(64, dtype=np.int64)
        self.relevant = np.zeros(64)
        self.irrelevant = np.zeros(max(64, max_expansions))
        heap = (max_expansions + 1) * (arity + 1)  # a search pushes at most arity nodes per expansion
        self.heap_p = np.zeros(heap)
        self.heap_v = np.zeros(heap, dtype=np.int64)
        self.out_labels = np.zeros(max_expansions, dtype=np.int64)
        self.out_scores = np.zeros(max_expansions)

    def for_record(self, nnz: int, n_labels: int, height: int) -> tuple:
        """The ``work`` tuple of the kernels, with room for a record of ``nnz`` values and
        ``n_labels`` labels in a tree of ``height``."""
        if nnz > self.values.shape[0]:
            self.values = np.zeros(max(nnz, 2 * self.values.shape[0]))
        # the positive internal nodes: a path per label, and the tree may grow a level per new
        # label of this record (numba does not check bounds: this must never be short)
        need = n_labels * (height + n_labels + 2) + 1
        if need > self.positive_nodes.shape[0]:
            self.positive_nodes = np.zeros(max(need, 2 * self.positive_nodes.shape[0]), dtype=np.int64)
        if n_labels > self.relevant.shape[0]:
            self.relevant = np.zeros(max(n_labels, 2 * self.relevant.shape[0]))
        return (self.values, self.groups, self.lanes, self.logits, self.grads, self.positive_nodes, self.one,
                self.drifted, self.relevant, self.irrelevant)

    def memory_bytes(self) -> int:
        return sum(a.nbytes for a in vars(self).values())


@numba.njit(cache=True)
def prepare(val, out, normalize):
    """Copy ``val`` into ``out`` with non-finite values zeroed (returns how many), then scale to
    unit L2 norm (``normalize``) or clip to [-CLIP, CLIP]."""
    n = val.shape[0]
    bad = 0
    biggest = 0.0
    for t in range(n):
        v = val[t]
        if not math.isfinite(v):
            v = 0.0
            bad += 1
        out[t] = v
        if abs(v) > biggest:
            biggest = abs(v)
    if normalize:
        if biggest > 0.0:
            s = 0.0
            for t in range(n):
                r = out[t] / biggest
                s += r * r
            norm = biggest * math.sqrt(s)
            for t in range(n):
                out[t] /= norm
    else:
        for t in range(n):
            if out[t] > CLIP:
                out[t] = CLIP
            elif out[t] < -CLIP:
                out[t] = -CLIP
    return bad


# -- a binary max-heap of (probability, node) --------------------------------------------------------

@numba.njit(cache=True, inline="always")
def _push(heap_p, heap_v, size, p, v):
    i = size
    while i > 0:
        up = (i - 1) >> 1
        if heap_p[up] >= p:
            break
        heap_p[i] = heap_p[up]
        heap_v[i] = heap_v[up]
        i = up
    heap_p[i] = p
    heap_v[i] = v
    return size + 1


@numba.njit(cache=True, inline="always")
def _pop(heap_p, heap_v, size):
    p = heap_p[0]
    v = heap_v[0]
    size -= 1
    lp = heap_p[size]
    lv = heap_v[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and heap_p[c + 1] > heap_p[c]:
            c += 1
        if heap_p[c] <= lp:
            break
        heap_p[i] = heap_p[c]
        heap_v[i] = heap_v[c]
        i = c
    if size > 0:
        heap_p[i] = lp
        heap_v[i] = lv
    return p, v, size


@numba.njit(cache=True)
def _logits(tree, members, n, x, n_features, weights, ip, work):
    """Logits of the nodes ``members[:n]`` (weights . x + bias), cached under the record's stamp."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    idx, xv = x
    groups, lanes_of, zs = work[1], work[2], work[3]
    stamp = state[STAMP]
    for j in range(n):
        c = members[j]
        groups[j] = nodes[c, GROUP]
        lanes_of[j] = nodes[c, LANE]
    dot_members(groups, lanes_of, n, idx, xv, n_features, weights, ip[IP_SALT], ip[IP_SHIFT], ip[IP_LANE_BITS], zs)
    for j in range(n):
        c = members[j]
        zs[j] += values[c, BIAS]
        values[c, LOGIT] = zs[j]
        nodes[c, Z_STAMP] = stamp


@numba.njit(cache=True)
def predict_record(idx, val, n_features, tree, weights, ip, explore, heap_p, heap_v, out_labels, out_scores, work):
    """Uniform-cost search: the labels in decreasing marginal order, at least the top ``k`` and
    every label down to ``explore``; returns (number of labels written, nodes expanded)."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    xv, zs, one = work[0], work[3], work[6]
    prepare(val, xv, ip[IP_NORMALIZE])
    x = (idx, xv)
    root = state[ROOT]
    if nodes[root, N_CHILDREN] == 0:
        return 0, 0
    one[0] = root
    _logits(tree, one, 1, x, n_features, weights, ip, work)
    size = _push(heap_p, heap_v, 0, sigmoid(zs[0]), root)
    k = ip[IP_TOP_K]
    max_pops = ip[IP_MAX_POPS]
    cap_out = out_labels.shape[0]
    n_out = 0
    pops = 0
    while size > 0 and pops < max_pops:
        p, v, size = _pop(heap_p, heap_v, size)
        if n_out >= k and p < explore:
            break
        pops += 1
        label = nodes[v, LABEL]
        if label >= 0:
            out_labels[n_out] = label
            out_scores[n_out] = p
            n_out += 1
            if n_out == cap_out:
                break
            continue
        n = nodes[v, N_CHILDREN]
        if size + n > heap_p.shape[0]:
            break
        _logits(tree, children[v], n, x, n_features, weights, ip, work)
        for j in range(n):
            size = _push(heap_p, heap_v, size, p * sigmoid(zs[j]), children[v, j])
    return n_out, pops


@numba.njit(cache=True)
def _train(tree, members, n, x, n_features, weights, sums, monitors, ip, fp, work):
    """One AdaGrad step for each node of ``members[:n]``, positive iff marked under the record's
    stamp; logits cached by the prediction of this very record are reused. Internal nodes feed
    their drift detectors; a node whose loss rose gets fresh weights."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    buckets, levels, window, counters, mparams = monitors
    idx, xv = x
    groups, lanes_of, zs, grads, drifted = work[1], work[2], work[3], work[4], work[7]
    stamp = state[STAMP]
    cached = True
    for j in range(n):
        if nodes[members[j], Z_STAMP] != stamp:
            cached = False
            break
    if cached:
        for j in range(n):
            c = members[j]
            groups[j] = nodes[c, GROUP]
            lanes_of[j] = nodes[c, LANE]
            zs[j] = values[c, LOGIT]
    else:
        _logits(tree, members, n, x, n_features, weights, ip, work)
    lr = fp[FP_LR]
    eps = fp[FP_EPS]
    monitoring = ip[IP_MONITOR] != 0
    n_drifted = 0
    for j in range(n):
        c = members[j]
        p = sigmoid(zs[j])
        y = 1.0 if nodes[c, POS_STAMP] == stamp else 0.0
        g = p - y
        grads[j] = g
        acc = values[c, BIAS_G2] + g * g
        values[c, BIAS_G2] = acc
        values[c, BIAS] -= lr * g / math.sqrt(acc + eps)
        if monitoring and nodes[c, LABEL] < 0 and nodes[c, PARENT] >= 0:
            m = nodes[c, MONITOR]
            if m < 0 and state[N_MONITORS] < levels.shape[0]:
                m = state[N_MONITORS]
                state[N_MONITORS] = m + 1
                nodes[c, MONITOR] = m
            if m >= 0 and observe(buckets, levels, window, counters, m, abs(g), mparams):
                drifted[n_drifted] = c
                n_drifted += 1
    adagrad_members(groups, lanes_of, n, grads, idx, xv, n_features, weights, sums, ip[IP_SALT], ip[IP_SHIFT],
                    ip[IP_LANE_BITS], lr, eps)
    for j in range(n_drifted):
        c = drifted[j]
        g, lane = take_lane(nodes, state, lane_used, nodes[c, PARENT], ip[IP_LANES])
        nodes[c, GROUP] = g
        nodes[c, LANE] = lane
        values[c, BIAS_G2] = 0.0
        state[N_RESETS] += 1
        emit(events, state, EVENT_DRIFT, c, node_depth(nodes, c), nodes[c, N_CHILDREN])


@numba.njit(cache=True)
def learn_record(idx, val, n_features, labels, tree, co, scratch, weights, sums, monitors, hist, thr,
                 cand_labels, cand_scores, n_cand, dirty, label_flags, ip, fp, work):
    """Learn one record whose relevant labels are the distinct ids ``labels``; ``cand_*`` are the
    search's answer for this record (``n_cand < 0``: none). Returns the number of non-finite
    feature values treated as absent."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    partners, counts, errors, occurrences = co
    xv, pos_nodes, relevant, irrelevant, one = work[0], work[5], work[8], work[9], work[6]
    bad = prepare(val, xv, ip[IP_NORMALIZE])
    x = (idx, xv)
    stamp = state[STAMP]
    n_lab = labels.shape[0]

    update_pairs(partners, counts, errors, occurrences, labels)
    if n_lab >= 2:
        for i in range(n_lab):
            a = labels[i]
            if label_flags[a, DIRTY] == 0:
                label_flags[a, DIRTY] = 1
                dirty[state[N_DIRTY]] = a
                state[N_DIRTY] += 1

    arena = (weights, sums, ip[IP_SALT], ip[IP_SHIFT], ip[IP_LANE_BITS], n_features, work[1], work[2], work[3])
    for i in range(n_lab):
        if label_leaf[labels[i]] < 0:
            insert_label(tree, co, scratch, arena, x, labels, labels[i], ip[IP_ARITY], ip[IP_LANES],
                         ip[IP_PLACEMENT])

    # the PLT rule: positive nodes are the paths of the relevant labels
    n_pos = 0
    for i in range(n_lab):
        v = label_leaf[labels[i]]
        while v >= 0 and nodes[v, POS_STAMP] != stamp:
            nodes[v, POS_STAMP] = stamp
            nodes[v, N_POS] += 1
            if nodes[v, LABEL] < 0:
                pos_nodes[n_pos] = v
                n_pos += 1
            v = nodes[v, PARENT]
    one[0] = state[ROOT]
    _train(tree, one, 1, x, n_features, weights, sums, monitors, ip, fp, work)
    for t in range(n_pos):
        v = pos_nodes[t]
        _train(tree, children[v], nodes[v, N_CHILDREN], x, n_features, weights, sums, monitors, ip, fp, work)

    if n_cand >= 0:
        n_rel = 0
        n_irr = 0
        for c in range(n_cand):
            if nodes[label_leaf[cand_labels[c]], POS_STAMP] == stamp:
                relevant[n_rel] = cand_scores[c]
                n_rel += 1
            else:
                irrelevant[n_irr] = cand_scores[c]
                n_irr += 1
        for i in range(n_rel, n_lab):  # relevant labels the search did not reach
            relevant[i] = 0.0
        observe_record(hist, thr, relevant, n_lab, irrelevant, n_irr)

    t = state[N_LEARNED] + 1
    state[N_LEARNED] = t
    if ip[IP_CHECK_EVERY] > 0 and t % ip[IP_CHECK_EVERY] == 0:
        restructure(tree, co, scratch, dirty, label_flags, ip[IP_ARITY], ip[IP_LANES], fp[FP_MIN_COUNT],
                    fp[FP_MOVE_DELTA], ip[IP_MAX_MOVES], ip[IP_PLACEMENT])
    if fp[FP_COOC_FADING] < 1.0 and t % ip[IP_FADE_EVERY] == 0:
        fade(counts, errors, occurrences, partners.shape[0], fp[FP_COOC_FADING])
        label_flags[:, MOVED] = 0  # faded statistics may send a label elsewhere once more
    state[STAMP] = stamp + 1
    return bad
