"""The computation graph behind a tensor, as data, text and a picture (for learners).

``tinycolor.graph(y)`` walks back from ``y`` through the ``Function`` that made each tensor
(``tensor._ctx``) and its inputs, the same graph that ``y.backward()`` walks, and returns a
``Graph``: one node per tensor, in topological order (every input before the ops that use
it), and an edge from each input to the op that consumed it.

* an ``'op'`` node is a tensor an op made; its label is the op's name (``Mul``, ``Conv2d``);
* a ``'param'`` node is a ``Parameter`` (a module's weight), named when ``names`` is given;
* a ``'leaf'`` node is any other tensor made by the user: an input, or a constant
  (``requires_grad`` False: no gradient flows into it).

``str(graph)`` lists the nodes, one per line; ``graph.draw()`` draws them with matplotlib in
layers, left to right: a node sits one layer to the right of its furthest input (the longest
path from the leaves), and each leaf sits just left of its first consumer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .autograd import Tensor

KIND_COLOURS = {"op": "#cfe2f3", "param": "#fce5cd", "leaf": "#d9ead3", "const": "#eeeeee"}


@dataclass
class Node:
    """One tensor of the graph: what made it (``label``), its shape and dtype."""

    index: int
    kind: str  # 'op', 'param' or 'leaf'
    label: str  # the op's name, or 'param' / 'leaf'
    shape: tuple
    dtype: str
    requires_grad: bool
    name: str | None = None  # a parameter's dotted name or a tensor's .name
    inputs: list[int] = field(default_factory=list)  # indices of the op's inputs, in order
    layer: int = 0  # column in the drawing

    def describe(self) -> str:
        what = self.label if self.kind == "op" else self.kind
        if self.name:
            what += f" {self.name!r}"
        if self.kind == "leaf" and not self.requires_grad:
            what += " (constant)"
        return f"{what} {self.shape} {self.dtype}"


class Graph:
    """Nodes (topologically ordered) and edges ``(input index, op index)`` of a computation."""

    def __init__(self, nodes: list[Node]):
        self.nodes = nodes
        self.edges: list[tuple[int, int]] = []
        for n in nodes:
            for i in dict.fromkeys(n.inputs):  # each input once, in order
                self.edges.append((i, n.index))
        self._layout()

    def __len__(self):
        return len(self.nodes)

    @property
    def output(self) -> Node:
        return self.nodes[-1]

    def consumers(self, index: int) -> list[int]:
        return [dst for src, dst in self.edges if src == index]

    # ------------------------------------------------------------------ text
    def to_text(self) -> str:
        """One line per node: ``%3 = Mul(%1, %2) -> (4, 3) float32``."""
        lines = []
        for n in self.nodes:
            if n.kind == "op":
                args = ", ".join(f"%{i}" for i in n.inputs)
                lines.append(f"%{n.index} = {n.label}({args}) -> {n.shape} {n.dtype}")
            else:
                lines.append(f"%{n.index} = {n.describe()}")
        return "\n".join(lines)

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        ops = sum(n.kind == "op" for n in self.nodes)
        leaves = len(self.nodes) - ops
        return (
            f"Graph({len(self.nodes)} nodes: {ops} ops, {leaves} leaves; {len(self.edges)} edges)"
        )

    # ------------------------------------------------------------------ layout
    def _layout(self):
        """Columns by longest path, then rows ordered to reduce crossings (barycentres)."""
        consumers: dict[int, list[int]] = {n.index: [] for n in self.nodes}
        for src, dst in self.edges:
            consumers[src].append(dst)
        for n in self.nodes:  # topological order: inputs are placed already
            n.layer = 1 + max((self.nodes[i].layer for i in n.inputs), default=-1)
        for n in reversed(self.nodes):  # pull each leaf next to its first consumer
            if not n.inputs and consumers[n.index]:
                n.layer = min(self.nodes[c].layer for c in consumers[n.index]) - 1
        shift = min((n.layer for n in self.nodes), default=0)
        for n in self.nodes:
            n.layer -= shift
        self.n_layers = 1 + max((n.layer for n in self.nodes), default=0)
        layers: list[list[int]] = [[] for _ in range(self.n_layers)]
        for n in self.nodes:
            layers[n.layer].append(n.index)
        row = {}
        for col in layers:
            for r, i in enumerate(col):
                row[i] = r - (len(col) - 1) / 2

        def sweep(cols, neighbours):
            for col in cols:
                key = {}
                for i in col:
                    nb = [row[j] for j in neighbours(i)]
                    key[i] = sum(nb) / len(nb) if nb else row[i]
                col.sort(key=lambda i: (key[i], row[i]))
                for r, i in enumerate(col):
                    row[i] = r - (len(col) - 1) / 2

        for _ in range(2):
            sweep(layers[1:], lambda i: self.nodes[i].inputs)
            sweep(reversed(layers[:-1]), lambda i: consumers[i])
        self.positions = {i: (float(self.nodes[i].layer), -row[i]) for i in row}
        self.max_width = max((len(col) for col in layers), default=1)

    # ------------------------------------------------------------------ picture
    def draw(self, ax=None, fontsize: float = 8.0):
        """Draw the graph on ``ax`` (a new figure if None), inputs on the left; returns ax."""
        import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib only when drawing

        if ax is None:
            width = min(2.0 + 1.8 * self.n_layers, 30)
            height = min(1.5 + 0.9 * self.max_width, 20)
            _, ax = plt.subplots(figsize=(width, height))
        boxes = {}
        for n in self.nodes:
            colour = KIND_COLOURS["const" if n.kind == "leaf" and not n.requires_grad else n.kind]
            title = n.label if n.kind == "op" else (n.name or n.kind)
            boxes[n.index] = ax.text(
                *self.positions[n.index],
                f"{title}\n{n.shape} {n.dtype}",
                ha="center",
                va="center",
                fontsize=fontsize,
                gid=f"node{n.index}",
                zorder=3,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": colour, "edgecolor": "#333333"},
            )
        for src, dst in self.edges:  # drawn after the boxes, clipped to their outlines
            ax.annotate(
                "",
                xy=self.positions[dst],
                xytext=self.positions[src],
                zorder=4,
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "#555555",
                    "shrinkA": 1,
                    "shrinkB": 1,
                    "patchA": boxes[src].get_bbox_patch(),
                    "patchB": boxes[dst].get_bbox_patch(),
                },
            )
        xs = [p[0] for p in self.positions.values()] or [0.0]
        ys = [p[1] for p in self.positions.values()] or [0.0]
        ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
        ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
        ax.set_axis_off()
        return ax


def _param_names(names) -> dict[int, str]:
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = dict(names.named_parameters())
    return {id(t): k for k, t in names.items()}


def graph(y: Tensor, names=None) -> Graph:
    """The computation graph behind ``y``. ``names`` (a Module, or a dict name -> tensor)
    labels the parameters, e.g. ``graph(loss, names=model)`` shows ``'0.weight'``."""
    from .nn.module import Parameter  # noqa: PLC0415 - nn is built above this module's level

    if not isinstance(y, Tensor):
        raise TypeError(f"graph: expected a Tensor, got {type(y).__name__}")
    labels = _param_names(names)
    order: list[Tensor] = []
    index: dict[int, int] = {}
    visited = set()
    stack = [(y, False)]
    while stack:  # iterative post-order DFS: deep graphs need no recursion
        t, expanded = stack.pop()
        if expanded:
            index[id(t)] = len(order)
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        if t._ctx is not None:
            for inp in reversed(t._ctx.inputs):
                if id(inp) not in visited:
                    stack.append((inp, False))
    nodes = []
    for i, t in enumerate(order):
        if t._ctx is not None:
            kind, label = "op", t._ctx.name
            inputs = [index[id(inp)] for inp in t._ctx.inputs]
        else:
            kind = "param" if isinstance(t, Parameter) else "leaf"
            label, inputs = kind, []
        nodes.append(
            Node(
                index=i,
                kind=kind,
                label=label,
                shape=tuple(t.shape),
                dtype=str(np.dtype(t.dtype)),
                requires_grad=t.requires_grad,
                name=labels.get(id(t), t.name),
                inputs=inputs,
            )
        )
    return Graph(nodes)


__all__ = ["Graph", "Node", "graph"]
