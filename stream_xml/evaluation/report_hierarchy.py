"""The report's view of a model's label hierarchy over time, from its ``restructure`` events (and,
for a model whose clusters never became blocks, of its clusters at the end of the stream).

Every restructure event carries the new partition (the blocks of labels that get a learner) and
the clustering's tree. :func:`block_colours` follows the blocks from one restructure to the next
(a block keeps its colour when most of its labels stay together), :func:`timeline_figure` draws
which block every label was in over the stream (a label a row, a colour a block), and
:func:`tree_svg` draws one restructure's cluster tree with every leaf's labels listed in their
block's colour.

>>> events = [
...     {"kind": "restructure", "t": 200, "partition": [["a", "b"], ["c", "d", "f"]]},
...     {"kind": "restructure", "t": 900, "partition": [["a", "b", "e"], ["c", "d"], ["f"]]},
... ]
>>> first, second = block_colours(events)
>>> first["a"] == second["a"] == second["e"], first["c"] == second["c"], second["f"] in first.values()
(True, True, False)
>>> svg = tree_svg({"children": [{"labels": ["a", "b"]}, {"labels": ["c"]}]}, first)
>>> svg.count("<text"), 'fill="%s"' % first["c"] in svg
(3, True)

"""

from __future__ import annotations

import html

__all__ = ["restructures", "block_colours", "leaf_colours", "timeline_figure", "tree_svg", "printable",
           "MAX_TREE_LEAVES"]

# blocks get these colours in turn (tab20's pairs, dark first, then light)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
           "#dbdb8d", "#9edae5")
MAX_TREE_LEAVES = 300  # a larger tree is left to report.json
MAX_TICK_LABELS = 60  # more labels than this: the timeline's rows go unnamed


def printable(name) -> str:
    """A name as text a font can draw: what is not valid text (an unpaired surrogate a label got
    before names were checked) is escaped, as the report files escape it.

    >>> printable(chr(0xD800) + "a"), printable(3)
    ('\\\\ud800a', '3')

    """
    return str(name).encode("utf-8", "backslashreplace").decode("utf-8")


def restructures(model_result: dict) -> list[dict]:
    """The model's restructure events that carry a partition, in stream order."""
    return [e for e in model_result.get("events", []) if e.get("kind") == "restructure" and e.get("partition")]


def block_colours(events: list[dict]) -> list[dict]:
    """For every restructure, label name -> its block's colour. A new block inherits the colour of
    the previous block it shares the most labels with, when they share more than half of the
    larger of the two and no bigger block took that colour first."""
    out, previous, next_colour = [], [], 0
    for e in events:
        blocks = sorted((set(b) for b in e["partition"]), key=len, reverse=True)
        taken, colours = set(), []
        for block in blocks:
            best, best_shared = None, 0
            for colour, old in previous:
                shared = len(block & old)
                if colour not in taken and shared > best_shared and shared * 2 > max(len(block), len(old)):
                    best, best_shared = colour, shared
            if best is None:
                best, next_colour = COLOURS[next_colour % len(COLOURS)], next_colour + 1
            taken.add(best)
            colours.append((best, block))
        previous = colours
        out.append({name: colour for colour, block in colours for name in block})
    return out


def leaf_colours(tree: dict) -> dict:
    """Label name -> a colour of its own for every leaf cluster of ``tree`` (the clusters
    themselves, where no restructure gave them blocks).

    >>> leaf_colours({"children": [{"labels": ["a", "b"]}, {"labels": ["c"]}]}) == {"a": COLOURS[0], "b": COLOURS[0], "c": COLOURS[1]}
    True
    """
    leaves, _ = _layout(_copied(tree))
    return {name: COLOURS[i % len(COLOURS)] for i, leaf in enumerate(leaves) for name in leaf.get("labels", ())}


def _copied(tree: dict) -> dict:
    import copy

    return copy.deepcopy(tree)


def _label_order(events: list[dict]) -> list:
    """The labels as the last partition groups them (block by block), then any others."""
    seen: dict = {}
    for e in reversed(events):
        for block in e["partition"]:
            for name in block:
                seen.setdefault(name, None)
    return list(seen)


def timeline_figure(model_result: dict, records: int, width: float, dpi_margins: dict, change_points=()):
    """Which block every label was in, from each restructure to the next (None: no restructure);
    the source's true change points dashed."""
    events = restructures(model_result)
    if not events:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.colors import to_rgb

    names = _label_order(events)
    row = {name: i for i, name in enumerate(names)}
    edges = [e["t"] for e in events] + [max(records, events[-1]["t"] + 1)]
    grid = [[(1.0, 1.0, 1.0)] * len(events) for _ in names]
    for j, colours in enumerate(block_colours(events)):
        for name, colour in colours.items():
            grid[row[name]][j] = to_rgb(colour)
    height = min(9.0, max(2.2, 0.9 + 0.16 * len(names)))
    fig, ax = plt.subplots(figsize=(width, height))
    ax.axvspan(0, edges[0], color="#000", alpha=0.06, lw=0)
    for cp in (change_points or ()):
        ax.axvline(cp["t"] if isinstance(cp, dict) else cp, color="black", lw=1.3, ls="--")
    ax.pcolormesh(edges, range(len(names) + 1), [[c for c in r] for r in grid], shading="flat",
                  edgecolors="white", linewidth=0.3 if len(names) <= MAX_TICK_LABELS else 0)
    if len(names) <= MAX_TICK_LABELS:
        ax.set_yticks([i + 0.5 for i in range(len(names))], [printable(n) for n in names], fontsize=8)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(names)} labels")
    ax.set_ylim(len(names), 0)
    ax.set_xlim(0, edges[-1])
    ax.set_xlabel("records (grey: before the first restructure, one block; dashed: true change point)"
                  if change_points else "records (grey: before the first restructure, one block)")
    fig.subplots_adjust(top=1 - 0.15 / height, bottom=0.55 / height, **dpi_margins)
    return fig


def _layout(tree: dict) -> tuple[list, int]:
    """Leaves in order and the tree's depth; every node gets ``_x`` (leaf slot) and ``_y`` (depth)."""
    leaves: list = []

    def walk(node, depth):
        children = node.get("children")
        node["_y"] = depth
        if not children:
            node["_x"] = len(leaves)
            leaves.append(node)
            return depth
        deepest = max(walk(c, depth + 1) for c in children)
        node["_x"] = sum(c["_x"] for c in children) / len(children)
        return deepest

    return leaves, walk(tree, 0)


def tree_svg(tree: dict, colours: dict) -> str:
    """The cluster tree, root on top, every leaf's labels listed under it in their block's colour
    (a leaf the model listed in part says how many labels it holds)."""
    tree = _copied(tree)
    leaves, depth = _layout(tree)
    if len(leaves) > MAX_TREE_LEAVES:
        return f'<p class="note">The tree has {len(leaves)} leaves; it is in report.json.</p>'
    widths = [max(60, 7 * max((len(str(n)) for n in leaf.get("labels", [])), default=4) + 14) for leaf in leaves]
    starts = [sum(widths[:i]) for i in range(len(widths))]
    dy, top, line = 26, 12, 14

    def x_of(node):
        slot = node["_x"]
        i = int(slot)
        frac = slot - i
        left = starts[i] + widths[i] / 2
        return left if frac == 0 else left + frac * (starts[i + 1] + widths[i + 1] / 2 - left)

    tallest = max((len(leaf.get("labels", [])) + 1 for leaf in leaves), default=1)
    width, height = sum(widths), top + depth * dy + 14 + line * tallest
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="11" '
             'font-family="system-ui, sans-serif">']

    def draw(node):
        x, y = x_of(node), top + node["_y"] * dy
        for child in node.get("children", ()):
            cx, cy = x_of(child), top + child["_y"] * dy
            parts.append(f'<path d="M{x:.1f},{y} V{cy - dy / 2:.1f} H{cx:.1f} V{cy}" fill="none" stroke="#999"/>')
            draw(child)
        parts.append(f'<circle cx="{x:.1f}" cy="{y}" r="3" fill="#555"/>')
        if "children" not in node:
            names = node.get("labels", [])
            for i, name in enumerate(names):
                colour = colours.get(name, "#555")
                parts.append(f'<text x="{x:.1f}" y="{y + 16 + line * i}" text-anchor="middle" fill="{colour}" '
                             f'font-weight="600">{html.escape(str(name))}</text>')
            hidden = node.get("n_labels", len(names)) - len(names)
            if hidden > 0:
                parts.append(f'<text x="{x:.1f}" y="{y + 16 + line * len(names)}" text-anchor="middle" '
                             f'fill="#777">and {hidden} more</text>')

    draw(tree)
    parts.append("</svg>")
    return "".join(parts)
