"""The engine: Tensor construction, graph recording, the backward walk, un-broadcasting,
accumulation, no_grad, detach, errors, devices."""

from __future__ import annotations

import itertools
import math
import os
import pickle
import re
import subprocess
import sys
import threading
import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, broadcastable_pair, given_settings, tensor

import tinycolor as tc
from tinycolor import backend
from tinycolor import functional as F
from tinycolor.autograd import Function, unbroadcast
from tinycolor.backend import to_numpy

# --------------------------------------------------------------------------- construction


def test_python_floats_make_float32_and_ints_stay_integers():
    assert tc.Tensor(1.5).dtype == np.float32
    assert tc.Tensor([1.0, 2.0]).dtype == np.float32
    assert tc.Tensor([[1, 2.5]]).dtype == np.float32
    assert tc.tensor([1, 2]).dtype == np.int64
    assert tc.Tensor(np.zeros(2)).dtype == np.float64  # an array keeps its dtype
    assert tc.Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert tc.zeros(2, 3).dtype == np.float32 and tc.ones((2,)).shape == (2,)


@pytest.mark.parametrize("data", [[1, 2], np.arange(3), True])
def test_requires_grad_on_integer_tensors_is_rejected(data):
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        tc.Tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        tc.Tensor(data).requires_grad_()


@pytest.mark.parametrize(
    "data", [["a", "b"], np.array([None, 1.0], dtype=object), np.array(["2026-11-30"], "M8[D]")]
)
def test_a_tensor_of_non_numbers_is_refused(data):
    with pytest.raises(TypeError, match="expected numbers"):
        tc.Tensor(data)


def test_importing_tinycolor_does_not_import_cupy():
    code = "import sys, tinycolor, tinycolor.functional; assert 'cupy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- graph recording


def test_requires_grad_cannot_be_switched_off_on_a_tensor_an_op_made():
    x = tc.Tensor([1.0, 2.0], requires_grad=True)
    mid = x * 2
    out = (mid * 3).sum()
    with pytest.raises(RuntimeError, match=r"made by Mul: only a leaf's flag.*t.detach\(\)"):
        mid.requires_grad_(False)  # out's graph would silently stop at mid: x.grad None
    out.backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    assert mid.requires_grad_() is mid  # on, it already is: nothing to refuse
    x.requires_grad_(False)  # a leaf may switch
    assert not x.requires_grad


def test_graph_is_recorded_only_when_an_input_requires_grad(device):
    a = tc.Tensor([1.0, 2.0], device=device)
    b = tc.Tensor([3.0, 4.0], requires_grad=True, device=device)
    assert not (a * 2).requires_grad and (a * 2).is_leaf
    c = a * b
    assert c.requires_grad and not c.is_leaf and c._ctx.inputs[1] is b
    assert "grad_fn=Mul" in repr(c)


def test_an_integer_result_of_a_tensor_that_requires_grad_is_a_constant(device):
    x = tc.Tensor([1.5, -2.0], requires_grad=True, device=device)
    for dtype in (np.int64, np.int32, bool):
        y = x.astype(dtype)  # was refused: "only floating-point tensors can require gradients"
        assert y.dtype == dtype and not y.requires_grad and y.is_leaf
    np.testing.assert_array_equal(to_numpy(x.astype(np.int64).data), [1, -2])
    ((x * 2).astype(np.float64) * x.astype(np.int64)).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [2.0, -4.0])


def test_no_grad_records_no_graph_as_context_and_as_decorator(device):
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    with tc.no_grad():
        assert not tc.is_grad_enabled()
        y = x * x
        with tc.enable_grad():
            z = x * x
    assert tc.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    assert z.requires_grad and z._ctx is not None
    with tc.no_grad():
        with tc.no_grad():
            pass
        assert not tc.is_grad_enabled(), "an inner no_grad must restore the outer one's mode"

    @tc.no_grad()
    def evaluate(t, depth):
        return evaluate(t, depth - 1) if depth else t * 3  # re-entering the decorator

    w = evaluate(x, 3)
    assert not w.requires_grad and w._ctx is None
    assert tc.is_grad_enabled(), "grad mode must come back after a recursive decorated call"
    with pytest.raises(RuntimeError, match="does not require grad"):
        w.sum().backward()


def test_no_grad_decorates_a_generator_and_works_without_parentheses():
    x = tc.Tensor([1.0, 2.0], requires_grad=True)

    @tc.no_grad()
    def predictions(n):  # the body ran with grad on: the decorator had exited already
        for i in range(n):
            yield x * i, tc.is_grad_enabled()

    seen = []
    for y, enabled in predictions(2):
        assert not y.requires_grad and not enabled
        seen.append(tc.is_grad_enabled())  # the caller's mode between items
    assert seen == [True, True]
    with tc.no_grad():
        gen = tc.enable_grad()(predictions.__wrapped__)(1)
        y, enabled = next(gen)
        assert y.requires_grad and enabled and not tc.is_grad_enabled()

    @tc.no_grad
    def doubled(t):
        return t * 2

    assert not doubled(x).requires_grad and tc.is_grad_enabled()
    with pytest.raises(TypeError, match="no_grad.. takes no arguments, got 3"):
        tc.no_grad(3)


def test_no_grad_is_per_thread():
    seen = []
    with tc.no_grad():
        t = threading.Thread(target=lambda: seen.append(tc.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), tc.no_grad():
        1 / 0  # noqa: B018
    assert tc.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_the_data(device):
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.data is y.data
    (d * x).sum().backward()  # only the x factor carries gradient
    np.testing.assert_array_equal(to_numpy(x.grad), [2.0, 4.0])


# --------------------------------------------------------------------------- the backward walk


def test_backward_errors(device):
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match=r"single-element output, got shape \(2,\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.Tensor([1.0, 2.0], device=device).sum().backward()


@pytest.mark.parametrize("shape", [(3,), (1, 3), (2, 1), (), (1,), (3, 2), (2, 3, 1)])
def test_a_gradient_of_another_shape_is_refused_not_broadcast(device, shape):
    """(3,) or (2, 1) for a (2, 3) output is a mistake that broadcasting would hide (PyTorch
    refuses it too); (3, 2) and (2, 3, 1) gave NumPy's broadcasting errors."""
    x = tc.Tensor(np.ones((2, 3), np.float32), requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match=rf"shape \(2, 3\), got {re.escape(str(shape))}"):
        (x * 2).backward(np.ones(shape, np.float32))
    s = (x * 2).sum()  # a single element takes its gradient in any single-element shape
    s.backward(np.array([3.0]))
    np.testing.assert_array_equal(to_numpy(x.grad), np.full((2, 3), 6.0))


def test_backward_with_a_gradient_and_on_a_leaf(device):
    x = tc.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    (x * x).backward(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(to_numpy(x.grad), [2.0, 0.0, 12.0])
    x.zero_grad()
    x.backward(tc.Tensor([1.0, 1.0, 1.0], device=device))
    np.testing.assert_array_equal(to_numpy(x.grad), [1.0, 1.0, 1.0])
    x.zero_grad()
    x.backward(np.ones(3))  # a float64 gradient for a float32 leaf
    assert x.grad.dtype == np.float32


def test_leaf_gradients_are_arrays_of_their_own(device):
    """Two leaves given one gradient array (a + b), and a leaf given the caller's array, each
    get a copy: scaling one gradient in place (clipping, say) changes nothing else."""
    xp = backend.xp_for(device)
    a = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    b = tc.Tensor([3.0, 4.0], requires_grad=True, device=device)
    g = xp.asarray([1.0, -1.0], dtype=np.float32)
    (a + b).backward(g)
    a.backward(g)
    b.grad *= 2
    np.testing.assert_array_equal(to_numpy(a.grad), [2.0, -2.0])
    np.testing.assert_array_equal(to_numpy(g), [1.0, -1.0])
    c = tc.Tensor([5.0, 6.0], requires_grad=True, device=device)
    c.backward(g)
    c.grad *= 3
    np.testing.assert_array_equal(to_numpy(g), [1.0, -1.0])


def test_backward_takes_pytorchs_keywords(device):
    """gradient=, retain_graph= (the graph is always kept) and create_graph= as PyTorch
    names them, so that PyTorch code runs or says clearly what it cannot do."""
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * x
    y.backward(gradient=np.array([1.0, 3.0]), retain_graph=True)
    y.backward(np.array([1.0, 3.0]), retain_graph=False)  # kept all the same: adds again
    np.testing.assert_array_equal(to_numpy(x.grad), [4.0, 24.0])
    with pytest.raises(NotImplementedError, match="second derivatives are not available"):
        y.sum().backward(create_graph=True)
    np.testing.assert_array_equal(to_numpy(x.grad), [4.0, 24.0])  # nothing was added


def test_gradients_accumulate_over_two_backward_calls_until_zero_grad(device):
    x = tc.Tensor([1.0, -2.0], requires_grad=True, device=device)
    y = (x * x).sum()
    y.backward()
    first = to_numpy(x.grad).copy()
    y.backward()  # the graph survives, the gradient adds up
    np.testing.assert_array_equal(to_numpy(x.grad), 2 * first)
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [3.0, 3.0])


def test_a_zero_dimensional_leaf_gets_an_array_gradient(device):
    x = tc.Tensor(np.float64(2.0), requires_grad=True, device=device)
    (x * x).backward()
    (x * x).backward()
    xp = backend.xp_for(device)
    assert isinstance(x.grad, xp.ndarray) and x.grad.shape == () and float(x.grad) == 8.0


def test_gradients_of_non_leaves_are_not_kept(device):
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    mid = x * 2
    (mid * mid).sum().backward()
    assert mid.grad is None
    np.testing.assert_array_equal(to_numpy(x.grad), 8 * x.numpy())


def test_retain_grad_keeps_and_accumulates_an_intermediate_gradient(device):
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    mid = x * 2
    mid.retain_grad()
    out = (mid * mid).sum()
    out.backward()
    np.testing.assert_array_equal(to_numpy(mid.grad), 2 * mid.numpy())
    out.backward()  # accumulates, as a leaf's gradient does
    np.testing.assert_array_equal(to_numpy(mid.grad), 4 * mid.numpy())
    np.testing.assert_array_equal(to_numpy(x.grad), 16 * x.numpy())  # still flows through
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.Tensor([1.0], device=device).retain_grad()


class Counted(Function):
    """z = 2a, counting how often backward runs (the engine must visit each node once)."""

    calls = 0

    def forward(self, a, scale=2.0):
        self.scale = scale
        return a * scale

    def backward(self, g):
        type(self).calls += 1
        return g * self.scale


def test_a_tensor_used_twice_diamond_graph(device):
    x = tc.Tensor([0.5, -1.5], requires_grad=True, device=device)
    Counted.calls = 0
    a = Counted.apply(x, scale=3.0)  # kwargs reach forward
    b = a * a + F.exp(a)  # a feeds three paths
    c = b + a
    c.sum().backward()
    expected = 3 * (2 * 3 * x.numpy() + np.exp(3 * x.numpy()) + 1)
    np.testing.assert_allclose(to_numpy(x.grad), expected)
    assert Counted.calls == 1
    y = tc.Tensor([2.0], requires_grad=True, device=device)
    (y * y).backward()  # the same tensor in both input slots of one op
    np.testing.assert_array_equal(to_numpy(y.grad), [4.0])


def test_a_chain_of_ten_thousand_ops(device):
    x = tc.Tensor(np.array([1.0, 2.0]), requires_grad=True, device=device)
    y = x
    for _ in range(5_000):  # 10,000 ops: a recursive graph walk would overflow the stack
        y = F.exp(y * 1.0001) - 0.0
        y = F.log(y)
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), x.numpy() * 1.0001**5_000, rtol=1e-9)
    np.testing.assert_allclose(to_numpy(x.grad), [1.0001**5_000] * 2, rtol=1e-9)


def test_backward_refuses_saved_inputs_an_optimizer_step_changed(device):
    """The GAN mistake: a loss through D, then D's step, then that loss's backward. The graph
    saved D's old weights, now overwritten in place: the gradient would mix the two."""
    d = tc.nn.Linear(2, 1).to(device)
    opt = tc.optim.SGD(d.parameters(), lr=0.5)
    z = tc.Tensor([[1.0, -1.0]], requires_grad=True, device=device)
    g_loss = (d(z) ** 2).sum()
    (d(z.detach()) ** 2).sum().backward()
    opt.step()
    with pytest.raises(RuntimeError, match=r"Linear.backward needs input 1, a Parameter of sha"):
        g_loss.backward()
    # a view of a changed tensor is changed too: x @ w.T saves the transpose, a view of w
    w = tc.Tensor([[1.0, 2.0]], requires_grad=True, device=device)
    with tc.no_grad():
        w_t = w.T
    out = (z @ w_t).sum()
    w.grad = w.data * 0 + 1
    tc.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"MatMul.backward needs input 1.*changed in place"):
        out.backward()
    # what no op saved may change: a sum, or the bias of a linear layer
    b = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    s = (z + b).sum()
    b.grad = b.data * 0 + 1
    tc.optim.SGD([b], lr=0.1).step()
    z.grad = None
    s.backward()
    np.testing.assert_array_equal(to_numpy(z.grad), [[1.0, 1.0]])


def test_backward_refuses_a_saved_result_changed_through_a_detached_copy():
    x = tc.Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # Exp saves its result, for dy/dx = y
    z = y.detach().requires_grad_()  # the same memory: an optimizer over z writes into y
    z.grad = np.ones(2, np.float32)
    tc.optim.SGD([z], lr=1.0).step()
    with pytest.raises(RuntimeError, match=r"Exp.backward needs its result of shape \(2,\)"):
        y.sum().backward()


def test_backward_refuses_saved_inputs_an_init_function_changed():
    w = tc.Tensor([[1.0, 2.0]], requires_grad=True)
    x = tc.Tensor([[3.0, 4.0]], requires_grad=True)
    y = F.linear(x, w).sum()
    tc.nn.init.zeros_(w)
    with pytest.raises(RuntimeError, match="changed in place since"):
        y.backward()


def test_the_usual_training_step_is_not_refused(device):
    model = tc.nn.Sequential(tc.nn.Linear(3, 4), tc.nn.ReLU(), tc.nn.Linear(4, 1)).to(device)
    opt = tc.optim.Adam(model.parameters(), lr=0.1)
    x = tc.Tensor(np.ones((2, 3), np.float32), device=device)
    for _ in range(3):  # the loss of the last step is still alive during the next one
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
    assert all(p._version >= 3 for p in model.parameters())


# which inputs each input's gradient reads (PyTorch's derivatives.yaml): an input changed in
# place after the forward pass must be refused exactly when a gradient asked for reads it
IN_PLACE_OPS = {
    "add": (lambda m, a, b: a + b, [(2, 3), (3,)], {0: (), 1: ()}),
    "sub": (lambda m, a, b: a - b, [(2, 3), (3,)], {0: (), 1: ()}),
    "mul": (lambda m, a, b: a * b, [(2, 3), (3,)], {0: (1,), 1: (0,)}),
    "div": (lambda m, a, b: a / b, [(2, 3), (2, 3)], {0: (1,), 1: (0, 1)}),
    "pow": (lambda m, a, b: a**b, [(2, 3), (2, 3)], {0: (0, 1), 1: (0, 1)}),
    "matmul": (lambda m, a, b: a @ b, [(2, 3), (3, 4)], {0: (1,), 1: (0,)}),
    "einsum": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)], {0: (1,), 1: (0,)}),
    "linear": (
        lambda m, x, w, b: _nn_functional(m).linear(x, w, b),
        [(2, 3), (4, 3), (4,)],
        {0: (1,), 1: (0,), 2: ()},
    ),
    "bilinear": (
        lambda m, x1, x2, w: _nn_functional(m).bilinear(x1, x2, w),
        [(2, 3), (2, 4), (5, 3, 4)],
        {0: (1, 2), 1: (0, 2), 2: (0, 1)},
    ),
}


def _nn_functional(m):
    return F if m is tc else m.nn.functional


def _backward_after_a_change(m, op, needs, changed, device="cpu"):
    """y = op(inputs), the inputs numbered in ``needs`` requiring a gradient; input
    ``changed`` doubled in place under no_grad; then y's backward: the gradients, or the error
    message. ``m`` is tinycolor or torch."""
    fn, shapes, _ = IN_PLACE_OPS[op]
    arrs = [np.random.default_rng(i).uniform(0.5, 2.0, s) for i, s in enumerate(shapes)]
    if m is tc:
        xs = [tc.Tensor(a, requires_grad=i in needs, device=device) for i, a in enumerate(arrs)]
    else:
        xs = [m.tensor(a, requires_grad=i in needs) for i, a in enumerate(arrs)]
    y = fn(m, *xs)
    with m.no_grad():
        xs[changed].mul_(2.0)
    try:
        y.sum().backward()
    except RuntimeError as error:
        return str(error)
    return [None if x.grad is None else to_numpy(x.grad) for x in xs]


@pytest.mark.parametrize("op", IN_PLACE_OPS)
def test_backward_refuses_only_inputs_its_gradients_read_as_pytorch(device, op):
    """y = a * b with only a requiring grad reads b alone: a may change in place before
    backward (a leaf updated under no_grad, a buffer refilled), as in PyTorch; b may not.
    Every op saved all its inputs, so every such change was refused."""
    _, shapes, reads = IN_PLACE_OPS[op]
    n = len(shapes)
    cases = [
        (needs, changed)
        for k in range(1, n + 1)
        for needs in itertools.combinations(range(n), k)
        for changed in range(n)
    ]
    results = {}
    for needs, changed in cases:
        got = results[needs, changed] = _backward_after_a_change(tc, op, needs, changed, device)
        case = f"{op}: inputs {needs} need a gradient, input {changed} changed"
        if changed in set().union(*(reads[i] for i in needs)):
            assert isinstance(got, str) and "changed in place since" in got, case
        else:
            assert not isinstance(got, str), f"{case}: {got}"
    torch = pytest.importorskip("torch")
    for needs, changed in cases:
        got, want = results[needs, changed], _backward_after_a_change(torch, op, needs, changed)
        case = f"{op}: inputs {needs} need a gradient, input {changed} changed: {want}"
        assert isinstance(got, str) == isinstance(want, str), case
        if not isinstance(got, str):
            for ours, theirs in zip(got, want):
                assert (ours is None) == (theirs is None), case
                if ours is not None:
                    np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=case)


def test_an_input_read_by_its_own_gradient_is_still_refused(device):
    """x * x reads x for x's gradient; and the message names the input that changed."""
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    b = tc.Tensor([3.0, 4.0], device=device)
    y, z = x * x, x * b
    with tc.no_grad():
        x.mul_(2.0)
        b.mul_(2.0)
    with pytest.raises(RuntimeError, match="changed in place since"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match=r"Mul.backward needs input 1, a Tensor of shape \(2,"):
        z.sum().backward()


def test_wrong_number_of_gradients_is_reported():
    class Broken(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, g):
            return g

    x = tc.Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Broken.backward returned 1 gradients for 2 inputs"):
        Broken.apply(x, x).sum().backward()


def _op(forward, backward):
    """A Function subclass from a forward and a backward, as a learner writes one."""
    return type("MyOp", (Function,), {"forward": forward, "backward": backward})


@pytest.mark.parametrize(
    ("result", "says"),
    [
        (lambda a: tc.Tensor(a * 2), "returned Tensor.*raw arrays"),
        (lambda a: float(a.sum()), "returned float.*xp.asarray"),
        (lambda a: (a, a), "returned tuple.*one output"),
        (lambda a: [a, a], "returned list.*one output"),
    ],
)
def test_a_forward_that_does_not_return_one_array_is_named(result, says):
    """NumPy's AttributeError ('float' object has no attribute 'dtype') deep in apply said
    nothing of the op, and a Tensor was taken silently."""
    op = _op(lambda self, a: result(a), lambda self, g: g)
    with pytest.raises(TypeError, match=f"MyOp.forward {says}"):
        op.apply(tc.Tensor([1.0, 2.0], requires_grad=True))


def test_a_tensor_passed_as_an_option_is_refused_not_left_without_gradient():
    """forward(x, target=t) got the Tensor itself: its ops made a Tensor result, and t, though
    it required grad, silently got no gradient."""

    class SquaredError(Function):
        def forward(self, a, target=None):
            return (a - target) ** 2

        def backward(self, g):
            return g

    x, t = tc.Tensor([1.0, 2.0], requires_grad=True), tc.Tensor([0.0, 3.0], requires_grad=True)
    with pytest.raises(
        TypeError,
        match=r"SquaredError.apply: option target= is a Tensor.*"
        r"SquaredError.apply\(\.\.\., target\)",
    ):
        SquaredError.apply(x, target=t)
    out = SquaredError.apply(x, target=np.array([0.0, 3.0]))  # an array option is fine
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0])


@pytest.mark.parametrize(
    ("grad", "says"),
    [
        (lambda g: g.T, r"shape \(4, 3\) for input 0 of shape \(3, 4\)"),  # was reshaped
        (lambda g: g.reshape(-1), r"shape \(12,\) for input 0 of shape \(3, 4\)"),  # reshaped
        (lambda g: g.sum(axis=0), r"shape \(4,\) for input 0"),  # a NumPy reshape error
        (lambda g: g.sum(axis=1, keepdims=True), r"shape \(3, 1\) for input 0"),
        (lambda g: np.stack([g, g]), r"shape \(2, 3, 4\) for input 0"),  # was summed
    ],
)
def test_a_gradient_of_the_wrong_shape_is_named_not_reshaped(grad, says):
    """unbroadcast reshaped a transposed or flattened gradient into the input's shape (wrong
    values, no error), summed away an extra axis, or failed with NumPy's reshape error."""
    op = _op(lambda self, a: a * 2, lambda self, g: grad(g) * 2)
    x = tc.Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(RuntimeError, match=f"MyOp.backward returned a gradient of {says}"):
        op.apply(x).sum().backward()


def test_a_gradient_of_the_broadcast_output_shape_is_still_summed_back():
    op = _op(lambda self, a, b: a * b, lambda self, g: (g, g))
    x, y = tc.Tensor(np.ones((3, 1)), requires_grad=True), tc.Tensor(np.ones(4), requires_grad=True)
    op.apply(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((3, 1), 4.0))
    np.testing.assert_array_equal(y.grad, np.full(4, 3.0))


@pytest.mark.parametrize(
    ("grad", "says"),
    [
        (lambda g: tc.Tensor(g * 2), "returned Tensor as the gradient of input 0.*t.data"),
        (lambda g: 2.0, "returned float as the gradient of input 0"),
    ],
)
def test_a_gradient_that_is_not_an_array_is_named(grad, says):
    """A Tensor went on down the graph into the next op's backward (and into .grad through
    NumPy); a Python float failed with "'float' object has no attribute 'shape'"."""
    op = _op(lambda self, a: a * 2, lambda self, g: grad(g))
    x = tc.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=f"MyOp.backward {says}"):
        (op.apply(x) * 3).sum().backward()


def test_a_list_of_gradients_counts_as_a_tuple():
    """It was taken as one gradient: "returned 1 gradients for 2 inputs"."""
    op = _op(lambda self, a, b: a * b, lambda self, g: [g * 2.0, g * 3.0])
    x, y = tc.Tensor([1.0], requires_grad=True), tc.Tensor([1.0], requires_grad=True)
    op.apply(x, y).sum().backward()
    assert (x.grad.item(), y.grad.item()) == (2.0, 3.0)


def test_needs_input_grad_tells_which_inputs_need_a_gradient():
    seen = []

    class Spy(Function):
        def forward(self, a, b):
            seen.append(self.needs_input_grad)
            self.save_for_backward(a)
            return a * b

        def backward(self, g):
            (a,) = self.saved
            return None, g * a

    x, w = tc.Tensor([1.0, 2.0]), tc.Tensor([3.0, 4.0], requires_grad=True)
    Spy.apply(x, w).sum().backward()
    assert seen == [(False, True)] and x.grad is None
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])


class LegendreP3(Function):
    """PyTorch's own example of a custom Function ("Learning PyTorch with examples"), as its
    tutorial writes it: static methods taking ctx."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x**3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x**2 - 1)


class ScaledByConstant(Function):
    """z = a * s with s a number passed positionally (its gradient None, as in PyTorch), kept
    on ctx; the second input's gradient computed only when ctx.needs_input_grad says so."""

    @staticmethod
    def forward(ctx, a, s):
        ctx.s = s
        return a * s

    @staticmethod
    def backward(ctx, g):
        return g * ctx.s, (None if not ctx.needs_input_grad[1] else g)


def test_a_function_written_with_pytorchs_static_methods_and_ctx_runs():
    """forward(ctx, x) was called as an instance method, x missing: "forward() missing 1
    required positional argument"; and ctx.saved_tensors did not exist."""
    a = np.array([-0.9, -0.2, 0.4, 1.3])
    x = tc.Tensor(a, requires_grad=True)
    y = LegendreP3.apply(x)
    np.testing.assert_allclose(y.numpy(), 0.5 * (5 * a**3 - 3 * a), rtol=1e-15)
    ScaledByConstant.apply(y, 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, 3.0 * 1.5 * (5 * a**2 - 1), rtol=1e-15)
    assert tc.gradcheck(lambda t: ScaledByConstant.apply(LegendreP3.apply(t), 2.0), [a])
    torch = pytest.importorskip("torch")

    class TorchLegendreP3(torch.autograd.Function):  # the same source in PyTorch's class
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x**3 - 3 * x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * x**2 - 1)

    tx = torch.tensor(a, requires_grad=True)
    (TorchLegendreP3.apply(tx) * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-15)


# --------------------------------------------------------------------------- un-broadcasting


@given_settings
@given(pair=broadcastable_pair(max_dims=4), data=st.data())
def test_unbroadcast_sums_like_a_loop(pair, data):
    big, small = pair
    g = data.draw(arrays(big))
    out = unbroadcast(g, small)
    assert out.shape == small
    # reference: the gradient of a broadcast is, for each element of the small array, the sum
    # of the gradient over every position that read it
    expected = np.zeros(small)
    padded = (1,) * (len(big) - len(small)) + small
    for pos in np.ndindex(*big):
        src = tuple(0 if n == 1 else i for i, n in zip(pos, padded))[len(big) - len(small) :]
        expected[src] += g[pos]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@given_settings
@given(pair=broadcastable_pair(), data=st.data())
def test_the_engine_unbroadcasts_into_leaves(device, pair, data):
    big, small = pair
    a, b = data.draw(arrays(big)), data.draw(arrays(small))
    x, y = tensor(a, device), tensor(b, device)
    (x * y).backward(np.ones(big))
    assert x.grad.shape == big and y.grad.shape == small
    np.testing.assert_allclose(to_numpy(y.grad), unbroadcast(np.broadcast_to(a, big), small))


def test_float32_leaf_gets_a_float32_gradient_from_a_float64_graph(device):
    x = tc.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True, device=device)
    y = x * tc.Tensor(np.array([0.5, 0.25]), device=device)  # float64 constant
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(x.grad), [0.5, 0.25])


# --------------------------------------------------------------------------- operators


def test_ndarray_on_the_left_defers_to_the_tensor(device):
    x = tc.Tensor(np.array([1.0, 2.0, 4.0]), requires_grad=True, device=device)
    a = np.array([2.0, 3.0, 5.0])
    results = {
        "mul": (a * x, [2.0, 3.0, 5.0]),
        "add": (a + x, [1.0, 1.0, 1.0]),
        "sub": (a - x, [-1.0, -1.0, -1.0]),
        "div": (a / x, -a / x.numpy() ** 2),
        "scalar": (np.float64(2.0) * x, [2.0, 2.0, 2.0]),
    }
    for name, (y, grad) in results.items():
        assert isinstance(y, tc.Tensor), f"ndarray {name} Tensor gave {type(y).__name__}"
        x.zero_grad()
        y.sum().backward()
        np.testing.assert_allclose(to_numpy(x.grad), grad, err_msg=name)
    m = tc.Tensor(np.ones((3, 2)), requires_grad=True, device=device)
    y = a @ m
    assert isinstance(y, tc.Tensor) and y.shape == (2,)


def test_comparisons_give_constant_boolean_tensors(device):
    x = tc.Tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    for got, want in (
        (x > 2, [0, 0, 1]),
        (x >= 2, [0, 1, 1]),
        (x < 2, [1, 0, 0]),
        (x <= 2, [1, 1, 0]),
    ):
        assert got.dtype == bool and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), np.array(want, bool))


def test_a_float32_tensor_compares_with_a_number_in_float32_as_pytorch(device):
    """x == 0.1 on float32 compared in float64 (NumPy 2 makes the 0-d array a strong type): a
    float32 0.1 was not equal to 0.1, and x > 0.1 held for it. PyTorch's scalar does not
    promote."""
    torch = pytest.importorskip("torch")
    a = np.float32([0.1, 0.2, 0.3, 0.7])
    x, tx = tc.Tensor(a, device=device), torch.tensor(a)
    for v in (0.1, 0.3, 0.7, np.float64(0.3), 1, True):
        for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
            assert getattr(x, op)(v).numpy().tolist() == getattr(tx, op)(v).numpy().tolist()
        assert (v < x).numpy().tolist() == (v < tx).numpy().tolist()
        for got in (tc.isclose(x, v, rtol=0, atol=0), tc.isclose(v, x, rtol=0, atol=0)):
            want = torch.isclose(tx, torch.tensor(v, dtype=torch.float32), rtol=0, atol=0)
            assert got.numpy().tolist() == want.numpy().tolist()
    i = tc.Tensor(np.array([1, 2]), device=device)
    assert (i == 1.5).numpy().tolist() == [False, False] and (i < 1.5).numpy().tolist() == [
        True,
        False,
    ]


def test_equality_is_elementwise_like_the_other_comparisons(device):
    x = tc.Tensor([0.0, 1.0, 0.0], device=device)
    np.testing.assert_array_equal(to_numpy((x == 0).data), [True, False, True])  # was False
    np.testing.assert_array_equal(to_numpy((x != 0).data), [False, True, False])
    np.testing.assert_array_equal(to_numpy(F.where(x == 0, 5.0, x).data), [5.0, 1.0, 5.0])
    assert len({x, tc.Tensor([0.0], device=device)}) == 2  # still hashable, by identity


def test_constants_beside_a_float32_tensor_keep_it_float32(device):
    t = tc.Tensor(np.ones(3, np.float32), requires_grad=True, device=device)
    # NumPy's rules made these float64; PyTorch keeps float32 (a float array keeps its dtype)
    for y in (
        t * np.array([1, 2, 3]),
        t + np.int64(2),
        t * np.array(2.0),
        np.arange(3) * t,
        t * np.arange(3, dtype=np.uint32),  # float32 * uint32 is float64 in NumPy
    ):
        assert y.dtype == np.float32
    assert (t * np.ones(3)).dtype == np.float64
    assert F.mse_loss(t, np.zeros(3)).dtype == np.float32  # as cross_entropy's target
    assert F.l1_loss(t, np.zeros(3)).dtype == np.float32


def test_one_element_tensors_act_as_python_numbers(device):
    x = tc.Tensor(np.array([[2.5]]), device=device)
    assert float(x) == 2.5 and int(x) == 2 and bool(x) and not bool(x - 2.5)
    assert (x > 2) and not (x > 3)  # `if loss > 0:` as in PyTorch
    v = tc.Tensor([-1.0, 2.0], requires_grad=True, device=device)
    y = abs(v)
    y.sum().backward()
    np.testing.assert_array_equal(to_numpy(y.data), [1.0, 2.0])
    np.testing.assert_array_equal(to_numpy(v.grad), [-1.0, 1.0])


def test_size_numel_and_dim_answer_pytorchs_calls_and_numpys_attribute():
    """batch = x.size(0), x.size(), x.numel() and x.dim() as written for PyTorch; x.size is
    still NumPy's number of elements wherever a number is used."""
    torch = pytest.importorskip("torch")
    a = np.zeros((2, 3, 4), np.float32)
    x, tx = tc.Tensor(a), torch.tensor(a)
    assert x.size() == tuple(tx.size()) == (2, 3, 4)
    assert [x.size(d) for d in (0, 1, -1)] == [tx.size(d) for d in (0, 1, -1)] == [2, 3, 4]
    assert x.numel() == tx.numel() == 24 and x.dim() == tx.dim() == 3
    assert x.size == 24 and x.size * 2 == 48 and np.zeros(x.size).shape == (24,)
    assert pickle.loads(pickle.dumps(x.size)) == 24
    model = tc.nn.Linear(3, 2)
    assert sum(p.size for p in model.parameters()) == sum(p.numel() for p in model.parameters())
    with pytest.raises(IndexError, match=r"size\(3\): expected an axis in \[-3, 3\)"):
        x.size(3)


def test_the_truth_of_a_tensor_with_many_elements_is_refused(device):
    x = tc.Tensor([1.0, 2.0], device=device)
    for convert in (bool, float, int):
        with pytest.raises(ValueError, match=r"needs a single element, got shape \(2,\)"):
            convert(x)
    with pytest.raises(ValueError, match="single element"):
        if x > 0:  # was True whatever the elements, as for any object
            pass


def test_a_parameter_update_under_no_grad_changes_the_parameter_in_place(device):
    """The PyTorch idiom ``with no_grad(): p -= lr * p.grad``: Python rebinds p to what -=
    returns, so a new tensor left the model's parameter as it was, and training learned
    nothing, without an error."""
    model = tc.nn.Linear(3, 2).to(device)
    # x requires a gradient, which reads the weight (the weight's own reads x alone)
    x = tc.Tensor(np.ones((4, 3), np.float32), requires_grad=True, device=device)
    before = [p.numpy().copy() for p in model.parameters()]
    out = (model(x) ** 2).sum()
    out.backward()
    with tc.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for p, b in zip(model.parameters(), before):
        np.testing.assert_allclose(p.numpy(), b - 0.1 * to_numpy(p.grad), rtol=1e-6)
        assert p.is_leaf and p.requires_grad
    with pytest.raises(RuntimeError, match="changed in place since"):
        out.backward()  # the graph saved the old weight, for x's gradient
    w = model.weight
    with pytest.raises(RuntimeError, match=r"t -= ... on a leaf tensor \(2, 3\) that requires"):
        w -= 1.0  # recorded, it would make w a new non-leaf tensor
    with (
        pytest.raises(ValueError, match=r"v of shape \(4, 2, 3\) does not fit t's shape"),
        tc.no_grad(),
    ):
        w += np.ones((4, 2, 3), np.float32)


def _in_place_program(m, a):
    """An exponential moving average, a manual SGD step, weight clipping and label filling,
    written with PyTorch's in-place methods; m is tinycolor or torch."""
    w = m.tensor(a, requires_grad=True)
    avg = m.tensor(a)
    (w * w * w).sum().backward()
    with m.no_grad():
        w.sub_(w.grad, alpha=0.1)  # w -= 0.1 * grad
        w.mul_(0.5).add_(1.0).div_(2.0)  # chained: each returns the tensor
        avg.mul_(0.9).add_(w, alpha=0.1)
        w.clamp_(-0.6, 0.6)
    labels = m.full((3,), 1.0)
    labels.fill_(0.0)
    ones = m.zeros(2, 3).copy_(m.tensor([1.0, 2.0, 3.0]))  # broadcast
    return w, avg, labels, ones


def test_in_place_methods_on_leaves_under_no_grad_and_on_tensors_outside_the_graph(device):
    """w.add_, w.mul_, labels.fill_, p.clamp_, p.copy_, x.zero_: PyTorch's in-place methods
    (an update under no_grad, an EMA, a GAN's label.fill_, WGAN clipping) were
    AttributeErrors; t -= v worked but not its method form."""
    a = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    w, avg, labels, ones = _in_place_program(tc, a)
    want_w = np.clip(((a - 0.1 * 3 * a**2) * 0.5 + 1.0) / 2.0, -0.6, 0.6)
    want_avg = 0.9 * a + 0.1 * ((a - 0.1 * 3 * a**2) * 0.5 + 1.0) / 2.0
    np.testing.assert_allclose(w.numpy(), want_w, rtol=1e-15)
    np.testing.assert_allclose(avg.numpy(), want_avg, rtol=1e-15)
    assert w.is_leaf and w.requires_grad and labels.numpy().tolist() == [0.0] * 3
    np.testing.assert_array_equal(ones.numpy(), [[1.0, 2.0, 3.0]] * 2)
    assert ones.dtype == np.float32 and tc.ones(2).zero_().numpy().tolist() == [0.0, 0.0]
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    h = x * 2
    for call, name in ((lambda: h.add_(1.0), "add_"), (lambda: h.zero_(), "fill_")):
        with pytest.raises(RuntimeError, match=f"{name} on a tensor made by Mul"):
            call()
    with pytest.raises(RuntimeError, match=r"clamp_ on a leaf tensor \(2,\) that requires grad"):
        x.clamp_(0, 1)
    y = x * x
    with tc.no_grad():
        x.mul_(3.0)  # y's graph saved the old x
    with pytest.raises(RuntimeError, match="changed in place since"):
        y.sum().backward()
    with pytest.raises(ValueError, match=r"copy_: src of shape \(3,\) does not fit"):
        tc.zeros(2).copy_(np.ones(3))
    torch = pytest.importorskip("torch")
    for ours, theirs in zip((w, avg, labels, ones), _in_place_program(torch, a)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-15)


def test_masked_fill_normal_and_uniform_in_place_as_pytorch(device):
    """t.masked_fill_(mask, v) (a sampler's logits.masked_fill_(~keep, -inf) under no_grad),
    torch.empty(n).uniform_(-b, b) and p.normal_(0, 0.02) under no_grad: AttributeErrors
    before; the in-place rules are fill_'s."""
    logits = tc.Tensor(np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]]), device=device)
    keep = logits >= tc.topk(logits, 2).values[:, -1:]
    assert logits.masked_fill_(~keep, float("-inf")) is logits
    np.testing.assert_array_equal(logits.numpy(), [[-np.inf, 3.0, 2.0], [0.5, -np.inf, 4.0]])
    x = tc.zeros(2, 3, device=device).masked_fill_(np.array([True, False, True]), 7)
    np.testing.assert_array_equal(x.numpy(), [[7, 0, 7], [7, 0, 7]])
    tc.manual_seed(0)
    u = tc.empty(4000, device=device).uniform_(-0.5, 0.5)
    assert u.dtype == np.float32 and -0.5 <= u.numpy().min() and u.numpy().max() < 0.5
    assert abs(u.numpy().std() - 1 / math.sqrt(12)) < 0.01
    w = tc.nn.Parameter(np.zeros((100, 50)))
    with tc.no_grad():
        assert w.normal_(1.0, 0.02) is w
    assert abs(w.numpy().mean() - 1.0) < 0.002 and abs(w.numpy().std() / 0.02 - 1) < 0.05
    g = tc.Generator().manual_seed(3)
    np.testing.assert_array_equal(
        tc.zeros(3, dtype=tc.float64).normal_(generator=g).numpy(),
        np.random.default_rng(3).normal(0.0, 1.0, 3),
    )
    with pytest.raises(RuntimeError, match=r"normal_ on a leaf tensor \(100, 50\) that requires"):
        w.normal_()
    with pytest.raises(RuntimeError, match=r"masked_fill_ on a tensor made by"):
        (w * 2).masked_fill_(w > 0, 0.0)
    with pytest.raises(TypeError, match=r"masked_fill_: mask must be boolean"):
        tc.zeros(2).masked_fill_(np.array([1, 0]), 1.0)
    with pytest.raises(ValueError, match=r"mask of shape \(3,\) does not broadcast"):
        tc.zeros(2).masked_fill_(np.array([True, False, True]), 1.0)
    with pytest.raises(TypeError, match=r"uniform_: expected a floating-point tensor"):
        tc.zeros(2, dtype=tc.int64).uniform_()


def test_augmented_assignment_makes_a_new_tensor_of_an_op_result(device):
    x = tc.Tensor([1.0, 2.0], requires_grad=True, device=device)
    h = x * 2
    h += x  # in a forward pass: h = h + x, recorded
    h.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [3.0, 3.0])
    with tc.no_grad():
        y = x * 2  # an op's result, even unrecorded: never changed in place
    z = y
    y += 1.0
    assert y is not z and z.numpy().tolist() == [2.0, 4.0] and y.numpy().tolist() == [3.0, 5.0]
    a = tc.zeros(3, device=device)
    v = a[0:2]  # a view is an op's result too: v += 1 leaves a as it was
    v += 1.0
    assert a.numpy().tolist() == [0.0, 0.0, 0.0] and v.numpy().tolist() == [1.0, 1.0]
    total = tc.zeros((), device=device)
    total += (x * x).sum()  # a loss in grad mode: the sum stays in the graph
    assert total._ctx is not None
    total.backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [5.0, 7.0])


def _augmented_leaves(m, nn):
    """t += v on leaves that require no grad: an alias, a BatchNorm buffer through another name,
    a frozen EMA copy under no_grad, a leaf beside v that requires grad under no_grad; m is
    tinycolor or torch."""
    a = m.zeros(3)
    b = a
    a += 1.0
    a *= m.tensor([1.0, 2.0, 3.0])
    a /= 2
    a -= 0.25
    bn = nn.BatchNorm2d(3)
    rm = bn.running_mean
    rm += 1.0
    ema = m.tensor([[1.0, 2.0], [3.0, 4.0]])
    p = m.tensor([[3.0, 2.0], [1.0, 0.0]], requires_grad=True)
    with m.no_grad():
        pe = ema
        pe *= 0.5
        pe += 0.5 * p
        c = m.zeros(2)
        c += p[0]  # records nothing under no_grad: in place
    ints = m.tensor([1, 2], dtype=m.int64)
    ints += 3
    ints *= 2
    return b, bn.running_mean, ema, c, ints


def test_augmented_assignment_changes_a_leaf_in_place_as_pytorch(device):
    """rm = bn.running_mean; rm += 1 (and a frozen EMA copy's pe *= d under no_grad, b = a;
    a += 1) made a new tensor: the buffer, the model's parameter and the alias stayed as they
    were, with no error. A tensor no op made changes in place, as in PyTorch."""
    got = _augmented_leaves(tc, tc.nn)
    want = [[0.25, 0.75, 1.25], [1.0] * 3, [[2.0, 2.0], [2.0, 2.0]], [3.0, 2.0], [8, 10]]
    for t, w in zip(got, want):
        assert t.numpy().tolist() == w
    assert got[-1].dtype == np.int64 and got[2]._ctx is None and not got[2].requires_grad
    arr = np.array([2.0, 4.0], np.float32)
    c = tc.Tensor(arr)  # shares arr's memory, as torch.from_numpy(arr)
    c /= 2
    assert arr.tolist() == [1.0, 2.0]
    i = tc.tensor([1, 2], device=device)
    for change in (lambda: i.__iadd__(0.5), lambda: i.__itruediv__(2)):
        # float32, the default float dtype, as PyTorch's "result type Float can't be cast"
        with pytest.raises(TypeError, match=r"the result is float32, which t's dtype int64"):
            change()
    with pytest.raises(TypeError, match=r"t \+= \.\.\.: the result is int64, which t's dtype bool"):
        b = tc.tensor([True, False], device=device)
        b += 1
    with pytest.raises(ValueError, match=r"v of shape \(3,\) does not fit t's shape \(2,\)"):
        f = tc.zeros(2, device=device)
        f += tc.ones(3, device=device)
    assert i.numpy().tolist() == [1, 2]
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(got, _augmented_leaves(torch, torch.nn)):
        np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    ti = torch.tensor([1, 2])
    for change in (lambda: ti.__iadd__(0.5), lambda: ti.__itruediv__(2)):
        with pytest.raises(RuntimeError, match="can't be cast"):
            change()


# name: (the input's NumPy dtype and values, the expression on a tensor t of module m, the
# dtype PyTorch gives it): arithmetic's dtypes where NumPy 2's rule differs from PyTorch's
PROMOTIONS = {
    "uint8 / 255": (np.uint8, [0, 128, 255], lambda m, t: t / 255, np.float32),
    "uint8 / uint8": (np.uint8, [1, 128, 255], lambda m, t: t / t, np.float32),
    "255 / uint8": (np.uint8, [1, 128, 255], lambda m, t: 255 / t, np.float32),
    "int32 / int64": (np.int32, [1, -7, 9], lambda m, t: t / m.tensor(np.array([2, 4, -5])),
                      np.float32),
    "div(int64, 2)": (np.int64, [1, -7, 9], lambda m, t: m.div(t, 2), np.float32),
    "bool / 2": (np.bool_, [True, False], lambda m, t: t / 2, np.float32),
    "int8 + 200": (np.int8, [1, -100, 60], lambda m, t: t + 200, np.int8),  # wraps: -55
    "200 - int8": (np.int8, [1, -100, 60], lambda m, t: 200 - t, np.int8),
    "uint8 - 2": (np.uint8, [1, 5, 255], lambda m, t: t - 2, np.uint8),
    "uint8 * 2": (np.uint8, [1, 128, 255], lambda m, t: t * 2, np.uint8),
    "int8 * 1.5": (np.int8, [1, -100, 60], lambda m, t: t * 1.5, np.float32),
    "uint8 + 1.5": (np.uint8, [0, 128, 255], lambda m, t: t + 1.5, np.float32),
    "int16 ** 2": (np.int16, [3, -200, 7], lambda m, t: t**2, np.int16),
    "int32 ** 0.5": (np.int32, [4, 9, 2], lambda m, t: t**0.5, np.float32),
    "bool + 1": (np.bool_, [True, False], lambda m, t: t + 1, np.int64),
    "bool + 1.5": (np.bool_, [True, False], lambda m, t: t + 1.5, np.float32),
    "bool + True": (np.bool_, [True, False], lambda m, t: t + True, np.bool_),
    "int32 + np.int64": (np.int32, [1, 2], lambda m, t: t + np.int64(3), np.int32),
    "int32 * np.float64": (np.int32, [1, 2], lambda m, t: t * np.float64(2.5), np.float32),
    "int64 * float32 tensor": (np.int64, [1, 2], lambda m, t: t * m.ones(2), np.float32),
    "float32 tensor - int32": (np.int32, [1, 2], lambda m, t: m.ones(2) - t, np.float32),
    "float32 * 0.1": (np.float32, [1.0, 3.0], lambda m, t: t * 0.1, np.float32),
    "float64 * 0.1": (np.float64, [1.0, 3.0], lambda m, t: t * 0.1, np.float64),  # gradchecks
    "float64 / 3": (np.float64, [1.0, 3.0], lambda m, t: t / 3, np.float64),
    "float32 + float64 tensor": (np.float32, [1.0, 2.0],
                                 lambda m, t: t + m.tensor(np.array([0.5, 0.25])), np.float64),
    "maximum(int64, float32 tensor)": (np.int64, [0, 2],
                                       lambda m, t: m.maximum(t, m.ones(2)), np.float32),
    "minimum(float32 tensor, int32)": (np.int32, [0, 2],
                                       lambda m, t: m.minimum(m.ones(2), t), np.float32),
    "where(int64, 0.5)": (np.int64, [1, 2, 3], lambda m, t: m.where(t > 1, t, 0.5), np.float32),
    "where(uint8, 7)": (np.uint8, [1, 2, 3], lambda m, t: m.where(t > 1, t, 7), np.uint8),
}  # fmt: skip

# the module m of the NumPy reference: int64 or float64 arithmetic, then cast
_NUMPY = types.SimpleNamespace(
    tensor=np.asarray,
    ones=np.ones,
    div=np.true_divide,
    maximum=np.maximum,
    minimum=np.minimum,
    where=np.where,
)


@pytest.mark.parametrize("name", sorted(PROMOTIONS))
def test_arithmetic_promotes_dtypes_as_pytorch(device, name):
    """uint8 / 255 was float64 (NumPy's true division) and int8 + 200 int64 [201]; PyTorch
    gives the default float dtype, float32, to a true division of integers and keeps an
    integer tensor's dtype beside a Python int (wrapping: int8 -55). The values against the
    same expression in int64 or float64 NumPy, cast (so wrapped); then against PyTorch."""
    dtype, values, expr, want_dtype = PROMOTIONS[name]
    ours = types.SimpleNamespace(
        tensor=lambda a: tc.tensor(a, device=device),
        ones=lambda n: tc.ones(n, device=device),
        div=tc.div,
        maximum=tc.maximum,
        minimum=tc.minimum,
        where=tc.where,
    )
    got = expr(ours, tc.tensor(np.array(values, dtype), device=device))
    assert got.dtype == want_dtype
    wide = np.array(values, np.float64 if np.dtype(want_dtype).kind == "f" else np.int64)
    want = np.asarray(expr(_NUMPY, wide)).astype(want_dtype)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    torch = pytest.importorskip("torch")
    theirs = expr(torch, torch.tensor(np.array(values, dtype))).numpy()
    assert got.dtype == theirs.dtype
    np.testing.assert_allclose(got.numpy(), theirs, rtol=1e-6)


def test_in_place_floor_division_and_remainder_of_a_leaf(device):
    """t //= v and t %= v change a leaf in place (every alias sees it), in its dtype, as the
    other augmented assignments; a float result in an integer tensor is refused."""
    i = tc.tensor([7, -7, 9], device=device)
    alias = i
    i //= 2
    assert alias is i and i.numpy().tolist() == [3, -4, 4] and i.dtype == np.int64
    i %= 3
    assert alias.numpy().tolist() == [0, 2, 1]
    f = tc.Tensor(np.array([7.5, -7.5]), device=device)
    f %= 2
    f //= 0.5
    assert f.numpy().tolist() == [3.0, 1.0]
    for change in (lambda: i.__ifloordiv__(2.5), lambda: i.__imod__(0.5)):
        with pytest.raises(TypeError, match=r"the result is float32, which t's dtype int64"):
            change()
    torch = pytest.importorskip("torch")
    ti = torch.tensor([7, -7, 9])
    ti //= 2
    ti %= 3
    assert ti.tolist() == [0, 2, 1]
    with pytest.raises(RuntimeError, match="can't be cast"):
        ti //= 2.5


def test_unary_plus_is_the_tensor_itself_as_pytorch(device):
    x = tc.Tensor(np.array([1.0, -2.0]), requires_grad=True, device=device)
    assert +x is x
    (+x * 3).sum().backward()
    assert to_numpy(x.grad).tolist() == [3.0, 3.0]
    i = tc.tensor([1, 2], device=device)
    assert +i is i
    with pytest.raises(TypeError, match=r"unary \+ of a bool tensor is not supported"):
        _ = +tc.tensor([True], device=device)
    torch = pytest.importorskip("torch")
    tx = torch.tensor([1.0], requires_grad=True)
    assert +tx is tx
    with pytest.raises(RuntimeError, match="bool tensor is not supported"):
        _ = +torch.tensor([True])


def test_item_assignment_says_what_to_do_instead():
    x = tc.Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="not changed in place.*functional.where"):
        x[0] = 5.0
    x.data[0] = 5.0  # the way for a constant
    assert x.tolist() == [5.0, 2.0]


def test_numpy_takes_a_tensor_that_needs_no_gradient():
    x = tc.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    a = np.asarray(x)  # was an array of one Python object
    assert a.dtype == np.float32 and a.shape == (2, 3)
    np.testing.assert_array_equal(np.exp(x), np.exp(x.numpy()))
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(x, copy=True), x.data)


def test_numpy_refuses_a_tensor_it_would_cut_from_the_graph():
    x = tc.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="requires grad cannot become a NumPy array implicitly"):
        np.exp(x)  # was an object array: the gradient of what followed silently never got to x
    assert isinstance(np.ones(2) * x, tc.Tensor)  # the operators still defer to the tensor


def test_numpy_reductions_call_the_tensor_methods(device):
    """np.sum(t) calls t.sum(axis=None, out=None), np.mean(t) adds dtype=None, np.std(t)
    ddof=0: each was a TypeError about a keyword. The answer is the method's, a tensor in the
    graph (on the tensor's device), with NumPy's meaning of each keyword."""
    a = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], dtype=np.float32)
    x = tc.Tensor(a, device=device, requires_grad=True)
    cases = {
        "sum": (np.sum(x), a.sum()),
        "mean": (np.mean(x), a.mean()),
        "max": (np.max(x), a.max()),
        "min": (np.min(x), a.min()),
        "amax": (np.amax(x, axis=1), a.max(axis=1)),
        "std": (np.std(x), a.std()),  # NumPy's ddof=0: the biased one
        "var": (np.var(x), a.var()),
        "std ddof": (np.std(x, axis=0, ddof=1), a.std(axis=0, ddof=1)),
        "prod": (np.prod(x), a.prod()),
        "prod axis": (np.prod(x, axis=1, keepdims=True), a.prod(axis=1, keepdims=True)),
        "sum keepdims": (np.sum(x, axis=1, keepdims=True), a.sum(axis=1, keepdims=True)),
        "mean axis": (np.mean(x, 0), a.mean(0)),
        "argmax": (np.argmax(x), a.argmax()),
        "argmin": (np.argmin(x, axis=1), a.argmin(axis=1)),
    }
    for name, (got, want) in cases.items():
        assert isinstance(got, tc.Tensor) and got.device == device, name
        assert got.shape == np.shape(want), name
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, err_msg=name)
    assert float(np.sum(x)) == 21.0
    total = np.sum(x, dtype=np.float64)  # dtype casts the input first, as x.sum(dtype=...)
    assert total.dtype == np.float64
    total.backward()
    np.testing.assert_array_equal(to_numpy(x.grad), np.ones_like(a))
    assert x.grad.dtype == np.float32
    with pytest.raises(TypeError, match=r"sum: out= is not supported.*use the result"):
        np.sum(x, out=np.zeros((), np.float32))
    with pytest.raises(TypeError, match=r"max: out= is not supported"):
        x.max(out=x)
    with pytest.raises(TypeError, match=r"var: got both ddof=1 and correction=0"):
        x.var(ddof=1, correction=0)
    # PyTorch's spellings as before
    np.testing.assert_array_equal(x.prod(1).numpy(), a.prod(1))
    assert x.prod(dim=1, keepdim=True).shape == (2, 1)
    assert x.sum(1).shape == (2,) and x.sum(dim=1, keepdim=True).shape == (2, 1)
    np.testing.assert_allclose(x.std(0, False).numpy(), a.std(0), rtol=1e-6)


def test_numpy_functions_with_a_same_named_method_call_it(device):
    """np.cumsum, np.clip, np.round, np.reshape, np.transpose, np.squeeze(t, axis) and
    np.argsort call the tensor's method with NumPy's keywords (t.cumsum(axis=None, dtype=None,
    out=None), t.reshape(shape, order='C'), t.transpose(None), ...): each was refused as a
    tensor NumPy would cut from the graph (the method did not take the keywords, so NumPy fell
    back to converting the tensor), or squeeze's axis= was a TypeError. The answer is NumPy's,
    a tensor on the tensor's device whose gradient is the method's."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 1, 3))
    w = rng.standard_normal((2, 1, 3))  # a weight for the gradients
    cases = {  # NumPy's call on x, on the array, and the method's call
        "cumsum": (lambda x: np.cumsum(x), lambda x: x.reshape(-1).cumsum(0)),
        "cumsum axis": (lambda x: np.cumsum(x, axis=2), lambda x: x.cumsum(2)),
        "cumsum dtype": (lambda x: np.cumsum(x, 0, np.float32), lambda x: x.float().cumsum(0)),
        "clip": (lambda x: np.clip(x, -0.5, 0.5), lambda x: x.clip(-0.5, 0.5)),
        "clip one side": (lambda x: np.clip(x, None, 0.1), lambda x: x.clamp(max=0.1)),
        "round": (lambda x: np.round(x, 1), lambda x: x.round(decimals=1)),
        "reshape": (lambda x: np.reshape(x, (3, -1)), lambda x: x.reshape(3, 2)),
        "transpose": (lambda x: np.transpose(x), lambda x: x.permute(2, 1, 0)),
        "transpose axes": (lambda x: np.transpose(x, (1, 2, 0)), lambda x: x.permute(1, 2, 0)),
        "squeeze": (lambda x: np.squeeze(x), lambda x: x.squeeze()),
        "squeeze axis": (lambda x: np.squeeze(x, axis=1), lambda x: x.squeeze(1)),
        "squeeze axes": (lambda x: np.squeeze(x, axis=(1,)), lambda x: x.squeeze((1,))),
        "argsort": (lambda x: np.argsort(x), lambda x: x.argsort()),
        "argsort axis": (lambda x: np.argsort(x, axis=0, kind="stable"), lambda x: x.argsort(0)),
        "argsort flat": (lambda x: np.argsort(x, axis=None), lambda x: x.reshape(-1).argsort()),
    }
    for name, (numpy_call, method) in cases.items():
        x = tc.Tensor(a, device=device, requires_grad=True)
        got = numpy_call(x)
        want = numpy_call(a)
        assert isinstance(got, tc.Tensor) and got.device == device, name
        assert got.shape == want.shape and got.dtype == want.dtype, name
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, err_msg=name)
        ref = method(x)
        np.testing.assert_array_equal(got.numpy(), ref.numpy(), err_msg=name)
        if not got.requires_grad:  # argsort's indices
            assert got.dtype == np.int64 and not ref.requires_grad, name
            continue
        weight = tc.Tensor(w.reshape(-1)[: got.size].reshape(got.shape), device=device)
        (got.float() * weight.float()).sum().backward()
        grad, x.grad = to_numpy(x.grad), None
        (ref.float() * weight.float()).sum().backward()
        np.testing.assert_allclose(grad, to_numpy(x.grad), rtol=1e-6, err_msg=name)
    x = tc.Tensor(a, device=device, requires_grad=True)
    with pytest.raises(ValueError, match="reshape: order='F' is not supported, only 'C'"):
        np.reshape(x, -1, order="F")
    with pytest.raises(ValueError, match="argsort: order='f' names fields"):
        np.argsort(x, order="f")
    with pytest.raises(TypeError, match="cumsum: got both axis=0 and dim=1"):
        x.cumsum(1, axis=0)
    # PyTorch's forms as before; NumPy's repeat (torch's repeat_interleave) is not x.repeat
    assert x.cumsum(dim=1).shape == (2, 1, 3) and x.squeeze(0).shape == (2, 1, 3)
    assert x.transpose(0, 2).shape == (3, 1, 2) and x.argsort(1, descending=True).shape == a.shape
    with pytest.raises(TypeError, match="requires grad cannot become a NumPy array"):
        np.repeat(x, 2)


# --------------------------------------------------------------------------- devices


def test_to_cuda_without_cupy_raises_a_clear_device_error(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` now fails, GPU or not
    x = tc.Tensor([1.0, 2.0])
    with pytest.raises(tc.DeviceError, match=r"device 'cuda' needs CuPy.*pip install") as err:
        x.to("cuda")
    # the repository's extra: "tinycolor" on PyPI is an unrelated package, without a gpu extra
    assert "pip install -e '.[gpu]'" in str(err.value) and "cupy-cuda13x" in str(err.value)
    assert "'tinycolor[gpu]'" not in str(err.value)
    with pytest.raises(tc.DeviceError, match="needs CuPy"):
        tc.set_device("cuda")
    assert tc.get_device() == "cpu"
    assert not tc.cuda_available()
    with pytest.raises(tc.DeviceError, match="unknown device 'tpu': expected one of cpu, cuda"):
        x.to("tpu")


def test_device_names_with_an_index_as_pytorch_writes_them():
    """'cpu:0' is the CPU; 'cuda:1' is refused (one GPU, CuPy's current one), not quietly
    taken for GPU 0."""
    assert tc.tensor([1.0]).to("cpu:0").device == "cpu"
    with pytest.raises(tc.DeviceError, match="CUDA_VISIBLE_DEVICES=1"):
        tc.tensor([1.0]).to("cuda:1")
    with pytest.raises(tc.DeviceError, match="expected 'cpu' or 'cpu:0'"):
        tc.set_device("cpu:1")


def test_mixing_devices_names_each_input_and_its_device(monkeypatch):
    class FakeGpuArray(np.ndarray):
        """Stands in for cupy.ndarray: the engine only asks which module owns an array."""

        device = property(lambda self: types.SimpleNamespace(id=0))  # cupy.cuda.Device(0)

    monkeypatch.setattr(backend, "_cupy", types.SimpleNamespace(ndarray=FakeGpuArray))
    on_gpu = tc.Tensor(np.ones((2, 3)).view(FakeGpuArray))
    on_cpu = tc.Tensor(np.ones((2, 3)), requires_grad=True)
    assert on_gpu.device == "cuda" and on_cpu.device == "cpu"
    msg = (
        r"Add: all inputs must be on one device, "
        r"got input 0 \(2, 3\) on cpu, input 1 \(2, 3\) on cuda:0"
    )
    with pytest.raises(tc.DeviceError, match=msg + r"; move them with .to\(device\)"):
        on_cpu + on_gpu
    with pytest.raises(tc.DeviceError, match="MatMul: all inputs must be on one device"):
        on_gpu @ on_cpu.T


def test_a_cuda_gradient_for_a_cpu_tensor_is_a_device_error(monkeypatch):
    class FakeGpuArray(np.ndarray):
        """Stands in for cupy.ndarray, which NumPy refuses to convert implicitly."""

        device = property(lambda self: types.SimpleNamespace(id=0))  # cupy.cuda.Device(0)

    monkeypatch.setattr(backend, "_cupy", types.SimpleNamespace(ndarray=FakeGpuArray))
    x = tc.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(tc.DeviceError, match=r"gradient is on cuda but this tensor \(3,\) is on"):
        (x * 2).backward(np.ones(3).view(FakeGpuArray))


@pytest.mark.gpu
def test_numpy_refuses_a_cuda_tensor_implicitly(device):
    if device != "cuda":
        pytest.skip("needs a GPU")
    with pytest.raises(
        TypeError, match=r"on cuda:0 cannot become a NumPy array implicitly; use t.numpy\(\)"
    ):
        np.asarray(tc.Tensor([1.0, 2.0], device=device))


def test_cuda_tensors_round_trip(device):
    if device != "cuda":
        pytest.skip("needs a GPU")
    x = tc.Tensor([1.0, 2.0], device="cuda", requires_grad=True)
    assert x.device == "cuda" and "device='cuda:0'" in repr(x)
    (x * x).sum().backward()
    assert backend.is_cupy_array(x.grad)
    np.testing.assert_array_equal(to_numpy(x.grad), [2.0, 4.0])
    with pytest.raises(tc.DeviceError, match="all inputs must be on one device"):
        x + tc.Tensor([1.0, 2.0], device="cpu")


def test_the_environment_variable_picks_the_default_device():
    code = "import tinycolor as tc; print(tc.get_device(), tc.Tensor([1.0]).device)"
    env = {**os.environ, "TINYCOLOR_DEVICE": "cpu"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["cpu", "cpu"]
    env["TINYCOLOR_DEVICE"] = "tpu"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "unknown device 'tpu'" in out.stderr
    if not backend.cuda_available():
        env["TINYCOLOR_DEVICE"] = "cuda"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode != 0 and "device 'cuda'" in out.stderr


# --------------------------------------------------------------------------- CuPy-only paths
# (found by running the suite against a strict NumPy stand-in for CuPy: these failed there)


def test_numpy_constants_meet_a_cuda_tensor_on_its_device(device):
    x = tc.Tensor([0.5, -1.0, 2.0], requires_grad=True, device=device)
    v = np.array([1.0, 2.0, 3.0])
    for y in (x @ v, v @ x, F.matmul(x, v)):  # a NumPy vector became a CPU tensor first
        assert y.device == device and float(y.numpy()) == pytest.approx(4.5)
    lo, hi = np.zeros(3), np.ones(3)  # clip's array bounds
    np.testing.assert_array_equal(to_numpy(F.clip(x, lo, hi).data), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(to_numpy((x > v).data), [False, False, False])  # comparisons
    np.testing.assert_array_equal(to_numpy((x == np.array(2.0)).data), [False, False, True])


def test_a_comparison_across_devices_is_a_device_error(device):
    if device != "cuda":
        pytest.skip("needs a GPU")
    with pytest.raises(tc.DeviceError, match="comparison: all inputs must be on one device"):
        _ = tc.Tensor([1.0], device="cuda") < tc.Tensor([2.0], device="cpu")


def test_a_cupy_array_made_before_tinycolor_loaded_cupy_is_one(device, monkeypatch):
    if device != "cuda":
        pytest.skip("needs a GPU")
    import cupy

    a = cupy.ones(3, dtype=cupy.float32)
    monkeypatch.setattr(backend, "_cupy", None)  # as before tinycolor's first cupy()
    t = tc.Tensor(a)  # was np.asarray(a): "Implicit conversion to a NumPy array"
    assert t.device == "cuda" and backend.array_module(a) is cupy
    assert tc.gradcheck(lambda z: z * z, cupy.array([0.5, 2.0]))  # a raw CuPy array input


# --------------------------------------------------------------------------- top-level names

# (name, call on tinycolor/torch, the same computed with NumPy)
_TOP_LEVEL_OPS = {
    "flip": (lambda m, a, b: m.flip(a, (1,)), lambda a, b: a[:, ::-1]),
    "norm": (lambda m, a, b: m.norm(a, dim=1), lambda a, b: np.sqrt((a * a).sum(axis=1))),
    "masked_fill": (
        lambda m, a, b: m.masked_fill(a, a > 0, -1.0),
        lambda a, b: np.where(a > 0, -1, a),
    ),
    "split": (
        lambda m, a, b: m.cat(m.split(a, 2, 1)[::-1], 1),
        lambda a, b: np.concatenate([a[:, 2:], a[:, :2]], axis=1),
    ),
    "chunk": (lambda m, a, b: m.cat(m.chunk(a, 2)[::-1]), lambda a, b: a[::-1]),
    "layer_norm": (
        lambda m, a, b: m.layer_norm(a, (3,)),
        lambda a, b: (a - a.mean(1, keepdims=True)) / np.sqrt(a.var(1, keepdims=True) + 1e-5),
    ),
    "cat": (lambda m, a, b: m.cat([a, b]), lambda a, b: np.concatenate([a, b])),
    "stack": (lambda m, a, b: m.stack([a, b], dim=1), lambda a, b: np.stack([a, b], axis=1)),
    "exp": (lambda m, a, b: m.exp(a), lambda a, b: np.exp(a)),
    "log": (lambda m, a, b: m.log(b), lambda a, b: np.log(b)),
    "relu": (lambda m, a, b: m.relu(a), lambda a, b: np.maximum(a, 0)),
    "sigmoid": (lambda m, a, b: m.sigmoid(a), lambda a, b: 1 / (1 + np.exp(-a))),
    "tanh": (lambda m, a, b: m.tanh(a), lambda a, b: np.tanh(a)),
    "matmul": (lambda m, a, b: m.matmul(a, b.T), lambda a, b: a @ b.T),
    "flatten": (lambda m, a, b: m.flatten(a), lambda a, b: a.reshape(-1)),
    "where": (lambda m, a, b: m.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b)),
    "abs": (lambda m, a, b: m.abs(a), lambda a, b: np.abs(a)),
    "sqrt": (lambda m, a, b: m.sqrt(b), lambda a, b: np.sqrt(b)),
    "pow": (lambda m, a, b: m.pow(a, 2), lambda a, b: a**2),
    "add": (lambda m, a, b: m.add(a, b), lambda a, b: a + b),
    "sub": (lambda m, a, b: m.sub(a, b), lambda a, b: a - b),
    "mul": (lambda m, a, b: m.mul(a, 2.5), lambda a, b: a * 2.5),
    "div": (lambda m, a, b: m.div(a, b), lambda a, b: a / b),
    "clamp": (lambda m, a, b: m.clamp(a, min=-0.5), lambda a, b: np.maximum(a, -0.5)),
    "clip": (lambda m, a, b: m.clip(a, -0.5, 0.5), lambda a, b: np.clip(a, -0.5, 0.5)),
    "maximum": (lambda m, a, b: m.maximum(a, b), lambda a, b: np.maximum(a, b)),
    "minimum": (lambda m, a, b: m.minimum(a, b), lambda a, b: np.minimum(a, b)),
    "sum": (lambda m, a, b: m.sum(a, 1, True), lambda a, b: a.sum(axis=1, keepdims=True)),
    "mean": (lambda m, a, b: m.mean(a, dim=0), lambda a, b: a.mean(axis=0)),
    "softmax": (
        lambda m, a, b: m.softmax(a, dim=1),
        lambda a, b: np.exp(a) / np.exp(a).sum(axis=1, keepdims=True),
    ),
    "log_softmax": (
        lambda m, a, b: m.log_softmax(a, dim=1),
        lambda a, b: a - np.log(np.exp(a).sum(axis=1, keepdims=True)),
    ),
    "reshape": (lambda m, a, b: m.reshape(a, (3, -1)), lambda a, b: a.reshape(3, -1)),
    "squeeze": (lambda m, a, b: m.squeeze(a[:1], 0), lambda a, b: a[0]),
    "unsqueeze": (lambda m, a, b: m.unsqueeze(a, 1), lambda a, b: a[:, None]),
    "permute": (lambda m, a, b: m.permute(a, (1, 0)), lambda a, b: a.T),
    "transpose": (lambda m, a, b: m.transpose(a, 0, 1), lambda a, b: a.T),
    "cumsum": (lambda m, a, b: m.cumsum(a, 1), lambda a, b: np.cumsum(a, 1)),
    "prod": (lambda m, a, b: m.prod(b, 0), lambda a, b: np.prod(b, 0)),
}


@pytest.mark.parametrize("name", sorted(_TOP_LEVEL_OPS))
def test_top_level_ops_are_torchs_spellings_of_the_functional_ones(name):
    """tc.cat, tc.exp, ... are the ops of tinycolor.functional under the names a learner
    types from PyTorch (torch.cat, torch.exp, ...), with PyTorch's defaults (cat along dim 0,
    flatten all axes)."""
    call, numpy_call = _TOP_LEVEL_OPS[name]
    assert getattr(tc, name) is getattr(F, name) and name in tc.__all__
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.uniform(0.5, 2.0, (2, 3))
    got = call(tc, tc.tensor(a), tc.tensor(b)).numpy()
    np.testing.assert_allclose(got, numpy_call(a, b), rtol=1e-12)
    torch = pytest.importorskip("torch")
    want = call(torch, torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_pytorchs_tensor_methods_as_a_training_loop_calls_them():
    """t(), mm, pow, long, cpu, eq, view_as, min, argmin, std, grad_fn, contiguous: each was an
    AttributeError in code translated from PyTorch (its MNIST example counts the right
    answers with pred.eq(target.view_as(pred)).sum().item())."""
    a = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]])
    x = tc.Tensor(a, requires_grad=True)
    pred = x.argmax(dim=1, keepdim=True)
    target = tc.tensor([2, 1])
    assert pred.eq(target.view_as(pred)).sum().item() == 1
    assert x.ne(0.5).sum().item() == 5 and x.gt(0).sum().item() == 4
    assert (x.lt(0).sum().item(), x.le(0.5).sum().item(), x.ge(3).sum().item()) == (2, 4, 1)
    assert x.t().shape == (3, 2) and x[0].t().shape == (3,)
    np.testing.assert_array_equal(x.mm(x.t()).numpy(), a @ a.T)
    np.testing.assert_array_equal(x.pow(2).numpy(), a**2)
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32
    np.testing.assert_array_equal(x.bool().numpy(), a != 0)
    np.testing.assert_array_equal(x.long().numpy(), a.astype(np.int64))  # toward 0
    assert x.cpu() is x and x.contiguous() is x
    np.testing.assert_array_equal(x.argmin(dim=1).numpy(), [1, 2])
    assert x.min().item() == -2.0
    np.testing.assert_array_equal(x.min(axis=0, keepdim=True).numpy(), [[0.5, -1.0, -2.0]])
    np.testing.assert_allclose(x.std().item(), np.std(a, ddof=1), rtol=1e-14)
    np.testing.assert_allclose(x.std(1, False).numpy(), np.std(a, axis=1), rtol=1e-14)
    assert x.grad_fn is None and (x * 2).grad_fn.name == "Mul"
    with pytest.raises(ValueError, match=r"t\(\) expects .* at most 2 dimensions"):
        x.reshape(1, 2, 3).t()
    with pytest.raises(ValueError, match="mm expects two matrices"):
        x.mm(np.ones(3))
    with pytest.raises(TypeError, match="min returns the values only"):
        x.min(dim=1)
    ties = tc.Tensor([1.0, -1.0, -1.0, 2.0], requires_grad=True)
    ties.min().backward()
    np.testing.assert_array_equal(ties.grad, [0.0, 0.5, 0.5, 0.0])  # shared, as max's
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    np.testing.assert_allclose(x.std(0).numpy(), tx.std(0).detach().numpy(), rtol=1e-14)
    tt = torch.tensor([1.0, -1.0, -1.0, 2.0], requires_grad=True)
    torch.amin(tt).backward()
    np.testing.assert_array_equal(ties.grad, tt.grad.numpy())
    np.testing.assert_array_equal(x.long().numpy(), tx.long().numpy())


def test_tensor_copies_its_data_as_torch_tensor_does(device):
    """w = tc.tensor(w0, requires_grad=True) trained with w -= lr * w.grad changed the
    caller's w0 too: tensor() shared the array, where torch.tensor copies it."""
    w0 = np.array([1.0, 2.0])
    w = tc.tensor(w0, requires_grad=True, device=device)
    (w * w).sum().backward()
    with tc.no_grad():
        w -= 0.5 * w.grad
    np.testing.assert_array_equal(w0, [1.0, 2.0])
    np.testing.assert_array_equal(w.numpy(), [0.0, 0.0])
    x = tc.tensor(w)  # from a tensor, too
    with tc.no_grad():
        w += 1.0
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0])
    a = backend.to_device(np.ones(2), device)
    t = tc.tensor(a)
    a[0] = 5.0
    assert t.device == device and t.numpy().tolist() == [1.0, 1.0]


def test_creation_functions_as_pytorchs():
    """zeros_like, ones_like, full, arange, from_numpy, rand, randn_like, randperm: what a
    learner types from PyTorch (a GAN's torch.ones_like(d_fake) labels, a shuffle with
    torch.randperm) was an AttributeError. Their dtypes are PyTorch's."""
    x = tc.tensor(np.arange(6.0).reshape(2, 3))  # float64
    for like, value in ((tc.zeros_like, 0.0), (tc.ones_like, 1.0)):
        out = like(x)
        assert out.dtype == np.float64 and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), np.full((2, 3), value))
        assert like(x, dtype=tc.float32).dtype == np.float32
        assert like(x, requires_grad=True).requires_grad
    assert tc.randn_like(x).shape == (2, 3) and tc.randn_like(x).dtype == np.float64
    np.testing.assert_array_equal(tc.full((2, 3), 7.0).numpy(), np.full((2, 3), 7.0))
    assert tc.full((2,), 7.0).dtype == np.float32 and tc.full([2], 3).dtype == np.int64
    assert (
        tc.full((1,), True).dtype == np.bool_
        and tc.full((1,), 2, dtype=tc.float64).dtype == np.float64
    )
    np.testing.assert_array_equal(tc.arange(4).numpy(), [0, 1, 2, 3])
    assert tc.arange(4).dtype == np.int64 and tc.arange(2, 9, 3).numpy().tolist() == [2, 5, 8]
    assert (
        tc.arange(0, 1, 0.25).dtype == np.float32
        and tc.arange(3, dtype=tc.float64).dtype == np.float64
    )
    np.testing.assert_array_equal(tc.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    a = np.zeros(3)
    t = tc.from_numpy(a)
    a[0] = 5.0  # the same memory, as torch.from_numpy's
    assert t.dtype == np.float64 and t.numpy().tolist() == [5.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="from_numpy: expected a NumPy array, got list"):
        tc.from_numpy([1.0])
    tc.manual_seed(0)
    u, perm = tc.rand(1000), tc.randperm(10)
    assert u.dtype == np.float32 and 0 <= u.numpy().min() and u.numpy().max() < 1
    assert abs(u.numpy().mean() - 0.5) < 0.05 and tc.rand(2, 3).shape == tc.rand((2, 3)).shape
    assert perm.dtype == np.int64 and sorted(perm.numpy().tolist()) == list(range(10))
    tc.manual_seed(0)
    tc.rand(1000)
    assert tc.randperm(10).numpy().tolist() == perm.numpy().tolist()  # seeded
    torch = pytest.importorskip("torch")
    tx = torch.tensor(np.arange(6.0).reshape(2, 3))
    for name in ("zeros_like", "ones_like", "randn_like"):
        assert str(getattr(tc, name)(x).dtype) in str(getattr(torch, name)(tx).dtype)
    for args in ((10,), (0, 1, 0.25), (2, 9, 3), (5.0,), (-1, 1, 0.5)):
        want = torch.arange(*args)
        np.testing.assert_array_equal(tc.arange(*args).numpy(), want.numpy())
        assert str(tc.arange(*args).dtype) in str(want.dtype)
    for args in (((2, 3), 7.0), ([2], 3), ((1,), True)):
        assert str(tc.full(*args).dtype).replace("bool_", "bool") in str(torch.full(*args).dtype)


def test_top_level_dtypes_are_taken_wherever_a_dtype_is():
    assert (tc.float32, tc.float64, tc.int64) == (np.float32, np.float64, np.int64)
    # PyTorch's other names: torch.tensor(y, dtype=torch.long) was an AttributeError
    assert (tc.float, tc.double, tc.long, tc.int, tc.half) == (
        np.float32, np.float64, np.int64, np.int32, np.float16
    )  # fmt: skip
    assert (tc.int32, tc.uint8, tc.float16, tc.bool) == (np.int32, np.uint8, np.float16, np.bool_)
    assert tc.tensor([1, 0], dtype=tc.long).dtype == np.int64
    assert tc.tensor([1, 0], dtype=tc.bool).dtype == np.bool_
    assert tc.zeros(2, dtype=tc.float).dtype == np.float32 and tc.float(2.5) == 2.5
    x = tc.tensor([1.0, 2.0], dtype=tc.float64)
    assert x.dtype == tc.float64 and x.to(tc.float32).dtype == tc.float32
    assert x.astype(tc.float32).dtype == np.float32 and x.float().dtype == tc.float32
    assert tc.zeros(2, dtype=tc.int64).dtype == np.int64
    assert tc.ones(2, dtype=tc.float64).dtype == tc.randn(2, dtype=tc.float64).dtype == np.float64
    assert tc.Tensor(np.arange(3), dtype=tc.float32).dtype == np.float32
    model = tc.nn.Linear(2, 3).to(tc.float64)
    assert model.weight.dtype == tc.float64 and model(x).dtype == tc.float64
    # torch.finfo(att.dtype).min as a mask's fill, torch.inf, torch.pi: AttributeErrors before
    att = tc.zeros(2, 2, dtype=tc.float32)
    assert (
        tc.finfo(att.dtype).min == np.finfo(np.float32).min and tc.iinfo(tc.long).max == 2**63 - 1
    )
    assert tc.finfo(tc.float64).eps == np.finfo(np.float64).eps
    assert (tc.inf, tc.pi, tc.e) == (float("inf"), np.pi, np.e) and np.isnan(tc.nan)


def test_a_bigram_sampler_written_as_in_pytorch(device):
    """The sampling loop of a character-level bigram model, as PyTorch tutorials write it:
    ``g = torch.Generator().manual_seed(s)``, ``torch.randn(shape, generator=g)``, and
    ``torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()``. The same
    seed gives the same draws; the global seed is not touched."""
    state = backend.get_rng_state()

    def sample():
        g = tc.Generator().manual_seed(2147483647)
        w = tc.randn((5, 5), generator=g, device=device)
        out, ix = [], 0
        for _ in range(20):
            p = F.softmax(w[ix], dim=0)
            ix = tc.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            out.append(ix)
        return out, tc.randperm(4, generator=g).tolist(), tc.randint(0, 9, (3,), generator=g)

    first = sample()
    assert first[0] == sample()[0] and first[1] == sample()[1]
    assert backend.get_rng_state() == state
    assert set(first[0]) <= set(range(5)) and sorted(first[1]) == [0, 1, 2, 3]
    g = tc.Generator().manual_seed(7)
    np.testing.assert_array_equal(
        tc.rand(4, generator=g).numpy(), np.random.default_rng(7).random(4).astype(np.float32)
    )
    with pytest.raises(TypeError, match=r"randn: generator must be a tinycolor.Generator"):
        tc.randn(2, generator=3)


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_draws_in_proportion_to_the_weights(device, replacement):
    """Frequencies against the normalised weights (unnormalised weights taken as PyTorch
    takes them); a zero weight is never drawn; without replacement a row has no repeats."""
    tc.manual_seed(0)
    w = tc.Tensor(np.array([[1.0, 0.0, 3.0, 4.0], [2.0, 2.0, 0.0, 0.0]]), device=device)
    if replacement:
        draws = tc.multinomial(w, 40000, replacement=True)
        assert draws.shape == (2, 40000) and draws.dtype == np.int64 and draws.device == device
        d = to_numpy(draws.data)
        for row, want in zip(d, ([1 / 8, 0, 3 / 8, 4 / 8], [0.5, 0.5, 0, 0])):
            np.testing.assert_allclose(np.bincount(row, minlength=4) / len(row), want, atol=0.01)
    else:
        first = []
        for _ in range(4000):
            d = to_numpy(w.multinomial(2).data)
            assert len(set(d[0])) == 2 and set(d[1]) == {0, 1} and 1 not in d[0]
            first.append(d[0, 0])
        # P(first draw = i) = w_i / sum(w): 1/8, 0, 3/8, 4/8
        np.testing.assert_allclose(
            np.bincount(first, minlength=4) / 4000, [1 / 8, 0, 3 / 8, 4 / 8], atol=0.03
        )
    one = tc.multinomial(tc.Tensor(np.array([0.0, 0.0, 1.0]), device=device), 3, True)
    assert one.shape == (3,) and one.tolist() == [2, 2, 2]


@pytest.mark.parametrize(
    "weights, n, replacement, error, message",
    [
        ([[1.0, 0.0, 0.0]], 2, False, ValueError, r"cannot draw 2 samples without replacement"),
        ([1.0, -1.0], 1, True, ValueError, r"finite and non-negative"),
        ([1.0, np.nan], 1, True, ValueError, r"finite and non-negative"),
        ([[0.0, 0.0]], 1, True, ValueError, r"every row needs a positive weight"),
        ([[[1.0]]], 1, True, ValueError, r"expected a 1-d \(k,\) or 2-d \(n, k\) input"),
        ([1, 2], 1, True, TypeError, r"expected floating-point weights, got int64"),
        ([1.0, 2.0], 0, True, ValueError, r"num_samples must be positive"),
        ([1.0, 2.0], 1.0, True, TypeError, r"num_samples must be an int"),
    ],
)
def test_multinomial_errors(weights, n, replacement, error, message):
    with pytest.raises(error, match=message):
        tc.multinomial(tc.tensor(np.array(weights)), n, replacement)


def test_more_creation_functions_as_pytorchs(device):
    """linspace, eye, randint, empty, empty_like, full_like, inference_mode and
    tc.cuda.is_available(): each was an AttributeError for code translated from PyTorch."""
    np.testing.assert_allclose(tc.linspace(-1, 1, 5).numpy(), np.linspace(-1, 1, 5))
    assert tc.linspace(0, 1, 3).dtype == np.float32 and tc.linspace(0, 1, 0).shape == (0,)
    with pytest.raises(ValueError, match="linspace: steps must be a non-negative integer"):
        tc.linspace(0, 1, 2.5)
    assert tc.eye(3, device=device).device == device
    np.testing.assert_array_equal(tc.eye(2, 3).numpy(), [[1, 0, 0], [0, 1, 0]])
    e = tc.empty(2, 3, dtype=tc.float64, device=device)
    assert e.shape == tc.empty((2, 3)).shape == (2, 3) and e.dtype == np.float64
    assert e.device == device and tc.empty_like(e).dtype == np.float64
    assert tc.zeros(size=(2, 3)).shape == tc.ones(size=[2]).shape + (3,) == (2, 3)
    with pytest.raises(TypeError, match=r"got a shape \(2,\) and size=\(3,\): give one"):
        tc.zeros(2, size=(3,))
    f = tc.full_like(e, 2.5)
    assert f.dtype == np.float64 and f.device == device and f.numpy().tolist() == [[2.5] * 3] * 2
    assert tc.full_like(e, 1, dtype=tc.int64).dtype == np.int64
    tc.manual_seed(0)
    r = tc.randint(3, 7, (1000,), device=device)
    assert r.dtype == np.int64 and r.device == device and set(r.numpy().tolist()) == {3, 4, 5, 6}
    assert set(tc.randint(2, size=(100,)).numpy().tolist()) == {0, 1}
    assert set(tc.randint(low=5, high=7, size=(100,)).numpy().tolist()) == {5, 6}
    assert set(tc.randint(high=2, size=[100]).numpy().tolist()) == {0, 1}
    tc.manual_seed(0)
    np.testing.assert_array_equal(tc.randint(3, 7, (1000,)).numpy(), r.numpy())  # seeded
    with pytest.raises(TypeError, match=r"randint\(high, size\) or randint\(low, high, size\)"):
        tc.randint(5)
    with pytest.raises(ValueError, match="expected low < high, got low=3 and high=3"):
        tc.randint(3, 3, (2,))
    x = tc.ones(2, requires_grad=True, device=device)
    with tc.inference_mode():
        assert not (x * 2).requires_grad and not tc.is_grad_enabled()
    assert tc.is_grad_enabled()

    @tc.inference_mode()
    def f1():
        return x * 2

    @tc.inference_mode
    def f2():
        return x * 2

    assert not f1().requires_grad and not f2().requires_grad and tc.is_grad_enabled()
    assert tc.cuda.is_available() == tc.cuda_available() and tc.cuda.device_count() in (0, 1)
    torch = pytest.importorskip("torch")
    for args in ((-1, 1, 5), (0, 3, 7), (2.0, -2.0, 4)):
        np.testing.assert_allclose(
            tc.linspace(*args).numpy(), torch.linspace(*args).numpy(), rtol=1e-6, atol=1e-7
        )
    np.testing.assert_array_equal(tc.eye(3, 2).numpy(), torch.eye(3, 2).numpy())
    assert str(torch.randint(3, (2,)).dtype) == "torch.int64"


def test_register_hook_sees_and_replaces_gradients_as_pytorchs(device):
    """Tensor.register_hook (gradient clipping per tensor, printing dL/dh of a hidden layer, as
    PyTorch's tutorials do) was an AttributeError. A hook sees the gradient summed over every
    use, once per backward; what it returns replaces it for .grad and for the graph before it;
    hooks chain in order; handle.remove() takes one off. Checked against PyTorch."""
    a = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    x = tc.tensor(a, requires_grad=True, device=device)
    seen = []
    h_seen = x.register_hook(lambda g: seen.append(to_numpy(g).copy()))
    mid = x * 2
    mid.retain_grad()
    h1 = mid.register_hook(lambda g: g * 10)
    mid.register_hook(lambda g: tc.Tensor(g, device=device).clamp(-50, 50))  # a Tensor too
    out = mid * mid + mid  # mid used twice: one call with the sum
    out.register_hook(lambda g: None)  # looks only
    out.sum().backward()
    want_mid = np.clip((2 * (2 * a) + 1) * 10, -50, 50)
    np.testing.assert_allclose(to_numpy(mid.grad), want_mid)
    np.testing.assert_allclose(to_numpy(x.grad), 2 * want_mid)
    assert len(seen) == 1 and np.allclose(seen[0], 2 * want_mid)
    h1.remove()
    h1.remove()  # a second remove does nothing
    h_seen.remove()
    x.grad = None
    (x * 2).sum().backward()  # a new graph: mid's hooks are not in it
    np.testing.assert_allclose(to_numpy(x.grad), np.full(a.shape, 2.0))
    assert len(seen) == 1  # removed
    x.grad = None
    mid = x * 2
    mid.register_hook(lambda g: g * 3)
    mid.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), np.full(a.shape, 6.0))
    torch = pytest.importorskip("torch")
    tx = torch.tensor(a, requires_grad=True)
    tmid = tx * 2
    tmid.retain_grad()
    tmid.register_hook(lambda g: g * 10)
    tmid.register_hook(lambda g: g.clamp(-50, 50))
    (tmid * tmid + tmid).sum().backward()
    np.testing.assert_allclose(tmid.grad.numpy(), want_mid)
    np.testing.assert_allclose(tx.grad.numpy(), 2 * want_mid)


def test_register_hook_on_a_zero_dimensional_tensor_as_pytorchs(device):
    """loss.register_hook(lambda g: g * 2) raised a DeviceError ("on cpu for a tensor on cpu"):
    NumPy arithmetic on a 0-d array gives a NumPy scalar, not an array."""
    torch = pytest.importorskip("torch")
    hooks = [
        (lambda g: g * 2, lambda g: g * 2),
        (lambda g: np.zeros_like(g) if isinstance(g, np.ndarray) else g * 0, torch.zeros_like),
        (lambda g: tc.Tensor(g) * 0.5, lambda g: g * 0.5),
    ]
    for ours, theirs in hooks:
        x = tc.Tensor(np.array([1.0, 2.0]), requires_grad=True, device=device)
        tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        loss, tloss = (x * x).sum(), (tx * tx).sum()
        loss.register_hook(ours)
        tloss.register_hook(theirs)
        loss.backward()
        tloss.backward()
        np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())
        assert x.grad.dtype == np.float64


def test_register_hook_refuses_what_it_cannot_use(device):
    x = tc.tensor(np.ones((2, 3)), requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="register_hook\\(\\) on a tensor that does not"):
        tc.tensor(np.ones(2), device=device).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="register_hook: expected a function hook\\(grad\\)"):
        x.register_hook(3)
    x.register_hook(lambda g: g.sum(axis=0))
    with pytest.raises(RuntimeError, match=r"returned \(3,\) for the gradient of a tensor of "):
        (x * 2).sum().backward()


def test_device_is_the_checked_name_as_torch_device_is_used():
    """device = torch.device('cuda' if torch.cuda.is_available() else 'cpu'), in nearly every
    PyTorch tutorial, was an AttributeError: tc.device is the checked name, a string that
    .to(), device= and comparisons take, with PyTorch's .type and repr."""
    name = "cuda" if tc.cuda.is_available() else "cpu"
    d = tc.device(name)
    assert d == name and d.type == name and repr(d) == f"device(type='{name}')"
    assert tc.device("cpu", 0) == "cpu" and tc.device(tc.device("CPU:0")) == "cpu"
    assert tc.device("cuda:0") == tc.device("gpu") == "cuda"  # checked, never imports CuPy
    x = tc.ones(2).to(d)
    model = tc.nn.Linear(2, 3).to(d)
    assert x.device == d and model(x).device == d and tc.zeros(2, device=d).device == d
    with pytest.raises(tc.DeviceError, match="unknown device 'cuda:1'"):
        tc.device("cuda", 1)
    with pytest.raises(tc.DeviceError, match="unknown device 'tpu'"):
        tc.device("tpu")
    torch = pytest.importorskip("torch")
    assert repr(torch.device(name)) == repr(d) and torch.device(name).type == d.type


def test_a_tensors_device_has_torch_devices_type_and_index(device):
    """x.device.type and x.device.index, as PyTorch code reads them (``if x.device.type ==
    'cuda'``), were an AttributeError: x.device was a plain str. It is a tc.device, with
    torch.device's .type and .index (None on the CPU, 0 on the one GPU, as torch's tensors
    say), equal to the plain name for comparisons, dict keys and .to(). On the GPU it is
    'cuda:0' as torch's is: x.device == 'cuda:0' was False and str(x.device) 'cuda'."""
    x = tc.ones(2, 3, device=device)
    d = x.device
    assert isinstance(d, tc.device) and d.type == device and type(d.type) is str
    assert d.index == (0 if device == "cuda" else None)
    assert repr(d) == ("device(type='cuda', index=0)" if device == "cuda" else "device(type='cpu')")
    name = "cuda:0" if device == "cuda" else "cpu"  # str(torch's x.device)
    assert d == device and f"{d}" == name and str(d) == name and {d: 1}[device] == 1
    assert d == name and name == d and not d != name and {device: 1}[d] == 1
    assert d == tc.device(device) and {d, tc.device(device)} == {d} and d != "cuda:1"
    assert (device == "cuda") == (d == "cuda:0") == (d == tc.device("cuda", 0)) != (d == "cpu")
    assert (f"device='{d}'" in repr(x)) == (device == "cuda")
    assert x.to(d).device == d and tc.zeros(1, device=d).device == device
    model = tc.nn.Linear(3, 2).to(device)
    assert isinstance(model.device, tc.device) and model.device.type == device
    assert model(x).device.index == d.index and isinstance(tc.nn.Sequential().device, tc.device)
    # and torch's x.is_cuda and x.get_device() (-1 on the CPU): AttributeErrors before
    assert x.is_cuda == (device == "cuda") and x.get_device() == (0 if device == "cuda" else -1)
    # the index is kept where PyTorch keeps it, and survives pickling and tc.device(d)
    assert tc.device("cuda", 0).index == tc.device("cuda:0").index == 0
    assert tc.device("cuda").index is None and tc.device("cpu", 0).index == 0
    assert repr(tc.device("cpu:0")) == "device(type='cpu', index=0)"
    assert tc.device(d).index == d.index and pickle.loads(pickle.dumps(d)).index == d.index
    assert str(pickle.loads(pickle.dumps(d))) == str(d) and str(tc.device(d)) == str(d)
    assert str(tc.device("cuda")) == "cuda" and tc.device("cuda") == "cuda:0" == tc.device("cuda:0")
    with pytest.raises(tc.DeviceError, match="unknown device 'cuda:-1'"):
        tc.device("cuda", -1)
    torch = pytest.importorskip("torch")
    for args in [("cpu",), ("cpu", 0), ("cuda",), ("cuda", 0), ("cuda:0",)]:
        ours, theirs = tc.device(*args), torch.device(*args)
        assert (ours.type, ours.index, repr(ours)) == (theirs.type, theirs.index, repr(theirs))
        assert str(ours) == str(theirs)
    assert torch.zeros(1).device.index == tc.zeros(1).device.index
    assert torch.zeros(1).get_device() == tc.zeros(1).get_device()
    assert torch.zeros(1).is_cuda == tc.zeros(1).is_cuda


def test_autograd_grad_returns_the_gradients_and_touches_no_grad(device):
    """torch.autograd.grad(outputs, inputs): d(outputs)/d(inputs) as a tuple, each .grad left as
    it was (a saliency map of a model in training); several outputs with their grad_outputs
    add up; a non-leaf input; allow_unused and materialize_grads; against PyTorch and a
    central difference."""
    rng = np.random.default_rng(0)
    a, w0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))

    def run(lib, to_arr):
        on = {"device": device} if lib is tc else {}
        x = lib.tensor(a, requires_grad=True, **on)
        w = lib.tensor(w0, requires_grad=True, **on)
        unused = lib.tensor(np.ones(2), requires_grad=True, **on)
        h = lib.tanh(x @ w)
        y1, y2 = (h**2).sum(), h * 3
        g2 = lib.tensor(np.arange(6.0).reshape(3, 2), **on)
        gx, gw, gh = lib.autograd.grad(
            [y1, y2], [x, w, h], grad_outputs=[None, g2], retain_graph=True
        )
        got = lib.autograd.grad(y1, (x, unused), retain_graph=True, allow_unused=True)
        zero = lib.autograd.grad(y1, [unused], allow_unused=True, materialize_grads=True)[0]
        assert x.grad is None and w.grad is None and got[1] is None
        assert not gx.requires_grad
        return [to_arr(t) for t in (gx, gw, gh, got[0], zero)]

    ours = run(tc, lambda t: to_numpy(t.data))
    x = tc.Tensor(a, requires_grad=True)

    def f(t):
        return (tc.tanh(t @ tc.Tensor(w0)) ** 2).sum()

    numeric = np.zeros_like(a)
    for idx in np.ndindex(*a.shape):
        e = np.zeros_like(a)
        e[idx] = 1e-6
        numeric[idx] = (f(tc.Tensor(a + e)).item() - f(tc.Tensor(a - e)).item()) / 2e-6
    np.testing.assert_allclose(ours[3], numeric, rtol=1e-6, atol=1e-8)
    (gx,) = tc.autograd.grad(f(x), x)
    np.testing.assert_allclose(to_numpy(gx.data), numeric, rtol=1e-6, atol=1e-8)
    assert x.grad is None
    np.testing.assert_array_equal(ours[4], np.zeros(2))
    torch = pytest.importorskip("torch")
    for got, want in zip(ours, run(torch, lambda t: t.detach().numpy()), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_autograd_grad_errors():
    x = tc.tensor(np.ones(3), requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 0 \(shape \(2,\)\) is not used"):
        tc.autograd.grad(y, tc.tensor(np.ones(2), requires_grad=True))
    with pytest.raises(RuntimeError, match=r"input 0 does not require grad"):
        tc.autograd.grad(y, tc.tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match=r"autograd.grad\(\) without a gradient needs a single"):
        tc.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match=r"2 grad_outputs for 1 outputs"):
        tc.autograd.grad(y, x, grad_outputs=[None, None])
    with pytest.raises(NotImplementedError, match=r"create_graph=True.*differentiated again"):
        tc.autograd.grad(y, x, create_graph=True)
    assert x.grad is None


def test_autograd_grad_takes_pytorchs_arguments_in_pytorchs_order():
    """WGAN-GP's line as written, grad(outputs=d, inputs=x, grad_outputs=ones,
    create_graph=False, retain_graph=True, only_inputs=True), and the positional slots in
    torch.autograd.grad's order: only_inputs (ignored, as in PyTorch) before allow_unused,
    is_grads_batched (False only) before materialize_grads."""
    x = tc.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    unused = tc.Tensor(np.array([5.0]), requires_grad=True)
    d = (x * x).sum()
    (gx,) = tc.autograd.grad(
        outputs=d,
        inputs=x,
        grad_outputs=None,
        create_graph=False,
        retain_graph=True,
        only_inputs=True,
    )
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])
    gx, gu = tc.autograd.grad(d, [x, unused], None, None, False, True, True, False, True)
    np.testing.assert_array_equal(gu.numpy(), [0.0])  # allow_unused, materialize_grads
    with pytest.raises(ValueError, match="is_grads_batched=True is not supported"):
        tc.autograd.grad(d, x, is_grads_batched=True)


# functional ops PyTorch also spells at the top level (torch.conv2d, torch.pixel_shuffle, ...),
# each called positionally as PyTorch's top-level function takes it
_TOP_LEVEL_NN_OPS = {
    "conv2d": lambda m, x, w: m.conv2d(x, w, None, 1, 1),
    "conv1d": lambda m, x, w: m.conv1d(x[:, :, 0], w[:, :, 0], None, 2, 1),
    "conv_transpose2d": lambda m, x, w: m.conv_transpose2d(x, w.transpose(0, 1), None, 2, 1),
    "conv_transpose1d": lambda m, x, w: m.conv_transpose1d(
        x[:, :, 0], w[:, :, 0].transpose(0, 1), None, 2
    ),
    "max_pool2d": lambda m, x, w: m.max_pool2d(x, 2, 2),
    "max_pool1d": lambda m, x, w: m.max_pool1d(x[:, :, 0], 2, 1),
    "avg_pool1d": lambda m, x, w: m.avg_pool1d(x[:, :, 0], 3, 2, 1),
    "adaptive_avg_pool1d": lambda m, x, w: m.adaptive_avg_pool1d(x[:, :, 0], 3),
    "pixel_shuffle": lambda m, x, w: m.pixel_shuffle(x, 2),
    "pixel_unshuffle": lambda m, x, w: m.pixel_unshuffle(x, 2),
    "group_norm": lambda m, x, w: m.group_norm(x, 2),
    "selu": lambda m, x, w: m.selu(x),
    "prelu": lambda m, x, w: m.prelu(x, w[:4, 0, 0, 0].abs()),
    "cosine_similarity": lambda m, x, w: m.cosine_similarity(x, x * x, 1),
    "pairwise_distance": lambda m, x, w: m.pairwise_distance(x[:, :, 0, 0], x[:, :, 1, 1]),
    "bilinear": lambda m, x, w: m.bilinear(x[:, :, 0, 0], x[:, :3, 1, 1], w[:3, :, :, 0]),
    "clone": lambda m, x, w: m.clone(x),
    "concat": lambda m, x, w: m.concat((x, x * 2), 1),
    "var": lambda m, x, w: m.var(x, 1),
}


@pytest.mark.parametrize("name", sorted(_TOP_LEVEL_NN_OPS))
def test_functional_ops_at_the_top_level_are_pytorchs_top_level_ones(name):
    """torch.conv2d(x, w, None, 1, 1), torch.pixel_shuffle(x, 2), ...: the functional ops a
    learner also meets at PyTorch's top level, under the same names, arguments and order."""
    call = _TOP_LEVEL_NN_OPS[name]
    assert getattr(tc, name) is getattr(F, name) and name in tc.__all__
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((5, 4, 3, 3))
    got = call(tc, tc.tensor(x), tc.tensor(w)).numpy()
    assert np.all(np.isfinite(got))
    torch = pytest.importorskip("torch")
    want = call(torch, torch.tensor(x), torch.tensor(w)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
