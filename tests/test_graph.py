"""The computation-graph object: nodes, edges, topological order, text and drawing."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

import tinycolor as tc  # noqa: E402
from tinycolor import nn  # noqa: E402
from tinycolor.graph import Graph  # noqa: E402


def _by_label(g):
    return {n.label if n.kind == "op" else n.name: n for n in g.nodes}


def _is_topological(g):
    return all(i < n.index for n in g.nodes for i in n.inputs)


def test_small_expression():
    """z = sum(a * b + a): five tensors, five edges, each input before its consumers."""
    a = tc.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    b = tc.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    a.name, b.name = "a", "b"
    z = (a * b + a).sum()
    g = tc.graph(z)
    assert isinstance(g, Graph) and len(g) == 5
    nodes = _by_label(g)
    assert set(nodes) == {"a", "b", "Mul", "Add", "Sum"}
    assert nodes["a"].kind == nodes["b"].kind == "leaf" and nodes["Mul"].kind == "op"
    assert (
        nodes["Mul"].shape == (4, 3)
        and nodes["Sum"].shape == ()
        and nodes["Sum"].dtype == "float32"
    )
    idx = {k: n.index for k, n in nodes.items()}
    assert set(g.edges) == {
        (idx["a"], idx["Mul"]),
        (idx["b"], idx["Mul"]),
        (idx["Mul"], idx["Add"]),
        (idx["a"], idx["Add"]),
        (idx["Add"], idx["Sum"]),
    }
    assert nodes["Add"].inputs == [idx["Mul"], idx["a"]]  # in argument order
    assert g.output is nodes["Sum"] and _is_topological(g)
    assert sorted(g.consumers(idx["a"])) == sorted([idx["Mul"], idx["Add"]])
    # layers: an op sits right of all its inputs; leaves just left of their first consumer
    assert nodes["Mul"].layer == 1 and nodes["Add"].layer == 2 and nodes["Sum"].layer == 3
    assert nodes["a"].layer == nodes["b"].layer == 0


def test_text_lists_every_node():
    a = tc.tensor([1.0, 2.0], requires_grad=True)
    y = (a * 2.0).exp()
    text = str(tc.graph(y))
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[-1] == "%3 = Exp(%2) -> (2,) float32"
    assert "Mul(" in text and "(constant)" in text and "leaf (2,) float32" in text
    assert tc.graph(y).to_text() == text


def test_constants_and_repeated_inputs():
    x = tc.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * x
    g = tc.graph(y)
    assert len(g) == 2 and g.nodes[1].inputs == [0, 0] and g.edges == [(0, 1)]
    g2 = tc.graph(x * 3.0)
    const = [n for n in g2.nodes if n.kind == "leaf" and not n.requires_grad]
    assert len(const) == 1 and const[0].shape == ()


def test_parameters_are_named_from_the_module():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    x = tc.tensor(np.ones((5, 3), np.float32))
    loss = model(x).mean()
    g = tc.graph(loss, names=model)
    params = {n.name: n for n in g.nodes if n.kind == "param"}
    assert set(params) == {"0.weight", "0.bias"}
    assert params["0.weight"].shape == (2, 3)
    ops = [n.label for n in g.nodes if n.kind == "op"]
    assert ops == ["Linear", "Tanh", "Mean"]
    inputs = [n for n in g.nodes if n.kind == "leaf"]
    assert len(inputs) == 1 and not inputs[0].requires_grad and inputs[0].shape == (5, 3)
    assert "param '0.weight' (2, 3) float32" in str(g)
    unnamed = tc.graph(loss)  # without names a parameter is still a 'param'
    assert sum(n.kind == "param" for n in unnamed.nodes) == 2


def test_no_graph_without_gradients():
    x = tc.tensor([1.0, 2.0])
    g = tc.graph(x * 2.0)  # nothing required a gradient: nothing was recorded
    assert len(g) == 1 and g.nodes[0].kind == "leaf" and g.edges == []
    with pytest.raises(TypeError, match="expected a Tensor"):
        tc.graph(np.zeros(2))


def test_deep_chain_is_not_recursive():
    x = tc.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    g = tc.graph(y)
    assert len(g) == 1 + 2 * 3000 and _is_topological(g)
    assert g.n_layers == 3001


def test_draw_on_a_given_and_a_new_axes():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x = tc.tensor(np.ones((2, 3), np.float32))
    g = tc.graph(model(x).sum(), names=model)
    fig, ax = plt.subplots()
    assert g.draw(ax=ax) is ax
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    boxes = [t for t in ax.texts if not isinstance(t, Annotation)]
    assert len(arrows) == len(g.edges) and len(boxes) == len(g)
    assert any(t.get_text().startswith("0.weight\n(4, 3)") for t in boxes)
    # every box sits at its layer's x position, inputs to the left of their consumers
    xs = {int(t.get_gid()[4:]): t.get_position()[0] for t in boxes}
    assert all(xs[s] < xs[d] for s, d in g.edges)
    fig.canvas.draw()  # renders without error
    plt.close(fig)
    ax2 = g.draw()
    assert ax2.figure is not fig
    plt.close(ax2.figure)
