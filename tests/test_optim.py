"""Optimizers and learning-rate schedules, step by step against torch.optim, plus resuming."""

from __future__ import annotations

import collections
import copy
import math
import re
import warnings

import numpy as np
import pytest

import tinycolor as tc
from tinycolor import nn, optim
from tinycolor.backend import to_numpy


def _problem():
    """A small tanh MLP in float64 and a fixed regression problem."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    return x, y, model


def _torch_twin(torch, model):
    """_problem's network in torch, with ``model``'s weights."""
    ref = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)
    ).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return ref


def _loss(model, x, y):
    return ((model(x) - y) ** 2).mean()


def _train(model, opt, x, y, steps):
    x, y = tc.tensor(x), tc.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        _loss(model, x, y).backward()
        opt.step()


CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.1), "SGD", {"lr": 0.1}),
    "sgd-nesterov-wd": (
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
    ),
    "sgd-momentum-dampening": (
        lambda p: optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=1e-3),
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 1e-3},
    ),
    "rmsprop": (lambda p: optim.RMSprop(p, lr=0.01), "RMSprop", {"lr": 0.01}),
    "rmsprop-momentum-wd": (
        lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, weight_decay=1e-2),
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 1e-2},
    ),
    "rmsprop-centered": (
        lambda p: optim.RMSprop(p, lr=0.005, momentum=0.9, centered=True),
        "RMSprop",
        {"lr": 0.005, "momentum": 0.9, "centered": True},
    ),
    "adagrad": (lambda p: optim.Adagrad(p, lr=0.05), "Adagrad", {"lr": 0.05}),
    "adagrad-decay-wd": (
        lambda p: optim.Adagrad(
            p, lr=0.1, lr_decay=0.05, weight_decay=1e-2, initial_accumulator_value=0.3, eps=1e-6
        ),
        "Adagrad",
        {
            "lr": 0.1,
            "lr_decay": 0.05,
            "weight_decay": 1e-2,
            "initial_accumulator_value": 0.3,
            "eps": 1e-6,
        },
    ),
    "adam": (lambda p: optim.Adam(p, lr=0.01), "Adam", {"lr": 0.01}),
    "adam-wd": (
        lambda p: optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
        "Adam",
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 1e-2},
    ),
    "adamw": (lambda p: optim.AdamW(p, lr=0.02), "AdamW", {"lr": 0.02}),
    "adamw-wd": (
        lambda p: optim.AdamW(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        "AdamW",
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ),
    # beta2 0.6: v falls behind its largest value within the fifteen steps, so amsgrad's max acts
    "adam-amsgrad": (
        lambda p: optim.Adam(p, lr=0.02, betas=(0.8, 0.6), weight_decay=1e-2, amsgrad=True),
        "Adam",
        {"lr": 0.02, "betas": (0.8, 0.6), "weight_decay": 1e-2, "amsgrad": True},
    ),
    "adamw-amsgrad": (
        lambda p: optim.AdamW(p, lr=0.02, betas=(0.8, 0.6), eps=1e-6, amsgrad=True),
        "AdamW",
        {"lr": 0.02, "betas": (0.8, 0.6), "eps": 1e-6, "amsgrad": True},
    ),
}


def _with_torch_twin(torch, case):
    """The problem, its model with CASES[case]'s optimizer, and the same network and optimizer
    in torch from the same weights."""
    make, torch_name, kwargs = CASES[case]
    x, y, model = _problem()
    ref = _torch_twin(torch, model)
    opt = make(list(model.parameters()))
    ref_opt = getattr(torch.optim, torch_name)(ref.parameters(), **kwargs)
    return x, y, model, opt, ref, ref_opt


@pytest.mark.parametrize("case", list(CASES))
def test_steps_match_torch(case):
    """Fifteen steps on the same problem from the same weights: the parameters after every
    step equal torch.optim's (float64, so any difference in the rule would show), and a
    change of ``lr`` mid-run acts as changing torch's param_groups[0]['lr']."""
    torch = pytest.importorskip("torch")
    x, y, model, opt, ref, ref_opt = _with_torch_twin(torch, case)
    tx, ty, rx, ry = tc.tensor(x), tc.tensor(y), torch.from_numpy(x), torch.from_numpy(y)
    for step in range(15):
        if step == 8:
            opt.lr *= 0.5
            ref_opt.param_groups[0]["lr"] *= 0.5
        opt.zero_grad()
        loss = _loss(model, tx, ty)
        loss.backward()
        opt.step()
        ref_opt.zero_grad()
        ref_loss = ((ref(rx) - ry) ** 2).mean()
        ref_loss.backward()
        ref_opt.step()
        np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-10)
        for (name, p), q in zip(model.named_parameters(), ref.parameters()):
            np.testing.assert_allclose(
                p.numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=f"step {step}: {name}"
            )
    assert p.dtype == np.float64


@pytest.mark.parametrize("case", ["sgd-nesterov-wd", "adam-wd"])
def test_param_groups_read_and_set_the_settings_as_in_pytorch(case):
    """The PyTorch way of logging and changing the learning rate, the same lines for both:
    param_groups[0]['lr'], and `for g in opt.param_groups: g['lr'] *= 0.5` mid-run."""
    torch = pytest.importorskip("torch")
    x, y, model, opt, ref, ref_opt = _with_torch_twin(torch, case)
    ours, theirs = opt.param_groups[0], ref_opt.param_groups[0]
    assert len(ours["params"]) == len(theirs["params"]) == 4
    for key in ours:
        if key != "params":
            assert ours[key] == theirs[key], key
    tx, ty, rx, ry = tc.tensor(x), tc.tensor(y), torch.from_numpy(x), torch.from_numpy(y)
    for step in range(6):
        if step == 3:
            for o in (opt, ref_opt):
                for group in o.param_groups:
                    group["lr"] *= 0.5
        assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]
        opt.zero_grad()
        _loss(model, tx, ty).backward()
        opt.step()
        ref_opt.zero_grad()
        ((ref(rx) - ry) ** 2).mean().backward()
        ref_opt.step()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert opt.lr == CASES[case][2]["lr"] / 2
    with pytest.raises(KeyError, match="param group has no 'maximize'"):
        opt.param_groups[0]["maximize"]


def _reference_step(name, hp, state, p, g):
    """One step of each rule as its docstring writes it (the textbook form, no rewriting)."""
    if name == "AdamW":  # decoupled: the parameters shrink, the gradient stays
        p = p * (1 - hp["lr"] * hp.get("weight_decay", 1e-2))
    else:
        g = g + hp.get("weight_decay", 0.0) * p
    if name == "SGD":
        m, d = hp.get("momentum", 0.0), hp.get("dampening", 0.0)
        if m:
            state["v"] = g.copy() if "v" not in state else m * state["v"] + (1 - d) * g
            g = g + m * state["v"] if hp.get("nesterov") else state["v"]
        return p - hp["lr"] * g
    if name == "RMSprop":
        a, m = hp.get("alpha", 0.99), hp.get("momentum", 0.0)
        state["s"] = a * state.get("s", 0.0) + (1 - a) * g * g
        mean_sq = 0.0
        if hp.get("centered"):
            state["avg"] = a * state.get("avg", 0.0) + (1 - a) * g
            mean_sq = state["avg"] ** 2
        step = g / (np.sqrt(state["s"] - mean_sq) + hp.get("eps", 1e-8))
        if m:
            state["b"] = m * state.get("b", 0.0) + step
            step = state["b"]
        return p - hp["lr"] * step
    if name == "Adagrad":
        t = state["t"] = state.get("t", 0) + 1
        state["s"] = state.get("s", hp.get("initial_accumulator_value", 0.0)) + g * g
        lr = hp["lr"] / (1 + (t - 1) * hp.get("lr_decay", 0.0))
        return p - lr * g / (np.sqrt(state["s"]) + hp.get("eps", 1e-10))
    (b1, b2), eps = hp.get("betas", (0.9, 0.999)), hp.get("eps", 1e-8)
    t = state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    if hp.get("amsgrad"):  # the largest v so far, with this step's bias correction
        state["vmax"] = np.maximum(state.get("vmax", 0.0), state["v"])
    m_hat, v_hat = state["m"] / (1 - b1**t), state.get("vmax", state["v"]) / (1 - b2**t)
    return p - hp["lr"] * m_hat / (np.sqrt(v_hat) + eps)


@pytest.mark.parametrize("case", list(CASES))
def test_steps_follow_the_update_rules(case):
    """Fifteen steps, each equal to the rule of the docstring applied to the parameters and
    gradients before it (float64), lr halved midway; no PyTorch needed."""
    make, name, kwargs = CASES[case]
    x, y, model = _problem()
    params = list(model.parameters())
    opt = make(params)
    hp, states = dict(kwargs), [{} for _ in params]
    tx, ty = tc.tensor(x), tc.tensor(y)
    for step in range(15):
        if step == 8:
            opt.lr *= 0.5
            hp["lr"] *= 0.5
        opt.zero_grad()
        _loss(model, tx, ty).backward()
        want = [
            _reference_step(name, hp, st, p.numpy().copy(), p.grad.copy())
            for p, st in zip(params, states)
        ]
        opt.step()
        for i, (p, w) in enumerate(zip(params, want)):
            np.testing.assert_allclose(p.numpy(), w, rtol=1e-9, atol=1e-12, err_msg=f"{step}: {i}")


def test_the_momentum_buffer_is_a_copy_of_the_first_gradient():
    """Two steps on a gradient set by hand: the first step's buffer is the optimizer's own, so
    the second scales the buffer, not the gradient (which stays as it was set)."""
    p = nn.Parameter(np.zeros(3))
    g = np.array([1.0, -2.0, 0.5])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.2)
    p.grad = g.copy()
    opt.step()
    opt.step()
    np.testing.assert_array_equal(p.grad, g)
    np.testing.assert_allclose(p.numpy(), -0.1 * g - 0.1 * (0.9 * g + 0.8 * g), rtol=1e-12)


@pytest.mark.parametrize("case", ["sgd-momentum-dampening", "adam-wd"])
def test_state_dicts_are_snapshots_and_loading_copies(case):
    """The arrays of state_dict() are copies, and load_state_dict copies what it is given: the
    steps after either leave the dict as it was, so it can resume a second optimizer alike."""
    make = CASES[case][0]
    x, y, model = _problem()
    opt = make(model.parameters())
    _train(model, opt, x, y, 3)
    state = opt.state_dict()
    frozen = {k: np.copy(v) for k, v in state.items() if isinstance(v, np.ndarray)}
    assert frozen
    _train(model, opt, x, y, 2)
    for key, value in frozen.items():
        np.testing.assert_array_equal(state[key], value, err_msg=f"state_dict()[{key!r}]")
    start = model.state_dict()
    runs = []
    for _ in range(2):
        _, _, twin = _problem()
        twin.load_state_dict(start)
        opt2 = make(twin.parameters())
        opt2.load_state_dict(state)
        _train(twin, opt2, x, y, 2)
        runs.append([p.numpy() for p in twin.parameters()])
        for key, value in frozen.items():
            np.testing.assert_array_equal(state[key], value, err_msg=f"loaded {key!r}")
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "case", ["sgd-nesterov-wd", "rmsprop-centered", "adagrad-decay-wd", "adam-wd", "adamw-amsgrad"]
)
def test_float32_on_device(case, device):
    """On each device the update keeps the parameters float32 and where they were, and it
    lowers the loss; the result matches the CPU run to float32 rounding."""
    make = CASES[case][0]
    results = []
    for dev in dict.fromkeys(["cpu", device]):
        tc.manual_seed(1)
        x, y, model = _problem()
        model.float().to(dev)
        params = list(model.parameters())
        opt = make(params)
        xt = tc.tensor(x.astype(np.float32), device=dev)
        yt = tc.tensor(y.astype(np.float32), device=dev)
        first = _loss(model, xt, yt).item()
        _train(model, opt, xt, yt, 20)
        assert all(p.dtype == np.float32 and p.device == dev for p in model.parameters())
        assert all(q is p for q, p in zip(model.parameters(), params))
        assert _loss(model, xt, yt).item() < 0.9 * first
        results.append([p.numpy() for p in model.parameters()])
    for a, b in zip(results[0], results[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_parameters_without_gradient_are_skipped():
    x, y, model = _problem()
    unused = nn.Linear(2, 2).double()
    before = [p.numpy().copy() for p in unused.parameters()]
    opt = optim.Adam(list(model.parameters()) + list(unused.parameters()), lr=0.1)
    _train(model, opt, x, y, 3)
    for b, p in zip(before, unused.parameters()):
        np.testing.assert_array_equal(b, p.numpy())
    assert opt.state[-1] == {} and opt.state[0]["step"] == 3


def test_zero_grad_clears_all_gradients():
    x, y, model = _problem()
    opt = optim.SGD(model.parameters(), lr=0.1)
    _loss(model, tc.tensor(x), tc.tensor(y)).backward()
    assert all(p.grad is not None for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_takes_pytorchs_set_to_none():
    """opt.zero_grad(set_to_none=True) and model.zero_grad(set_to_none=False), as written for
    PyTorch: None, or zeros of the gradient's shape (a parameter with no gradient keeps None)."""
    x, y, model = _problem()
    unused = nn.Linear(2, 2).double()
    params = list(model.parameters()) + list(unused.parameters())
    opt = optim.SGD(params, lr=0.1)
    for zero in (opt.zero_grad, model.zero_grad):
        _loss(model, tc.tensor(x), tc.tensor(y)).backward()
        zero(set_to_none=False)
        for p in model.parameters():
            assert p.grad.shape == p.shape and p.grad.dtype == p.dtype and not p.grad.any()
        assert all(p.grad is None for p in unused.parameters())
        _loss(model, tc.tensor(x), tc.tensor(y)).backward()  # adds to the zeros
        assert all(p.grad.any() for p in model.parameters())
        zero(set_to_none=True)
        assert all(p.grad is None for p in params)


@pytest.mark.parametrize(
    "case",
    ["sgd-momentum-dampening", "rmsprop-centered", "adagrad-decay-wd", "adam-wd", "adamw-amsgrad"],
)
def test_state_dict_resumes_exactly(case, tmp_path):
    """Ten steps in one go equal five steps, a save to disk, a fresh optimizer (and model)
    loaded from the files, and five more steps: bit for bit."""
    make = CASES[case][0]
    x, y, straight = _problem()
    start = straight.state_dict()
    opt = make(straight.parameters())
    opt.lr = opt.lr * 0.7  # a changed lr is part of the saved state
    _train(straight, opt, x, y, 10)

    _, _, first = _problem()
    first.load_state_dict(start)
    opt1 = make(first.parameters())
    opt1.lr = opt1.lr * 0.7
    _train(first, opt1, x, y, 5)
    tc.save(first, tmp_path / "model.npz")
    tc.save(opt1.state_dict(), tmp_path / "opt.npz", meta={"epoch": 5})

    _, _, resumed = _problem()
    resumed.load_state_dict(tc.load(tmp_path / "model.npz"))
    opt2 = make(resumed.parameters())
    opt2.load_state_dict(tc.load(tmp_path / "opt.npz"))
    assert opt2.lr == opt1.lr
    _train(resumed, opt2, x, y, 5)
    for (name, a), b in zip(straight.named_parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_load_state_dict_errors():
    x, y, model = _problem()
    adam = optim.Adam(model.parameters(), lr=0.1)
    _train(model, adam, x, y, 2)
    state = adam.state_dict()
    with pytest.raises(ValueError, match="from Adam"):
        optim.SGD(model.parameters(), lr=0.1).load_state_dict(state)
    params = list(model.parameters())
    with pytest.raises(ValueError, match="for 4 parameters, this optimizer has 3"):
        optim.Adam(params[:3]).load_state_dict(state)
    swapped = [params[1], params[0], params[2], params[3]]
    with pytest.raises(ValueError, match=r"size mismatch for 'state.0.exp_avg'.*\(5, 3\).*\(5,\)"):
        optim.Adam(swapped).load_state_dict(state)
    with pytest.raises(ValueError, match="unexpected key 'bogus'"):
        optim.Adam(params).load_state_dict({**state, "bogus": 1})


def test_constructor_errors():
    p = nn.Linear(2, 2).weight
    with pytest.raises(ValueError, match="empty list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="not a single tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([tc.tensor([1.0, 2.0])], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
        with pytest.raises(ValueError, match=f"Adagrad: {name} must be >= 0"):
            optim.Adagrad([p], **{name: -0.1})
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"Adam\(model.parameters\(\), ...\), not the Sequential"):
        optim.Adam(model)  # was "parameter 0 is a Linear, not a Tensor"
    with pytest.raises(
        TypeError, match="iterable of tensors, such as model.parameters\\(\\), got float"
    ):
        optim.SGD(0.1, lr=0.1)
    with pytest.raises(TypeError, match="lr must be a number, got '0.01'"):
        optim.Adam([p], lr="0.01")  # was "'>=' not supported between instances of 'str' and 'int'"


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (
            lambda o: optim.StepLR(o, step_size=3, gamma=0.5),
            lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        ),
        (
            lambda o: optim.StepLR(o, step_size=1),
            lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=1),
        ),
        (
            lambda o: optim.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
            lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
        ),
        (
            lambda o: optim.CosineAnnealingLR(o, T_max=10),
            lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10),
        ),
    ],
)
def test_schedulers_match_torch(ours, theirs):
    """The learning rate of each of 25 epochs (past T_max too) equals torch's."""
    torch = pytest.importorskip("torch")
    opt = optim.SGD([nn.Linear(1, 1).weight], lr=0.3)
    ref_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    sched, ref = ours(opt), theirs(torch, ref_opt)
    for epoch in range(25):
        np.testing.assert_allclose(sched.get_last_lr(), ref.get_last_lr(), rtol=1e-9, atol=1e-15)
        assert opt.lr == sched.get_last_lr()[0], epoch
        opt.step()
        ref_opt.step()
        sched.step()
        ref.step()


def test_schedulers_live_under_pytorchs_module_name_too():
    """torch.optim.lr_scheduler.StepLR translates name for name: the same classes."""
    from tinycolor.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR

    assert (StepLR, CosineAnnealingLR, LRScheduler) == (
        optim.StepLR,
        optim.CosineAnnealingLR,
        optim.LRScheduler,
    )
    opt = optim.SGD([nn.Linear(1, 1).weight], lr=1.0)
    sched = tc.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(4):
        sched.step()
    assert opt.lr == sched.get_last_lr()[0] == 0.25


def test_schedulers_follow_their_formulas():
    """The lr of each epoch is the docstring's formula, the cosine past T_max too (it climbs
    back); no PyTorch needed."""
    opt = optim.SGD([nn.Linear(1, 1).weight], lr=0.3)
    sched = optim.StepLR(opt, step_size=3, gamma=0.5)
    for epoch in range(10):
        assert opt.lr == pytest.approx(0.3 * 0.5 ** (epoch // 3), rel=1e-12), epoch
        sched.step()
    opt = optim.SGD([nn.Linear(1, 1).weight], lr=0.3)
    sched = optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    for epoch in range(10):
        want = 0.01 + 0.29 * (1 + math.cos(math.pi * epoch / 4)) / 2
        assert opt.lr == pytest.approx(want, rel=1e-12, abs=1e-15), epoch
        sched.step()


def test_scheduler_resume():
    opt = optim.SGD([nn.Linear(1, 1).weight], lr=0.3)
    sched = optim.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    state = sched.state_dict()
    opt2 = optim.SGD([nn.Linear(1, 1).weight], lr=0.3)
    sched2 = optim.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(state)
    assert opt2.lr == opt.lr and sched2.get_last_lr() == sched.get_last_lr()
    sched.step()
    sched2.step()
    assert opt2.lr == opt.lr
    with pytest.raises(ValueError, match="T_max"):
        optim.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(TypeError, match="needs an Optimizer"):
        optim.StepLR(object(), step_size=2)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("threads", [True, False])
def test_adam_split_over_two_threads_matches_one_pass(monkeypatch, amsgrad, threads):
    """A parameter of 2^20 numbers or more is updated in two halves at once, and any of at
    least two pieces' size (``_PIECE_SIZE``) piece by piece; the result must be the one-pass
    update, bit for bit (amsgrad's maximum too)."""
    from tinycolor import optim as optim_module

    rng = np.random.default_rng(0)
    size = optim_module._SPLIT_SIZE + 3 if threads else 3 * optim_module._PIECE_SIZE + 5
    start = rng.standard_normal(size).astype(np.float32)
    grads = [rng.standard_normal(start.shape).astype(np.float32) for _ in range(3)]

    def run():
        p = tc.Tensor(start.copy(), requires_grad=True)
        opt = optim_module.Adam([p], lr=1e-2, betas=(0.9, 0.5), amsgrad=amsgrad)
        for g in grads:
            p.grad = g
            opt.step()
        return p.data

    split = run()
    monkeypatch.setattr(optim_module, "_SPLIT_SIZE", 1 << 40)
    monkeypatch.setattr(optim_module, "_PIECE_SIZE", 1 << 40)
    np.testing.assert_array_equal(split, run())
    assert not np.array_equal(split, start)


def test_the_split_update_keeps_the_callers_floating_point_error_handling():
    from tinycolor import optim as optim_module

    p = tc.Tensor(np.full(optim_module._SPLIT_SIZE + 2, 3e38, np.float32), requires_grad=True)
    p.grad = np.full(p.shape, 3e38, np.float32)  # g^2 overflows in both halves
    opt = optim_module.Adam([p], lr=1.0)
    with np.errstate(over="raise"):  # the worker thread used to run under its own settings
        with pytest.raises(FloatingPointError):
            opt.step()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")  # train silences them: the loss checks speak instead
        opt.step()


def test_exponential_moving_average_follows_its_formula():
    """avg_t = d_t avg_{t-1} + (1 - d_t) w_t with d_t = min(decay, (1 + t) / (10 + t)), for the
    parameters and BatchNorm's running statistics; integer buffers are copied."""
    from tinycolor import nn

    tc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    ema = optim.ExponentialMovingAverage(model, decay=0.9)
    start = model.state_dict()
    want = {k: v.astype(np.float64) for k, v in start.items()}
    rng = np.random.default_rng(1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    target = tc.Tensor(rng.standard_normal((4, 2, 4, 4)).astype(np.float32))
    for t in range(1, 30):
        y = model(tc.Tensor(rng.standard_normal((4, 1, 6, 6)).astype(np.float32)))
        (y * target).sum().backward()
        opt.step()
        opt.zero_grad()
        ema.update()
        d = min(0.9, (1 + t) / (10 + t))
        for k, v in model.state_dict().items():
            want[k] = d * want[k] + (1 - d) * v if np.issubdtype(v.dtype, np.floating) else v
    got = ema.state_dict()
    assert set(got) == set(start) and ema.updates == 29
    for k, v in got.items():
        assert v.dtype == start[k].dtype
        np.testing.assert_allclose(v, want[k], rtol=1e-5, atol=1e-6)
    # the average lags behind the weights it follows, and loads back as a state_dict
    assert not np.allclose(got["0.weight"], model.state_dict()["0.weight"])
    model.load_state_dict(got)
    np.testing.assert_array_equal(model.state_dict()["1.running_mean"], got["1.running_mean"])
    got["0.weight"][...] = 7  # state_dict() returns copies
    assert not np.any(ema.state_dict()["0.weight"] == 7)
    with pytest.raises(ValueError, match="decay"):
        optim.ExponentialMovingAverage(model, decay=1.0)


def test_the_average_of_weights_that_do_not_move_is_those_weights_exactly():
    """d avg + (1 - d) w rounds twice in float32, so the average of a frozen layer (cnn_koala's
    pretrained classifier) drifted from its weights by a few ulps (1.5e-8) over a run; the
    update avg + (1 - d)(w - avg) adds exactly 0 where w == avg."""
    from tinycolor import nn

    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(50, 40), nn.BatchNorm1d(40))
    ema = optim.ExponentialMovingAverage(model, decay=0.99)
    for _ in range(300):
        ema.update()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(ema.state_dict()[k], v)


def test_exponential_moving_average_resumes_exactly(tmp_path):
    """Twenty updates in one go equal ten, the averages saved to disk with the count, a fresh
    model and average loaded from them, and ten more: bit for bit. Without the count the
    warm-up of d restarts, and the average differs."""
    from tinycolor import nn

    def make():
        tc.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))

    def steps(model, ema, n, seed):
        rng = np.random.default_rng(seed)
        for _ in range(n):
            for p in model.parameters():
                p.data += rng.standard_normal(p.shape).astype(np.float32)
            ema.update()

    straight = make()
    ema = optim.ExponentialMovingAverage(straight, decay=0.99)
    steps(straight, ema, 10, 1)
    tc.save(straight, tmp_path / "model.npz")
    tc.save(ema.state_dict(), tmp_path / "ema.npz", meta={"updates": ema.updates})
    steps(straight, ema, 10, 2)
    for with_count in (True, False):
        resumed = make()
        resumed.load_state_dict(tc.load(tmp_path / "model.npz"))
        ema2 = optim.ExponentialMovingAverage(resumed, decay=0.99)
        saved = tc.load(tmp_path / "ema.npz")
        ema2.load_state_dict(saved, updates=saved["__meta__"]["updates"] if with_count else None)
        steps(resumed, ema2, 10, 2)
        same = [np.array_equal(v, ema2.state_dict()[k]) for k, v in ema.state_dict().items()]
        assert all(same) if with_count else not all(same)
    assert ema2.average["0.weight"] is not saved["0.weight"]  # copied in
    with pytest.raises(ValueError, match="missing keys \\['1.running_var'\\]"):
        ema2.load_state_dict({k: v for k, v in saved.items() if k != "1.running_var"})
    with pytest.raises(ValueError, match="size mismatch for '0.weight'"):
        ema2.load_state_dict({**saved, "0.weight": np.zeros((2, 1, 5, 5), np.float32)})
    with pytest.raises(ValueError, match="updates must be an integer"):
        ema2.load_state_dict(saved, updates=-1)


def test_adam_at_lr_zero_keeps_the_parameters_and_moves_its_moments():
    # CosineAnnealingLR reaches lr 0 at T_max: Adam divided by it (ZeroDivisionError)
    p = nn.Parameter(np.ones(3))
    opt = optim.Adam([p], lr=1e-3)
    sched = optim.CosineAnnealingLR(opt, T_max=2)
    for _ in range(2):
        p.grad = np.ones(3)
        opt.step()
        sched.step()
    assert opt.lr == 0
    before, m = p.numpy().copy(), opt.state[0]["exp_avg"].copy()
    p.grad = np.full(3, 2.0)
    opt.step()
    np.testing.assert_array_equal(p.numpy(), before)
    np.testing.assert_allclose(opt.state[0]["exp_avg"], 0.9 * m + 0.1 * 2.0)
    assert opt.state[0]["step"] == 3


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_scales_all_gradients_together(norm_type):
    """The joint norm of every gradient as one vector, returned; above max_norm every gradient
    is scaled by max_norm / (norm + 1e-6), at or under it they stay; parameters without a
    gradient are skipped."""
    rng = np.random.default_rng(0)
    params = [tc.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 4), (5,), (2,)]]
    grads = [rng.standard_normal(p.shape) for p in params[:2]]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    flat = np.concatenate([g.ravel() for g in grads])
    want = np.abs(flat).max() if norm_type == math.inf else np.linalg.norm(flat, ord=norm_type)
    total = nn.utils.clip_grad_norm_(params, 0.5, norm_type)
    assert isinstance(total, tc.Tensor)
    np.testing.assert_allclose(total.item(), want, rtol=1e-12)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad, g * 0.5 / (want + 1e-6), rtol=1e-12)
    assert params[2].grad is None
    before = [p.grad.copy() for p in params[:2]]
    nn.utils.clip_grad_norm_(params, 10.0, norm_type)  # now under it: unchanged
    for p, g in zip(params, before):
        np.testing.assert_array_equal(p.grad, g)
    with pytest.raises(ValueError, match="norm_type must be positive"):
        nn.utils.clip_grad_norm_(params, 1.0, 0)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    x, y, model = _problem()
    ref = _torch_twin(torch, model)
    (_loss(model, tc.tensor(x), tc.tensor(y)) * 100).backward()
    (((ref(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean() * 100).backward()
    ours = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    theirs = torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.1)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-10)


def test_clip_grad_norm_on_the_device_keeps_dtype_and_device(device):
    model = nn.Linear(3, 2).to(device)
    (model(tc.randn(4, 3, device=device)).sum() * 10).backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert (total.device, total.dtype) == (device, np.float32)
    grads = [to_numpy(p.grad) for p in model.parameters()]
    assert abs(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads)) - 1) < 1e-5


def test_total_norm_and_parameters_as_a_vector_as_pytorchs():
    """get_total_norm, clip_grad_norm_'s error_if_nonfinite= and foreach=,
    parameters_to_vector and vector_to_parameters, which tinycolor lacked, as PyTorch's."""
    torch = pytest.importorskip("torch")
    x, y, model = _problem()
    ref = _torch_twin(torch, model)
    (_loss(model, tc.tensor(x), tc.tensor(y)) * 100).backward()
    (((ref(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean() * 100).backward()
    for norm_type in (2.0, 1.0, math.inf):
        ours = nn.utils.get_total_norm([p.grad for p in model.parameters()], norm_type)
        theirs = torch.nn.utils.get_total_norm([q.grad for q in ref.parameters()], norm_type)
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10)
    vec = nn.utils.parameters_to_vector(model.parameters())
    want = torch.nn.utils.parameters_to_vector(ref.parameters())
    np.testing.assert_allclose(vec.numpy(), want.detach().numpy(), rtol=1e-12)
    (vec**2).sum().backward()  # in the graph, as PyTorch's
    new = np.arange(vec.shape[0], dtype=np.float64)
    nn.utils.vector_to_parameters(tc.tensor(new), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new), ref.parameters())
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.data, q.detach().numpy())
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.utils.vector_to_parameters(new, model.parameters())
    with pytest.raises(ValueError, match="1-D with one entry per parameter value"):
        nn.utils.vector_to_parameters(tc.tensor(new[:-1]), model.parameters())
    for p in model.parameters():
        p.grad = np.full(p.shape, np.nan)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, error_if_nonfinite=True, foreach=None)


def test_clip_grad_value_clamps_each_entry():
    """Each gradient entry is clamped to [-clip_value, clip_value] in place on its own (a
    NaN stays NaN); parameters without a gradient are skipped; a single Tensor is taken."""
    params = [tc.tensor(np.zeros(s), requires_grad=True) for s in [(2, 3), (4,), (2,)]]
    params[0].grad = np.array([[-3.0, -0.5, 0.2], [0.5, 1.5, np.nan]])
    params[1].grad = np.array([0.1, -0.1, 7.0, -0.7])
    buffer = params[0].grad
    assert nn.utils.clip_grad_value_(params, 0.5) is None
    assert params[0].grad is buffer  # in place
    np.testing.assert_array_equal(params[0].grad, [[-0.5, -0.5, 0.2], [0.5, 0.5, np.nan]])
    np.testing.assert_array_equal(params[1].grad, [0.1, -0.1, 0.5, -0.5])
    assert params[2].grad is None
    nn.utils.clip_grad_value_(params[1], 0.1)
    np.testing.assert_array_equal(params[1].grad, [0.1, -0.1, 0.1, -0.1])
    with pytest.raises(ValueError, match="clip_value must be >= 0, got -1.0"):
        nn.utils.clip_grad_value_(params, -1)
    with pytest.raises(TypeError, match="clip_value must be a number, got NoneType"):
        nn.utils.clip_grad_value_(params, None)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    x, y, model = _problem()
    ref = _torch_twin(torch, model)
    (_loss(model, tc.tensor(x), tc.tensor(y)) * 100).backward()
    (((ref(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean() * 100).backward()
    nn.utils.clip_grad_value_(model.parameters(), 0.3)
    torch.nn.utils.clip_grad_value_(ref.parameters(), 0.3)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-10)
    assert any((np.abs(p.grad) == 0.3).any() for p in model.parameters())  # some were clipped


def test_clip_grad_value_on_the_device_keeps_dtype_and_device(device):
    model = nn.Linear(3, 2).to(device)
    (model(tc.randn(4, 3, device=device)).sum() * 10).backward()
    nn.utils.clip_grad_value_(model.parameters(), 0.25)
    for p in model.parameters():
        assert p.grad.dtype == np.float32 and tc.backend.device_of(p.grad) == device
        assert np.abs(to_numpy(p.grad)).max() <= 0.25


# --------------------------------------------------------------------------- param groups

GROUP_CASES = {  # name: (defaults, options of the first Linear's group, of the second's)
    "SGD": (
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.2, "momentum": 0.5, "nesterov": True},
        {"weight_decay": 1e-2, "dampening": 0.3},
    ),
    "RMSprop": (
        {"lr": 0.01, "weight_decay": 1e-3},
        {"lr": 0.02, "centered": True},
        {"alpha": 0.9, "momentum": 0.5},
    ),
    "Adam": (
        {"lr": 0.01},
        {"lr": 0.05, "betas": (0.8, 0.99)},
        {"weight_decay": 1e-2, "eps": 1e-6},
    ),
    "AdamW": (
        {"lr": 0.01},
        {"weight_decay": 0.1},
        {"lr": 0.03, "betas": (0.85, 0.95)},
    ),
    "Adagrad": (
        {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.5},
        {"lr": 0.1},
        {"weight_decay": 1e-2, "eps": 1e-6},
    ),
}


def _grouped(module, name, model):
    """CASES-like: GROUP_CASES[name]'s optimizer from ``module`` (optim or torch.optim) over
    ``model``, a group per Linear."""
    defaults, first, second = GROUP_CASES[name]
    layers = [m for m in model if hasattr(m, "weight")]
    groups = [
        {"params": list(layers[0].parameters()), **first},
        {"params": list(layers[1].parameters()), **second},
    ]
    return getattr(module, name)(groups, **defaults)


def _expected_options(name, k):
    """The options of group k: its own over the defaults over the constructor's defaults."""
    defaults, *groups = GROUP_CASES[name]
    signature = {
        "SGD": {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0},
        "RMSprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0},
        "Adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
        "AdamW": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2},
        "Adagrad": {
            "lr": 1e-2,
            "lr_decay": 0.0,
            "weight_decay": 0.0,
            "initial_accumulator_value": 0.0,
            "eps": 1e-10,
        },
    }[name]
    return {**signature, **defaults, **groups[k]}


@pytest.mark.parametrize("name", list(GROUP_CASES))
def test_param_groups_follow_the_update_rules(name):
    """Two groups, each with options of its own over shared defaults: twelve steps, each
    equal to the docstring's rule with the group's options, the first group's lr halved
    midway through param_groups; no PyTorch needed."""
    x, y, model = _problem()
    opt = _grouped(optim, name, model)
    params = list(model.parameters())
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    hps = [_expected_options(name, 0), _expected_options(name, 1)]
    for k, group in enumerate(opt.param_groups):
        for key, value in hps[k].items():
            assert group[key] == value, (k, key)
    states = [{} for _ in params]
    tx, ty = tc.tensor(x), tc.tensor(y)
    for step in range(12):
        if step == 6:
            opt.param_groups[0]["lr"] *= 0.5
            hps[0]["lr"] *= 0.5
        opt.zero_grad()
        _loss(model, tx, ty).backward()
        want = [
            _reference_step(name, hps[i // 2], st, p.numpy().copy(), p.grad.copy())
            for i, (p, st) in enumerate(zip(params, states))
        ]
        opt.step()
        for i, (p, w) in enumerate(zip(params, want)):
            np.testing.assert_allclose(p.numpy(), w, rtol=1e-9, atol=1e-12, err_msg=f"{step}: {i}")


@pytest.mark.parametrize("name", list(GROUP_CASES))
def test_param_groups_match_torch(name):
    """The same two groups in torch.optim: the same options in each group, and the same
    parameters after each of twelve steps, with a per-group lr change midway."""
    torch = pytest.importorskip("torch")
    x, y, model = _problem()
    ref = _torch_twin(torch, model)
    opt, ref_opt = _grouped(optim, name, model), _grouped(torch.optim, name, ref)
    for ours, theirs in zip(opt.param_groups, ref_opt.param_groups, strict=True):
        assert len(ours["params"]) == len(theirs["params"])
        for key in ours:
            if key != "params":
                assert ours[key] == theirs[key], key
    tx, ty, rx, ry = tc.tensor(x), tc.tensor(y), torch.from_numpy(x), torch.from_numpy(y)
    for step in range(12):
        if step == 6:
            for o in (opt, ref_opt):
                o.param_groups[1]["lr"] *= 0.3
        opt.zero_grad()
        _loss(model, tx, ty).backward()
        opt.step()
        ref_opt.zero_grad()
        ((ref(rx) - ry) ** 2).mean().backward()
        ref_opt.step()
        for (pname, p), q in zip(model.named_parameters(), ref.parameters()):
            np.testing.assert_allclose(
                p.numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=f"{step}: {pname}"
            )


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_add_param_group_trains_more_of_the_model_later(name):
    """The second Linear joins after three steps with add_param_group and its own lr (the
    others from the defaults); it is trained from then on by its group's rule, as torch's."""
    x, y, model = _problem()
    params = list(model.parameters())
    defaults = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.02}
    opt = getattr(optim, name)(params[:2], **defaults)
    tx, ty = tc.tensor(x), tc.tensor(y)
    hps = [defaults, defaults | {"lr": 0.1}]  # _reference_step knows the other defaults
    states = [{} for _ in params]
    frozen = [p.numpy().copy() for p in params[2:]]
    for step in range(8):
        if step == 3:
            for p, f in zip(params[2:], frozen):
                np.testing.assert_array_equal(p.numpy(), f)  # not in the optimizer yet
            opt.add_param_group({"params": params[2:], "lr": 0.1})
            assert opt.param_groups[1]["lr"] == 0.1 and len(opt.state) == 4
        opt.zero_grad()
        _loss(model, tx, ty).backward()
        n = 2 if step < 3 else 4
        want = [
            _reference_step(name, hps[i // 2], st, p.numpy().copy(), p.grad.copy())
            for i, (p, st) in enumerate(zip(params[:n], states))
        ]
        opt.step()
        for i, (p, w) in enumerate(zip(params, want)):
            np.testing.assert_allclose(p.numpy(), w, rtol=1e-9, atol=1e-12, err_msg=f"{step}: {i}")
    torch = pytest.importorskip("torch")  # and torch's add_param_group gives the same
    x, y, model = _problem()
    ref = _torch_twin(torch, model)
    ours, theirs = list(model.parameters()), list(ref.parameters())
    opt = getattr(optim, name)(ours[:2], **defaults)
    ref_opt = getattr(torch.optim, name)(theirs[:2], **defaults)
    rx, ry = torch.from_numpy(x), torch.from_numpy(y)
    for step in range(8):
        if step == 3:
            opt.add_param_group({"params": ours[2:], "lr": 0.1})
            ref_opt.add_param_group({"params": theirs[2:], "lr": 0.1})
        opt.zero_grad()
        _loss(model, tx, ty).backward()
        opt.step()
        ref_opt.zero_grad()
        ((ref(rx) - ry) ** 2).mean().backward()
        ref_opt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-12)


def _two_group_sgd(lrs=(0.3, 0.02)):
    a, b = nn.Linear(1, 1).weight, nn.Linear(1, 1).weight
    return optim.SGD([{"params": [a], "lr": lrs[0]}, {"params": [b]}], lr=lrs[1])


def test_schedulers_scale_each_groups_own_base_lr():
    """StepLR and CosineAnnealingLR set each group's lr from that group's base lr by the
    docstring's formula; get_last_lr() lists them in group order."""
    opt = _two_group_sgd()
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    assert sched.base_lrs == [0.3, 0.02]
    for epoch in range(7):
        want = [0.3 * 0.5 ** (epoch // 2), 0.02 * 0.5 ** (epoch // 2)]
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(want, rel=1e-12)
        assert sched.get_last_lr() == pytest.approx(want, rel=1e-12)
        sched.step()
    opt = _two_group_sgd()
    sched = optim.CosineAnnealingLR(opt, T_max=5, eta_min=0.001)
    for epoch in range(8):
        cos = (1 + math.cos(math.pi * epoch / 5)) / 2
        want = [0.001 + (base - 0.001) * cos for base in (0.3, 0.02)]
        assert sched.get_last_lr() == pytest.approx(want, rel=1e-12), epoch
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
        sched.step()


@pytest.mark.parametrize("kind", ["step", "cosine"])
def test_schedulers_of_param_groups_match_torch(kind):
    torch = pytest.importorskip("torch")
    opt = _two_group_sgd()
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([{"params": [a], "lr": 0.3}, {"params": [b]}], lr=0.02)
    if kind == "step":
        sched = optim.StepLR(opt, step_size=3, gamma=0.5)
        ref = torch.optim.lr_scheduler.StepLR(ref_opt, step_size=3, gamma=0.5)
    else:
        sched = optim.CosineAnnealingLR(opt, T_max=7, eta_min=0.01)
        ref = torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, T_max=7, eta_min=0.01)
    for _ in range(12):
        np.testing.assert_allclose(sched.get_last_lr(), ref.get_last_lr(), rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(
            [g["lr"] for g in opt.param_groups], [g["lr"] for g in ref_opt.param_groups]
        )
        opt.step()
        ref_opt.step()
        sched.step()
        ref.step()


def test_scheduler_state_of_param_groups_resumes():
    opt = _two_group_sgd()
    sched = optim.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    state = sched.state_dict()
    opt2 = _two_group_sgd((1.0, 1.0))
    sched2 = optim.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(state)
    assert sched2.base_lrs == [0.3, 0.02] and sched2.get_last_lr() == sched.get_last_lr()
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    # a state written before param groups ({'base_lr': ..., 'last_epoch': ...}) still loads
    one = optim.SGD([nn.Linear(1, 1).weight], lr=1.0)
    sched3 = optim.StepLR(one, step_size=2, gamma=0.5)
    sched3.load_state_dict({"base_lr": np.array(0.4), "last_epoch": np.array(4)})
    assert one.lr == pytest.approx(0.1)
    with pytest.raises(ValueError, match="the state has 2 base lrs, one per param group"):
        sched3.load_state_dict(state)


def test_state_dict_of_param_groups_resumes_exactly(tmp_path):
    """Ten steps in one go equal five, a save to disk, a fresh optimizer of the same groups
    loaded from the file (their options as they were then, a changed lr included), five more."""
    x, y, straight = _problem()
    start = straight.state_dict()

    def run(model, steps, opt=None):
        opt = opt or _grouped(optim, "Adam", model)
        if opt.param_groups[1]["lr"] == GROUP_CASES["Adam"][0]["lr"]:
            opt.param_groups[1]["lr"] = 0.004  # changed after construction: part of the state
        _train(model, opt, x, y, steps)
        return opt

    run(straight, 10)
    _, _, first = _problem()
    first.load_state_dict(start)
    opt1 = run(first, 5)
    tc.save(first, tmp_path / "model.npz")
    tc.save(opt1, tmp_path / "opt.npz")
    state = tc.load(tmp_path / "opt.npz")
    assert int(state["n_groups"]) == 2 and list(state["group.1.params"]) == [2, 3]
    _, _, resumed = _problem()
    resumed.load_state_dict(tc.load(tmp_path / "model.npz"))
    x_, y_, plain = _problem()
    opt2 = optim.Adam(
        [{"params": list(resumed.parameters())[:2]}, {"params": list(resumed.parameters())[2:]}]
    )
    opt2.load_state_dict(state)
    for ours, theirs in zip(opt2.param_groups, opt1.param_groups, strict=True):
        assert {k: ours[k] for k in ours if k != "params"} == {
            k: theirs[k] for k in theirs if k != "params"
        }
    assert opt2.param_groups[1]["lr"] == 0.004
    _train(resumed, opt2, x, y, 5)
    for (name, a), b in zip(straight.named_parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    params = list(plain.parameters())
    with pytest.raises(ValueError, match="the state has 2 param groups, this optimizer has 1"):
        optim.Adam(params).load_state_dict(state)
    mismatched = optim.Adam([{"params": params[:1]}, {"params": params[1:]}])
    before = mismatched.state_dict()
    with pytest.raises(ValueError, match="param group 0 of the state has 2 parameters, .* has 1"):
        mismatched.load_state_dict(state)
    assert mismatched.param_groups[0]["lr"] == before["group.0.lr"]  # nothing half loaded
    with pytest.raises(ValueError, match=r"param group 1: betas must be in \[0, 1\)"):
        opt2.load_state_dict({**state, "group.1.betas": np.array([0.9, 1.5])})


def test_a_state_dict_saved_before_param_groups_still_loads():
    """{'lr': ..., 'momentum': ..., 'state.0.momentum_buffer': ...}, the one-group format of
    earlier versions, loads into a one-group optimizer."""
    p = nn.Parameter(np.zeros(3))
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    old = {
        "optimizer": "SGD",
        "n_params": 1,
        "lr": np.array(0.25),
        "momentum": np.array(0.8),
        "dampening": np.array(0.0),
        "weight_decay": np.array(0.0),
        "nesterov": np.array(False),
        "state.0.momentum_buffer": np.ones(3),
    }
    opt.load_state_dict(old)
    assert (opt.lr, opt.momentum) == (0.25, 0.8)
    p.grad = np.ones(3)
    opt.step()
    np.testing.assert_allclose(p.numpy(), -0.25 * (0.8 + 1.0))


def test_one_value_for_all_groups_through_the_optimizers_attributes():
    """opt.lr reads the lr every group shares and sets every group's; with groups that differ
    reading it is an error that names param_groups."""
    opt = _two_group_sgd((0.1, 0.1))
    assert opt.lr == 0.1
    opt.lr = 0.05
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.05]
    opt.param_groups[0]["lr"] = 0.2
    with pytest.raises(ValueError, match=r"SGD.lr: its 2 param groups have different values"):
        opt.lr  # noqa: B018
    assert opt.momentum == 0.0
    assert "group 0: 1 parameters, lr=0.2" in repr(opt)
    assert opt.defaults["lr"] == 0.1


def test_param_group_errors():
    a, b = nn.Linear(2, 2).weight, nn.Linear(2, 2).bias
    with pytest.raises(ValueError, match=r"parameter 1 of param group 1 .* is in param group 0"):
        optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
    with pytest.raises(ValueError, match="appears more than once of param group 0"):
        optim.SGD([{"params": [a, a]}], lr=0.1)
    opt = optim.SGD([{"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match=r"parameter 0 of param group 1 .* is in param group 0"):
        opt.add_param_group({"params": a})
    with pytest.raises(
        ValueError, match="SGD param group 1: unknown option 'learning_rate'; SGD's options are lr"
    ):
        optim.SGD([{"params": [a]}, {"params": [b], "learning_rate": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match="Adam param group 0: unknown option 'momentum'"):
        optim.Adam([{"params": [a], "momentum": 0.9}])
    with pytest.raises(ValueError, match="SGD param group 1: lr must be >= 0, got -1"):
        optim.SGD([{"params": [a]}, {"params": [b], "lr": -1}], lr=0.1)
    with pytest.raises(ValueError, match=r"AdamW param group 0: betas must be in \[0, 1\)"):
        optim.AdamW([{"params": [a], "betas": (0.9, 1.0)}])
    with pytest.raises(ValueError, match="SGD param group 0: nesterov momentum needs"):
        optim.SGD([{"params": [a], "nesterov": True}], lr=0.1)
    with pytest.raises(ValueError, match="param group 0: has no 'params'"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(TypeError, match="holds param groups .* and a Parameter"):
        optim.SGD([{"params": [a]}, b], lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a dict: param groups go in a list"):
        optim.SGD([a, {"params": [b]}], lr=0.1)
    with pytest.raises(TypeError, match="must be in order .a list., not a set"):
        optim.SGD([{"params": {a}}], lr=0.1)
    with pytest.raises(TypeError, match=r"a param group is a dict .* got Parameter"):
        opt.add_param_group(b)
    with pytest.raises(ValueError, match="does not require grad"):
        opt.add_param_group({"params": [tc.tensor([1.0])]})
    with pytest.raises(TypeError, match="'params' cannot be replaced: add parameters with"):
        opt.param_groups[0]["params"] = [b]
    assert len(opt.param_groups) == 1 and opt.params == [a]  # nothing was half added


def _schedule(name, opt, lib=None, **kw):
    """The schedule ``name`` on ``opt``, tinycolor's or (``lib=torch``) PyTorch's; ``kw`` (say
    ``last_epoch``) goes to its constructor."""
    mod = optim if lib is None else lib.optim.lr_scheduler
    return {
        "step": lambda: mod.StepLR(opt, step_size=3, gamma=0.5, **kw),
        "cosine": lambda: mod.CosineAnnealingLR(opt, T_max=7, eta_min=0.01, **kw),
        "multistep": lambda: mod.MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.3, **kw),
        "multistep0": lambda: mod.MultiStepLR(opt, milestones=[4, 0], gamma=0.5, **kw),
        "exponential": lambda: mod.ExponentialLR(opt, gamma=0.9, **kw),
        "lambda": lambda: mod.LambdaLR(opt, lambda e: 1 / (e + 1), **kw),
        "lambdas": lambda: mod.LambdaLR(
            opt, [lambda e: 0.95**e, lambda e: min(1, (e + 1) / 4)], **kw
        ),
    }[name]()


@pytest.mark.parametrize("n", [0, 4, 9])
@pytest.mark.parametrize(
    "name", ["step", "cosine", "multistep", "multistep0", "exponential", "lambdas"]
)
def test_schedulers_resume_at_last_epoch_as_pytorchs(name, n):
    """StepLR(opt, ..., last_epoch=n), PyTorch's way to go on with a schedule after epoch n,
    was a TypeError. A schedule built with last_epoch=-1 (the default) keeps each group's base
    lr in its 'initial_lr'; one built with last_epoch=n takes its base lrs from there, whatever
    the groups' lrs are now, and goes on at epoch n + 1 with the lrs of an uninterrupted run,
    and PyTorch's (given the optimizer's lrs at epoch n, as its state would hold them), but
    for two of its chained schedules, which lag an epoch behind."""
    opt = _two_group_sgd()
    fresh = _schedule(name, opt, last_epoch=-1)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.3, 0.02]
    lrs = []
    for _ in range(15):
        lrs.append(fresh.get_last_lr())
        fresh.step()
    opt = _two_group_sgd((1.0, 1.0))  # a new optimizer, its lrs not the schedule's
    for group, base in zip(opt.param_groups, (0.3, 0.02)):
        group["initial_lr"] = base
    resumed = _schedule(name, opt, last_epoch=n)
    assert resumed.last_epoch == n + 1 and resumed.base_lrs == [0.3, 0.02]
    got = []
    for _ in range(n + 1, 15):
        got.append(resumed.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == got[-1]
        resumed.step()
    np.testing.assert_allclose(got, lrs[n + 1 :], rtol=1e-14)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.3, 0.02]
    torch = pytest.importorskip("torch")
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([{"params": [a], "lr": lrs[n][0]}, {"params": [b]}], lr=lrs[n][1])
    for group, base in zip(ref_opt.param_groups, (0.3, 0.02)):
        group["initial_lr"] = base
    ref = _schedule(name, ref_opt, torch, last_epoch=n)
    want = []
    for _ in range(n + 1, 15):
        want.append(ref.get_last_lr())
        ref_opt.step()
        ref.step()
    assert ref.last_epoch == 15
    if name in ("exponential", "cosine"):
        # PyTorch's ExponentialLR and CosineAnnealingLR (chained forms: each lr from the
        # last) keep the optimizer's lr, epoch n's, one epoch more, then go on from it (its
        # issue 65342): ours are the uninterrupted run's, as its other schedules' are
        np.testing.assert_allclose(want[0], lrs[n], rtol=1e-12)
        if name == "exponential":
            np.testing.assert_allclose(want[1:], got[:-1], rtol=1e-12)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_resuming_a_schedule_without_initial_lr_is_refused():
    """As PyTorch's, a schedule resumed at last_epoch=n needs each group's 'initial_lr' (its
    base lr): the groups' lrs are not the base lrs any more. A group may hold it from the
    start, and a schedule's load_state_dict sets it to the base lrs it loads."""
    opt = _two_group_sgd()
    with pytest.raises(
        KeyError,
        match=r"StepLR\(last_epoch=3\): param 'initial_lr' is not specified in "
        r"param_groups\[0\] when resuming",
    ):
        optim.StepLR(opt, step_size=2, last_epoch=3)
    opt.param_groups[0]["initial_lr"] = 0.3
    with pytest.raises(KeyError, match=r"in param_groups\[1\] when resuming"):
        optim.StepLR(opt, step_size=2, last_epoch=3)
    assert [g["lr"] for g in opt.param_groups] == [0.3, 0.02]  # nothing changed
    with pytest.raises(ValueError, match=r"StepLR: last_epoch must be -1 .* got -2"):
        optim.StepLR(opt, step_size=2, last_epoch=-2)
    with pytest.raises(TypeError, match="StepLR: last_epoch must be an int, got 1.5"):
        optim.StepLR(opt, step_size=2, last_epoch=1.5)
    a = nn.Linear(1, 1).weight
    given = optim.SGD([{"params": [a], "lr": 0.01, "initial_lr": 0.1}])
    assert optim.StepLR(given, 2, gamma=0.5, last_epoch=1).get_last_lr() == [0.05]
    assert "initial_lr" in given.param_groups[0] and "initial_lr" in dict(given.param_groups[0])
    with pytest.raises(KeyError, match="SGD's param group has no 'initial_l'"):
        given.param_groups[0]["initial_l"] = 0.1
    state = optim.CosineAnnealingLR(_two_group_sgd(), T_max=5).state_dict()
    opt = _two_group_sgd((1.0, 1.0))
    sched = optim.CosineAnnealingLR(opt, T_max=5)
    sched.load_state_dict(state)
    assert [g["initial_lr"] for g in opt.param_groups] == sched.base_lrs == [0.3, 0.02]
    # the optimizer's state keeps them too, as PyTorch's (see the test below)
    assert opt.state_dict()["group.1.initial_lr"] == 0.02


@pytest.mark.parametrize("name", ["multistep", "multistep0", "exponential", "lambda", "lambdas"])
def test_more_schedulers_match_torch_to_the_last_bit(name):
    """MultiStepLR, ExponentialLR and LambdaLR of two param groups give PyTorch's lrs exactly,
    for 15 epochs (MultiStepLR and ExponentialLR multiply as PyTorch's, epoch by epoch)."""
    torch = pytest.importorskip("torch")
    opt = _two_group_sgd()
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([{"params": [a], "lr": 0.3}, {"params": [b]}], lr=0.02)
    sched, ref = _schedule(name, opt), _schedule(name, ref_opt, torch)
    for epoch in range(15):
        assert sched.get_last_lr() == ref.get_last_lr(), epoch
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in ref_opt.param_groups]
        opt.step()
        ref_opt.step()
        sched.step()
        ref.step()


def test_more_schedulers_follow_their_formulas():
    """The lrs of each epoch by hand, no PyTorch needed: MultiStepLR multiplies by gamma at
    each milestone (twice at one listed twice, at once for a milestone 0), ExponentialLR by
    gamma each epoch, LambdaLR is each group's base lr times its own function."""
    opt = _two_group_sgd()
    sched = _schedule("multistep", opt)
    counts = [0, 0, 1, 1, 1, 3, 3, 3, 3, 4, 4, 4]  # milestones 2, 5, 5, 9
    for epoch, k in enumerate(counts):
        assert sched.get_last_lr() == pytest.approx([0.3 * 0.3**k, 0.02 * 0.3**k]), epoch
        sched.step()
    opt = _two_group_sgd()
    sched = _schedule("multistep0", opt)
    for epoch in range(7):
        assert opt.param_groups[0]["lr"] == 0.3 * 0.5 ** (1 + (epoch >= 4)), epoch
        sched.step()
    opt = _two_group_sgd()
    sched = _schedule("exponential", opt)
    for epoch in range(12):
        assert sched.get_last_lr() == pytest.approx([0.3 * 0.9**epoch, 0.02 * 0.9**epoch])
        sched.step()
    sched.load_state_dict({"base_lrs": [0.3, 0.02], "last_epoch": 2})  # back: not from 12
    assert sched.get_last_lr() == [0.3 * 0.9 * 0.9, 0.02 * 0.9 * 0.9]
    sched.load_state_dict({"base_lrs": [0.5, 0.02], "last_epoch": 3})  # a new base lr
    assert sched.get_last_lr() == [0.5 * 0.9 * 0.9 * 0.9, 0.02 * 0.9 * 0.9 * 0.9]
    opt = _two_group_sgd()
    sched = _schedule("lambdas", opt)
    for epoch in range(8):
        want = [0.3 * 0.95**epoch, 0.02 * min(1, (epoch + 1) / 4)]
        assert sched.get_last_lr() == pytest.approx(want, rel=1e-12), epoch
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
        sched.step()
    with pytest.raises(ValueError, match="expected 2 lr_lambdas, one per param group, got 1"):
        optim.LambdaLR(_two_group_sgd(), [lambda e: 1.0])
    with pytest.raises(TypeError, match="lr_lambda must be a function of the epoch"):
        optim.LambdaLR(_two_group_sgd(), 0.5)
    with pytest.raises(TypeError, match="milestones must be a list of epochs"):
        optim.MultiStepLR(_two_group_sgd(), milestones=5)
    assert optim.lr_scheduler.MultiStepLR is optim.MultiStepLR
    assert optim.lr_scheduler.ReduceLROnPlateau is optim.ReduceLROnPlateau


@pytest.mark.parametrize("name", ["multistep", "exponential", "lambdas"])
def test_more_schedulers_resume_from_a_file(name, tmp_path):
    """A schedule saved after 6 epochs and loaded into a fresh one (of the same functions, for
    LambdaLR: its state holds no function, as PyTorch's) goes on with the same lrs."""
    opt = _two_group_sgd()
    sched = _schedule(name, opt)
    for _ in range(6):
        sched.step()
    state = sched.state_dict()
    assert not any(callable(v) for v in state.values())
    tc.save({"sched": state}, tmp_path / "s.npz")
    opt2 = _two_group_sgd((1.0, 1.0))
    sched2 = _schedule(name, opt2)
    sched2.load_state_dict(tc.load(tmp_path / "s.npz")["sched"])
    for _ in range(5):
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
        sched.step()
        sched2.step()


def test_reduce_lr_on_plateau_follows_its_rule():
    """By hand: patience 2 (the third bad epoch in a row reduces), a relative threshold of
    10%, cooldown 1, factor 0.5, a min_lr for the first group; then eps and 'max' mode."""
    opt = _two_group_sgd((1.0, 0.1))
    sched = optim.ReduceLROnPlateau(
        opt, factor=0.5, patience=2, threshold=0.1, cooldown=1, min_lr=[0.3, 0.0]
    )
    assert sched.get_last_lr() == [1.0, 0.1]
    metrics = [10, 9.5, 9.2, 9.1, 5, 5, 5, 5, 5, 5, 5, 5]  # 9.5 is not under 10 * 0.9
    wants = [[1.0, 0.1]] * 3 + [[0.5, 0.05]] * 4 + [[0.3, 0.025]] * 4 + [[0.3, 0.0125]]
    for epoch, (metric, want) in enumerate(zip(metrics, wants, strict=True), 1):
        sched.step(tc.tensor(metric))  # a loss Tensor as it comes
        assert sched.get_last_lr() == pytest.approx(want, rel=1e-12), epoch
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
    assert sched.best == 5 and sched.last_epoch == 12
    # a reduction smaller than eps is not made; 'max' mode waits for the metric to rise
    opt = optim.SGD([nn.Linear(1, 1).weight], lr=1e-8)
    sched = optim.ReduceLROnPlateau(
        opt, mode="max", patience=0, threshold=0.5, threshold_mode="abs"
    )
    for metric in [1.0, 1.4, 2.0]:
        sched.step(metric)
    assert opt.lr == 1e-8 and sched.best == 2.0
    for bad, factor in [("factor", 1.0), ("mode", "low"), ("threshold_mode", "percent")]:
        with pytest.raises(ValueError, match=bad):
            optim.ReduceLROnPlateau(opt, **{bad: factor})
    # what PyTorch takes and acts on as something else: a negative or fractional patience, a
    # negative factor (a negative learning rate), threshold, eps or min_lr
    for bad, value, message in [
        ("patience", -1, "patience must be a whole number of epochs >= 0, got -1"),
        ("patience", 1.5, "patience must be a whole number of epochs, got 1.5"),
        ("cooldown", -2, "cooldown must be a whole number of epochs >= 0, got -2"),
        ("factor", -0.5, "factor must be >= 0 and < 1.0, got -0.5"),
        ("threshold", -1e-4, "threshold must be >= 0, got -0.0001"),
        ("eps", -1.0, "eps must be >= 0, got -1.0"),
        ("min_lr", -0.1, "min_lr must be >= 0, got -0.1"),
        ("min_lr", [0.0, -1], "min_lr must be >= 0, got -1"),
    ]:
        with pytest.raises(ValueError, match=f"ReduceLROnPlateau: {re.escape(message)}"):
            optim.ReduceLROnPlateau(_two_group_sgd(), **{bad: value})
    with pytest.raises(TypeError, match="ReduceLROnPlateau: patience must be a whole number"):
        optim.ReduceLROnPlateau(opt, patience="3")
    assert optim.ReduceLROnPlateau(opt, patience=2.0, cooldown=0, factor=0.0).patience == 2
    with pytest.raises(ValueError, match="expected 2 min_lrs, one per param group, got 1"):
        optim.ReduceLROnPlateau(_two_group_sgd(), min_lr=[0.1])
    # a group added after the schedule began is reduced too (a min_lr list must grow first)
    for min_lr in (0.0, [0.0, 0.0]):
        opt = _two_group_sgd()
        sched = optim.ReduceLROnPlateau(opt, patience=0, min_lr=min_lr)
        opt.add_param_group({"params": [nn.Linear(1, 1).weight], "lr": 0.5})
        sched.step(1.0)
        if isinstance(min_lr, list):
            with pytest.raises(RuntimeError, match="3 param groups, 2 when the schedule began"):
                sched.step(2.0)
            sched.min_lrs.append(0.0)
        sched.step(2.0)
        assert sched.get_last_lr() == pytest.approx([0.03, 0.002, 0.05])


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"mode": "max", "factor": 0.5, "patience": 1, "threshold_mode": "abs", "threshold": 0.01},
        {"factor": 0.3, "patience": 0, "cooldown": 2, "min_lr": [0.01, 0.001]},
    ],
)
def test_reduce_lr_on_plateau_matches_torch(options):
    torch = pytest.importorskip("torch")
    opt = _two_group_sgd()
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([{"params": [a], "lr": 0.3}, {"params": [b]}], lr=0.02)
    sched = optim.ReduceLROnPlateau(opt, **options)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(ref_opt, **options)
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 10), 0.5 + 0.01 * rng.standard_normal(50)])
    for epoch, metric in enumerate(metrics):
        sched.step(float(metric))
        ref.step(float(metric))
        assert sched.get_last_lr() == ref.get_last_lr(), epoch
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in ref_opt.param_groups]
        assert (sched.best, sched.num_bad_epochs) == (ref.best, ref.num_bad_epochs)
    assert min(sched.get_last_lr()) < 0.02  # it did reduce


def test_reduce_lr_on_plateau_resumes_from_a_file(tmp_path):
    """Its best metric, bad-epoch and cooldown counts come back from an .npz file: the
    resumed schedule reduces at the same epochs as one that never stopped."""
    opt = _two_group_sgd()
    sched = optim.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=2, cooldown=1)
    metrics = [1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3]
    for metric in metrics[:5]:
        sched.step(metric)
    tc.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "c.npz")
    state = tc.load(tmp_path / "c.npz")
    opt2 = _two_group_sgd((1.0, 1.0))
    opt2.load_state_dict(state["opt"])
    sched2 = optim.ReduceLROnPlateau(opt2)  # the saved options replace these
    sched2.load_state_dict(state["sched"])
    assert (sched2.mode, sched2.factor, sched2.patience, sched2.best) == ("max", 0.5, 2, 2.0)
    assert sched2.get_last_lr() == sched.get_last_lr()
    for metric in metrics[5:]:
        sched.step(metric)
        sched2.step(metric)
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    assert sched.get_last_lr() == [0.3 * 0.5**3, 0.02 * 0.5**3]
    with pytest.raises(ValueError, match="the state has no"):
        sched2.load_state_dict({"mode": "min"})


def test_amsgrad_divides_by_the_largest_second_moment():
    """A large gradient then small ones: plain Adam's v shrinks back and its steps grow again;
    amsgrad keeps the largest v ('max_exp_avg_sq', saved with the state) and its step is the
    docstring's, m_hat / (sqrt(vmax / (1 - beta2^t)) + eps) times lr."""
    steps = {}
    for amsgrad in (False, True):
        p = tc.tensor(np.zeros(3), requires_grad=True)
        opt = optim.Adam([p], lr=0.1, betas=(0.5, 0.5), amsgrad=amsgrad)
        assert opt.param_groups[0]["amsgrad"] is amsgrad
        m = v = vmax = 0.0
        for t, g in enumerate([10.0, 0.1, 0.1, 0.1], 1):
            before = p.numpy().copy()
            p.grad = np.full(3, g)
            opt.step()
            m, v = 0.5 * m + 0.5 * g, 0.5 * v + 0.5 * g * g
            vmax = max(vmax, v)
            second = vmax if amsgrad else v
            want = 0.1 * (m / (1 - 0.5**t)) / (math.sqrt(second / (1 - 0.5**t)) + 1e-8)
            np.testing.assert_allclose(before - p.numpy(), want, rtol=1e-12)
        steps[amsgrad] = want
        state = opt.state_dict()
        assert ("state.0.max_exp_avg_sq" in state) is amsgrad
        if amsgrad:
            np.testing.assert_allclose(state["state.0.max_exp_avg_sq"], 0.5 * 10.0**2)
            assert state["group.0.amsgrad"] is True
    assert steps[True] < steps[False] / 2  # vmax remembers the large gradient


def test_amsgrad_turned_on_later_and_its_errors():
    """amsgrad switched on through param_groups mid-run starts its maximum from then (PyTorch
    has no state for it and fails); a state saved without amsgrad loads into one with it;
    anything but True or False is refused."""
    p = tc.tensor(np.zeros(2), requires_grad=True)
    opt = optim.AdamW([p], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    opt.step()
    np.testing.assert_allclose(opt.state[0]["max_exp_avg_sq"], opt.state[0]["exp_avg_sq"])
    fresh = optim.AdamW([tc.tensor(np.zeros(2), requires_grad=True)], amsgrad=True)
    state = optim.AdamW([p], lr=0.1).state_dict()
    del state["group.0.amsgrad"]  # as saved before amsgrad
    fresh.load_state_dict(state)
    assert fresh.param_groups[0]["amsgrad"] is True
    with pytest.raises(TypeError, match="Adam param group 0: amsgrad must be True or False"):
        optim.Adam([{"params": [p], "amsgrad": "yes"}])
    with pytest.raises(TypeError, match="amsgrad must be True or False, got 1"):
        optim.Adam([p], amsgrad=1)


def test_resuming_a_schedule_on_an_optimizer_loaded_from_a_file(tmp_path):
    """PyTorch's way to go on after epoch n from a checkpoint: load the optimizer's state,
    then build the schedule with last_epoch=n. The optimizer's state_dict keeps each group's
    'initial_lr' for that, as PyTorch's does (without it the schedule refused to resume), and
    the schedule goes on with the lrs of a run that never stopped."""
    opt = _two_group_sgd()
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(8):
        lrs.append(sched.get_last_lr())
        sched.step()
    tc.save({"optimizer": opt.state_dict(), "epoch": 7}, tmp_path / "ckpt.npz")
    saved = tc.load(tmp_path / "ckpt.npz")
    assert float(saved["optimizer"]["group.1.initial_lr"]) == 0.02
    again = _two_group_sgd((1.0, 1.0))
    again.load_state_dict(saved["optimizer"])
    assert [g["initial_lr"] for g in again.param_groups] == [0.3, 0.02]
    resumed = optim.StepLR(again, step_size=2, gamma=0.5, last_epoch=3)
    assert resumed.get_last_lr() == lrs[4]
    # a state saved with no schedule has no 'initial_lr', and loading it adds none
    plain = _two_group_sgd()
    assert not any(k.endswith("initial_lr") for k in plain.state_dict())
    other = _two_group_sgd()
    other.load_state_dict(plain.state_dict())
    assert all("initial_lr" not in g for g in other.param_groups)


def test_adagrad_state_is_pytorchs_and_starts_at_the_initial_accumulator():
    """'step' and 'sum' as torch names them; the sum starts at initial_accumulator_value, so
    the first step of a gradient g is lr g / (sqrt(v0 + g^2) + eps)."""
    p = nn.Parameter(np.zeros(3))
    p.grad = np.array([1.0, -2.0, 0.5])
    opt = optim.Adagrad([p], lr=0.1, initial_accumulator_value=0.5)
    opt.step()
    np.testing.assert_allclose(p.numpy(), -0.1 * p.grad / (np.sqrt(0.5 + p.grad**2) + 1e-10))
    state = opt.state_dict()
    assert state["state.0.step"] == 1
    np.testing.assert_allclose(state["state.0.sum"], 0.5 + p.grad**2)
    assert {k for k in state if k.startswith("group.0.")} == {
        f"group.0.{k}"
        for k in ("params", "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    }
    torch = pytest.importorskip("torch")
    q = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.Adagrad([q], lr=0.1, initial_accumulator_value=0.5)
    q.grad = torch.from_numpy(p.grad.copy())
    ref.step()
    assert set(ref.state[q]) == {"step", "sum"}
    np.testing.assert_allclose(ref.state[q]["sum"].numpy(), state["state.0.sum"], rtol=1e-15)


def test_adagrad_groups_start_their_sums_at_their_own_initial_accumulator():
    """A group's own initial_accumulator_value starts its sums (PyTorch's fills every sum from
    the constructor's value, so there a group's own is ignored)."""
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt = optim.Adagrad(
        [{"params": [a]}, {"params": [b], "initial_accumulator_value": 3.0}],
        initial_accumulator_value=0.0,
    )
    opt.step()
    np.testing.assert_array_equal(opt.state[0]["sum"], [1.0, 1.0])
    np.testing.assert_array_equal(opt.state[1]["sum"], [4.0, 4.0])


ONE_CYCLE_CASES = {  # name: (optimizer, its options, the schedule's options), each as torch's
    "sgd-momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}, {"max_lr": 0.1, "total_steps": 20}),
    "adam-linear-three-phase": (
        "Adam",
        {"lr": 0.01},
        {
            **{"max_lr": 0.3, "epochs": 3, "steps_per_epoch": 7, "pct_start": 0.25},
            **{"anneal_strategy": "linear", "three_phase": True, "div_factor": 10.0},
            "final_div_factor": 100.0,
        },
    ),
    "sgd-no-momentum-cycle": (
        "SGD",
        {"lr": 0.1},
        {"max_lr": 0.5, "total_steps": 13, "cycle_momentum": False, "pct_start": 0.5},
    ),
    "adagrad": ("Adagrad", {}, {"max_lr": 0.05, "total_steps": 10, "cycle_momentum": False}),
}


def _one_cycle_optimizer(case, torch=None, groups=2):
    """(optimizer, the lr_scheduler module, the case's schedule) of ONE_CYCLE_CASES[case]: the
    optimizer over ``groups`` param groups of one zero vector each (in torch.optim with
    ``torch``)."""
    name, options, schedule = ONE_CYCLE_CASES[case]
    if torch is None:
        module, lr_scheduler = optim, optim
        params = [[nn.Parameter(np.zeros(2))] for _ in range(groups)]
    else:
        module, lr_scheduler = torch.optim, torch.optim.lr_scheduler
        params = [[torch.zeros(2, dtype=torch.float64, requires_grad=True)] for _ in range(groups)]
    return getattr(module, name)([{"params": p} for p in params], **options), lr_scheduler, schedule


def _one_cycle(case, torch=None, groups=2):
    """ONE_CYCLE_CASES[case]: an optimizer over ``groups`` param groups (in torch.optim with
    ``torch``), the second's max_lr twice the first's, and its OneCycleLR."""
    opt, lr_scheduler, schedule = _one_cycle_optimizer(case, torch, groups)
    schedule = {**schedule, "max_lr": [schedule["max_lr"] * (k + 1) for k in range(groups)]}
    return opt, lr_scheduler.OneCycleLR(opt, **schedule)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


@pytest.mark.parametrize("case", list(ONE_CYCLE_CASES))
def test_one_cycle_matches_torch(case):
    """Each group's lr (and momentum, or Adam's beta1, when cycled) at every step up to
    total_steps equals torch's to the last bit; one step more is refused by both."""
    torch = pytest.importorskip("torch")
    opt, sched = _one_cycle(case)
    ref_opt, ref = _one_cycle(case, torch)
    assert sched.total_steps == ref.total_steps
    for step in range(sched.total_steps + 1):
        assert sched.get_last_lr() == ref.get_last_lr(), step
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in ref_opt.param_groups]
        if ONE_CYCLE_CASES[case][0] != "Adagrad":
            assert _momenta(opt) == _momenta(ref_opt), step
        if step < sched.total_steps:
            opt.step()
            ref_opt.step()
            sched.step()
            ref.step()
    with pytest.raises(ValueError, match=f"step {sched.total_steps + 1} times"):
        ref.step()
    with pytest.raises(
        ValueError, match=f"step {sched.total_steps + 1} times.*total_steps={sched.total_steps}"
    ):
        sched.step()
    assert sched.last_epoch == sched.total_steps  # the refused step is not counted


def test_one_cycle_follows_its_formula():
    """Two phases: from max_lr / 25 up to max_lr at step pct_start * total - 1 by a half
    cosine, then down to max_lr / (25 * 1e4) at the last step; the momentum the other way
    (0.95 to 0.85 and back). Three phases (linear): up, back down to the start over as many
    steps, then to the end; no PyTorch needed."""

    def cos(a, b, pct):
        return b + (a - b) * (1 + math.cos(math.pi * pct)) / 2

    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    sched = optim.OneCycleLR(opt, max_lr=0.2, total_steps=20)
    lo, end = 0.2 / 25, 0.2 / 25 / 1e4
    for step in range(21):
        pct = step / 5 if step <= 5 else (step - 5) / 14
        lr = cos(lo, 0.2, pct) if step <= 5 else cos(0.2, end, pct)
        m = cos(0.95, 0.85, pct) if step <= 5 else cos(0.85, 0.95, pct)
        assert opt.lr == pytest.approx(lr, rel=1e-12), step
        assert opt.param_groups[0]["momentum"] == pytest.approx(m, rel=1e-12), step
        if step < 20:
            sched.step()
    opt = optim.Adagrad([nn.Parameter(np.zeros(1))])
    sched = optim.OneCycleLR(
        opt, 1.0, 10, pct_start=0.3, anneal_strategy="linear", cycle_momentum=False
    )
    three = optim.OneCycleLR(
        optim.Adagrad([nn.Parameter(np.zeros(1))]),
        1.0,
        10,
        pct_start=0.3,
        anneal_strategy="linear",
        cycle_momentum=False,
        three_phase=True,
    )
    lrs, lrs3 = [], []
    for _ in range(10):
        lrs.append(sched.get_last_lr()[0])
        lrs3.append(three.get_last_lr()[0])
        sched.step()
        three.step()
    np.testing.assert_allclose(lrs[:3], np.linspace(0.04, 1.0, 3), rtol=1e-12)
    np.testing.assert_allclose(lrs[2:], np.linspace(1.0, 4e-6, 8), rtol=1e-10)
    np.testing.assert_allclose(lrs3[:5], [0.04, 0.52, 1.0, 0.52, 0.04], rtol=1e-12)
    np.testing.assert_allclose(lrs3[4:], np.linspace(0.04, 4e-6, 6), rtol=1e-10)


def test_one_cycle_resumes_from_a_file(tmp_path):
    """Seven steps, the optimizer's and the schedule's state saved and loaded into new ones
    built alike, then the rest: the same lrs and momenta as an uninterrupted run."""
    opt, sched = _one_cycle("sgd-momentum")
    straight = []
    for _ in range(20):
        sched.step()
        straight.append((sched.get_last_lr(), _momenta(opt)))
    opt, sched = _one_cycle("sgd-momentum")
    for _ in range(7):
        sched.step()
    tc.save(opt.state_dict(), tmp_path / "opt.npz")
    tc.save(sched.state_dict(), tmp_path / "sched.npz")
    opt2, sched2 = _one_cycle("sgd-momentum")
    opt2.load_state_dict(tc.load(tmp_path / "opt.npz"))
    sched2.load_state_dict(tc.load(tmp_path / "sched.npz"))
    assert (sched2.get_last_lr(), _momenta(opt2)) == straight[6]
    for k in range(7, 20):
        sched2.step()
        assert (sched2.get_last_lr(), _momenta(opt2)) == straight[k], k
    with pytest.raises(ValueError, match="tried to step 21 times"):
        sched2.step()


def _one_cycle_resumed(case, saved, last_epoch, torch=None, groups=2):
    """ONE_CYCLE_CASES[case]'s optimizer built afresh, ``saved`` (its state dict) loaded, and a
    OneCycleLR built on it with ``last_epoch``, given other max_lr, div_factor,
    final_div_factor and momenta than the run's (the phases' arguments as the run's)."""
    opt, lr_scheduler, schedule = _one_cycle_optimizer(case, torch, groups)
    opt.load_state_dict(saved)
    other = {"max_lr": [7.0] * groups, "div_factor": 3.0, "final_div_factor": 5.0}
    other |= {"base_momentum": 0.1, "max_momentum": 0.2}
    return opt, lr_scheduler.OneCycleLR(opt, **{**schedule, **other}, last_epoch=last_epoch)


@pytest.mark.parametrize("case", ["sgd-momentum", "adam-linear-three-phase", "adagrad"])
def test_one_cycle_resumed_with_last_epoch_reads_the_optimizers_groups(case, tmp_path):
    """OneCycleLR(opt, ..., last_epoch=n) on an optimizer loaded from a file goes on with the
    saved run's max_lr, last lr and momenta, which the optimizer's groups hold ('max_lr',
    'min_lr', 'max_momentum', 'base_momentum', beside 'initial_lr'), as PyTorch's: it took
    max_lr, div_factor, final_div_factor and the momenta from its arguments, so a resumed run
    given others (or the lr finder's new max_lr) left the run's schedule. The lrs and momenta
    are an uninterrupted run's at every step, and torch's over the same save/load/resume."""
    opt, sched = _one_cycle(case)
    straight = []
    for _ in range(sched.total_steps):
        sched.step()
        straight.append((sched.get_last_lr(), _momenta(opt)))
    opt, sched = _one_cycle(case)
    for _ in range(7):
        sched.step()
    tc.save(opt.state_dict(), tmp_path / "opt.npz")
    opt2, sched2 = _one_cycle_resumed(case, tc.load(tmp_path / "opt.npz"), 6)
    assert sched2.last_epoch == 7 and sched2.max_lrs == sched.max_lrs
    assert (sched2.get_last_lr(), _momenta(opt2)) == straight[6]
    for k in range(7, sched.total_steps):
        sched2.step()
        assert (sched2.get_last_lr(), _momenta(opt2)) == straight[k], k
    with pytest.raises(KeyError, match=r"param 'max_lr' is not specified in param_groups\[0\]"):
        fresh = optim.SGD([{"params": [nn.Parameter(np.zeros(1))], "initial_lr": 0.1}])
        optim.OneCycleLR(fresh, 0.1, 20, last_epoch=3)
    torch = pytest.importorskip("torch")
    ref_opt, ref = _one_cycle(case, torch)
    for _ in range(7):
        ref_opt.step()
        ref.step()
    ref_opt2, ref2 = _one_cycle_resumed(case, copy.deepcopy(ref_opt.state_dict()), 6, torch)
    opt2, sched2 = _one_cycle_resumed(case, tc.load(tmp_path / "opt.npz"), 6)
    for k in range(7, sched.total_steps + 1):
        assert sched2.get_last_lr() == ref2.get_last_lr(), k
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in ref_opt2.param_groups]
        if case != "adagrad":
            assert _momenta(opt2) == _momenta(ref_opt2), k
        for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            ours = [g.get(key) for g in opt2.param_groups]
            assert ours == [g.get(key) for g in ref_opt2.param_groups], (k, key)
        if k < sched.total_steps:
            opt2.step()
            ref_opt2.step()
            sched2.step()
            ref2.step()


def test_one_cycle_errors():
    p = nn.Parameter(np.zeros(1))
    with pytest.raises(ValueError, match="give total_steps .*or epochs and steps_per_epoch"):
        optim.OneCycleLR(optim.SGD([p]), max_lr=0.1, epochs=3)
    with pytest.raises(ValueError, match="total_steps must be a positive whole number, got 0"):
        optim.OneCycleLR(optim.SGD([p]), max_lr=0.1, total_steps=0)
    with pytest.raises(ValueError, match="Adagrad has neither; pass cycle_momentum=False"):
        optim.OneCycleLR(optim.Adagrad([p]), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        optim.OneCycleLR(optim.SGD([p]), 0.1, 10, anneal_strategy="cosine")
    with pytest.raises(ValueError, match="pct_start must be a number in"):
        optim.OneCycleLR(optim.SGD([p]), 0.1, 10, pct_start=1.5)
    with pytest.raises(ValueError, match="expected 1 values for max_lr"):
        optim.OneCycleLR(optim.SGD([p]), [0.1, 0.2], 10)


# ----------------------------------------------------------------------- review fixes (s18)


def test_stepping_a_schedule_after_another_was_built_on_its_optimizer_is_refused():
    """PyTorch's docs chain ExponentialLR and MultiStepLR on one optimizer, both stepped, and
    their factors multiply; tinycolor's closed-form schedules each set the lr from their own
    formula, so the one stepped last silently won. Stepping the older one is now refused,
    saying how to combine them; one schedule after another (a warm-up, then a cosine) and a
    schedule rebuilt to resume still work, and the LambdaLR the message suggests gives
    PyTorch's chained lrs."""
    opt = _two_group_sgd((1.0, 0.1))
    s1 = optim.ExponentialLR(opt, gamma=0.9)
    s2 = optim.MultiStepLR(opt, milestones=[3, 6], gamma=0.1)
    with pytest.raises(
        RuntimeError,
        match=r"ExponentialLR.step: its optimizer has a newer schedule, a MultiStepLR built "
        r"after this ExponentialLR; tinycolor's schedules .* do not chain as PyTorch's do.*"
        r"one LambdaLR whose function is the product of their factors.*no SequentialLR",
    ):
        s1.step()
    assert s1.last_epoch == 0 and [g["lr"] for g in opt.param_groups] == [1.0, 0.1]
    s2.step()  # the newest steps
    assert s2.last_epoch == 1
    # a warm-up, then a cosine built on the same optimizer when it ends: from the lr it finds
    opt = _two_group_sgd((1.0, 0.1))
    warm = optim.LambdaLR(opt, lambda e: min(1.0, (e + 1) / 3))
    for _ in range(2):
        warm.step()
    cosine = optim.CosineAnnealingLR(opt, T_max=4)
    assert cosine.base_lrs == [1.0, 0.1]
    for _ in range(4):
        cosine.step()
    assert cosine.get_last_lr() == pytest.approx([0.0, 0.0], abs=1e-15)
    # a schedule rebuilt with last_epoch=n on the same optimizer (to resume) steps
    again = optim.CosineAnnealingLR(opt, T_max=4, last_epoch=1)
    again.step()
    with pytest.raises(RuntimeError, match="CosineAnnealingLR.step: its optimizer has a newer"):
        cosine.step()
    # ReduceLROnPlateau is refused too, either way round
    plateau = optim.ReduceLROnPlateau(opt)
    with pytest.raises(RuntimeError, match="a newer schedule, a ReduceLROnPlateau.*use one"):
        again.step()
    plateau.step(1.0)
    optim.StepLR(opt, step_size=2)
    with pytest.raises(RuntimeError, match="ReduceLROnPlateau.step: its optimizer has a newer"):
        plateau.step(1.0)
    # the LambdaLR the message suggests is PyTorch's chained ExponentialLR and MultiStepLR
    import bisect

    opt = _two_group_sgd((1.0, 0.1))
    product = optim.LambdaLR(opt, lambda e: 0.9**e * 0.1 ** bisect.bisect_right([3, 6], e))
    torch = pytest.importorskip("torch")
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b]}], lr=0.1)
    t1 = torch.optim.lr_scheduler.ExponentialLR(ref_opt, gamma=0.9)
    t2 = torch.optim.lr_scheduler.MultiStepLR(ref_opt, milestones=[3, 6], gamma=0.1)
    for epoch in range(9):
        want = [g["lr"] for g in ref_opt.param_groups]
        np.testing.assert_allclose(product.get_last_lr(), want, rtol=1e-12, err_msg=str(epoch))
        ref_opt.step()
        t1.step()
        t2.step()
        product.step()


def test_a_new_schedule_begins_from_the_lr_it_finds_where_pytorchs_keeps_initial_lr():
    """The docstring's claim (corrected: it called this PyTorch's behaviour): a schedule built
    with last_epoch=-1 takes the groups' lrs as its base lrs and replaces their 'initial_lr';
    PyTorch's keeps an 'initial_lr' already there (setdefault) and begins from it."""
    assert "setdefault" in optim.LRScheduler.__doc__
    a = nn.Linear(1, 1).weight
    opt = optim.SGD([{"params": [a], "lr": 0.01, "initial_lr": 0.1}])
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    assert sched.base_lrs == [0.01] and opt.param_groups[0]["initial_lr"] == 0.01
    torch = pytest.importorskip("torch")
    t = torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([{"params": [t], "lr": 0.01, "initial_lr": 0.1}])
    assert torch.optim.lr_scheduler.StepLR(ref_opt, step_size=2).base_lrs == [0.1]


@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
def test_adam_on_float16_parameters_does_not_overflow(cls):
    """The update was m / ((sqrt(v) + eps c) / scale), and sqrt(v) / scale (about sqrt(v) /
    lr) overflowed float16 from |g| ~ 65 at lr 1e-3: the step became m / inf = 0, with an
    overflow warning. m is now divided first, then scaled, as PyTorch's."""

    def run(dtype):
        p = tc.tensor(np.zeros(3, dtype), requires_grad=True)
        opt = getattr(optim, cls)([p], lr=1e-3, eps=1e-4, weight_decay=0.0)
        for _ in range(3):
            p.grad = np.array([0.5, 80.0, 300.0], dtype)
            opt.step()
        return p.data

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        half = run(np.float16)
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.astype(np.float64), run(np.float64), rtol=2e-3)


def test_cosine_t_max_need_not_be_whole_but_step_size_and_milestones_must_be():
    """CosineAnnealingLR(T_max=2.5) ran with int(2.5) = 2; it keeps 2.5, as PyTorch's.
    StepLR(step_size=2.5) and MultiStepLR(milestones=[2.5]) were truncated too: refused now,
    as are strings."""
    opt = _two_group_sgd((1.0, 0.1))
    sched = optim.CosineAnnealingLR(opt, T_max=2.5)
    lrs = []
    for _ in range(5):
        lrs.append(sched.get_last_lr()[0])
        sched.step()
    want = [(1 + math.cos(math.pi * e / 2.5)) / 2 for e in range(5)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    assert optim.StepLR(_two_group_sgd(), step_size=3.0).step_size == 3  # whole: fine
    for build, error, message in [
        (lambda o: optim.StepLR(o, 2.5), ValueError, "StepLR: step_size must be a whole number "
         "of epochs, got 2.5"),
        (lambda o: optim.StepLR(o, "3"), TypeError, "StepLR: step_size must be a whole number "
         "of epochs, got '3'"),
        (lambda o: optim.StepLR(o, 0), ValueError, "StepLR: step_size must be >= 1, got 0"),
        (lambda o: optim.MultiStepLR(o, [2, 2.5]), ValueError, "MultiStepLR: each milestone "
         "must be a whole number of epochs, got 2.5"),
        (lambda o: optim.MultiStepLR(o, ["3"]), TypeError, "each milestone must be a whole"),
        (lambda o: optim.MultiStepLR(o, "35"), TypeError, "milestones must be a list of epochs"),
        (lambda o: optim.CosineAnnealingLR(o, "10"), TypeError, "CosineAnnealingLR: T_max must "
         "be a number of epochs, got '10'"),
        (lambda o: optim.CosineAnnealingLR(o, 0), ValueError, "T_max must be > 0"),
        (lambda o: optim.CosineAnnealingLR(o, 5, eta_min="0"), TypeError, "eta_min must be a "
         "number"),
    ]:  # fmt: skip
        with pytest.raises(error, match=re.escape(message)):
            build(_two_group_sgd())
    torch = pytest.importorskip("torch")
    t = torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([t], lr=1.0)
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, T_max=2.5)
    got = []
    for _ in range(5):
        got.append(ref.get_last_lr()[0])
        ref_opt.step()
        ref.step()
    np.testing.assert_allclose(lrs, got, rtol=1e-12)


SETTINGS_CASES = {  # name: (tinycolor's, PyTorch's (args, kwargs), other arguments)
    "step": ("StepLR", {"step_size": 3, "gamma": 0.5}, {"step_size": 1, "gamma": 0.9}),
    "multistep": (
        "MultiStepLR",
        {"milestones": [2, 5, 5], "gamma": 0.3},
        {"milestones": [1], "gamma": 0.9},
    ),
    "exponential": ("ExponentialLR", {"gamma": 0.8}, {"gamma": 0.5}),
    "cosine": ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}, {"T_max": 20, "eta_min": 0}),
}


@pytest.mark.parametrize("case", sorted(SETTINGS_CASES))
def test_a_schedules_state_holds_its_settings_and_loading_puts_them_back(case, tmp_path):
    """A schedule's state_dict was its base lrs and epoch only: one loaded into a schedule
    built with other arguments went on with those. It holds the settings now, under
    PyTorch's names, and load_state_dict puts them back (through a file too), as PyTorch's
    does and as OneCycleLR's total_steps and ReduceLROnPlateau's settings were; a state
    saved without them keeps the schedule's own."""
    name, settings, other = SETTINGS_CASES[case]
    opt = _two_group_sgd()
    sched = getattr(optim, name)(opt, **settings)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert {k: state[k] for k in settings} == settings
    tc.save({"sched": state}, tmp_path / "s.npz")
    opt2 = _two_group_sgd((1.0, 1.0))
    sched2 = getattr(optim, name)(opt2, **other)
    sched2.load_state_dict(tc.load(tmp_path / "s.npz")["sched"])
    assert {k: getattr(sched2, k) for k in settings} == settings
    for _ in range(6):
        assert sched2.get_last_lr() == sched.get_last_lr()
        sched.step()
        sched2.step()
    old = {"base_lrs": state["base_lrs"], "last_epoch": state["last_epoch"]}  # saved before
    sched3 = getattr(optim, name)(_two_group_sgd(), **other)
    sched3.load_state_dict(old)
    assert {k: getattr(sched3, k) for k in other} == other
    torch = pytest.importorskip("torch")
    t = torch.zeros(1, requires_grad=True)
    ref = getattr(torch.optim.lr_scheduler, name)(torch.optim.SGD([t], lr=0.3), **settings)
    ref_state = ref.state_dict()
    for k, v in settings.items():
        assert (dict(ref_state[k]) if k == "milestones" else ref_state[k]) == (
            dict(collections.Counter(v)) if k == "milestones" else v
        )


def test_loading_bad_schedule_settings_is_refused():
    sched = optim.StepLR(_two_group_sgd(), step_size=2)
    state = sched.state_dict()
    with pytest.raises(ValueError, match="StepLR.load_state_dict: step_size must be a whole"):
        sched.load_state_dict({**state, "step_size": np.array(2.5), "last_epoch": 7})
    assert sched.step_size == 2 and sched.last_epoch == 0  # nothing changed
    with pytest.raises(KeyError, match="the state has no 'base_lrs'; expected a schedule's"):
        sched.load_state_dict({"last_epoch": 3})


def test_sgd_and_rmsprop_flags_and_dampening_are_checked():
    """nesterov='no' and centered='False' were taken as True (bool of a string), where Adam's
    amsgrad='no' was refused; dampening was not checked, so a string failed at the second
    step."""
    params = list(_problem()[2].parameters())
    with pytest.raises(TypeError, match="SGD: nesterov must be True or False, got 'no'"):
        optim.SGD(params, lr=0.1, momentum=0.9, nesterov="no")
    with pytest.raises(TypeError, match="RMSprop: centered must be True or False, got 'False'"):
        optim.RMSprop(params, centered="False")
    with pytest.raises(TypeError, match="SGD: dampening must be a number, got '0.1'"):
        optim.SGD(params, lr=0.1, momentum=0.9, dampening="0.1")
    for bad in (-0.5, 1.5):
        with pytest.raises(ValueError, match=f"dampening must be .*got {bad}"):
            optim.SGD(params, lr=0.1, momentum=0.9, dampening=bad)
    with pytest.raises(TypeError, match="SGD param group 1: nesterov must be True or False"):
        optim.SGD([{"params": params[:2]}, {"params": params[2:], "nesterov": 1}], momentum=0.9)
    assert optim.SGD(params, momentum=0.9, nesterov=np.bool_(True)).nesterov is True


def test_a_tensor_as_grad_is_refused_before_anything_moves():
    """``p.grad = t`` (a Tensor, torch's idiom) failed inside the update with 'Tensor' object
    has no attribute 'copy' (SGD) or 'return arrays must be of ArrayType' (Adam). .grad holds
    an array, as backward leaves it: the step says so, and moves no parameter."""
    a = tc.tensor(np.zeros(2), requires_grad=True)
    b = tc.tensor(np.zeros(2), requires_grad=True)
    for cls in (optim.SGD, optim.Adam):
        opt = cls([a, b], lr=0.1)
        a.grad, b.grad = np.ones(2), tc.tensor(np.ones(2))
        with pytest.raises(TypeError, match=r"step: parameter 1's .grad is a Tensor; .grad holds"):
            opt.step()
        assert not a.data.any() and opt.state == [{}, {}]


def test_step_takes_a_closure_as_pytorchs():
    """opt.step(closure) was a TypeError; as PyTorch's it calls the closure (with gradients
    recorded, inside no_grad too), steps, and returns the closure's loss."""
    x, y, model = _problem()
    start = model.state_dict()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    calls = []

    def closure():
        calls.append(tc.is_grad_enabled())
        opt.zero_grad()
        loss = _loss(model, tc.tensor(x), tc.tensor(y))
        loss.backward()
        return loss

    losses = []
    for _ in range(3):
        with tc.no_grad():
            losses.append(opt.step(closure).item())
    assert calls == [True, True, True]
    assert opt.step() is None
    with pytest.raises(TypeError, match="SGD.step: closure must be a function"):
        opt.step(0.1)
    torch = pytest.importorskip("torch")
    _, _, fresh = _problem()
    fresh.load_state_dict(start)
    ref = _torch_twin(torch, fresh)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)

    def ref_closure():
        ref_opt.zero_grad()
        loss = ((ref(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()
        loss.backward()
        return loss

    want = [ref_opt.step(ref_closure).item() for _ in range(3)]
    np.testing.assert_allclose(losses, want, rtol=1e-12)


def test_ema_of_parameters_instead_of_the_model_is_refused():
    model = _problem()[2]
    with pytest.raises(TypeError, match=r"expected the model itself .*got a generator.*not "
                       r"model.parameters\(\)"):  # fmt: skip
        optim.ExponentialMovingAverage(model.parameters())


def test_loading_another_kind_of_dict_into_an_optimizer_says_what_it_expects():
    model = _problem()[2]
    opt = optim.Adam(model.parameters())
    with pytest.raises(
        ValueError,
        match=r"unexpected key '0.weight'; expected an optimizer's state_dict\(\), "
        r"Adam.state_dict\(\)'s \(flat keys 'group.K.<option>' and 'state.I.<state name>'\)",
    ):
        opt.load_state_dict(model.state_dict())
    torchlike = {"state": {}, "param_groups": [{"lr": 0.001, "params": [0, 1, 2, 3]}]}
    with pytest.raises(ValueError, match="this is PyTorch's optimizer state_dict"):
        opt.load_state_dict(torchlike)
    with pytest.raises(ValueError, match="'group.0.momentum': Adam's options are lr, betas"):
        opt.load_state_dict({**opt.state_dict(), "group.0.momentum": 0.9})
    with pytest.raises(ValueError, match="'state.0.sum': Adam keeps the state step, exp_avg"):
        opt.load_state_dict({**opt.state_dict(), "state.0.sum": np.zeros(1)})


def test_one_cycle_checks_last_epoch_first():
    """OneCycleLR(last_epoch=-2) said the groups had no 'max_lr' for a resume; it says what
    StepLR says now."""
    p = nn.Parameter(np.zeros(1))
    with pytest.raises(ValueError, match=r"OneCycleLR: last_epoch must be -1 .* got -2"):
        optim.OneCycleLR(optim.SGD([p]), max_lr=0.1, total_steps=10, last_epoch=-2)
    with pytest.raises(TypeError, match="OneCycleLR: last_epoch must be an int, got 1.5"):
        optim.OneCycleLR(optim.SGD([p]), max_lr=0.1, total_steps=10, last_epoch=1.5)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR"])
def test_schedule_gamma_is_checked(name):
    """StepLR(gamma=None) failed with a raw TypeError at construction, ExponentialLR(gamma=
    '0.9') at its first step."""
    first = {"StepLR": (2,), "MultiStepLR": ([2],), "ExponentialLR": ()}[name]
    for bad, error, message in [
        (None, TypeError, "gamma must be a number, got None"),
        ("0.9", TypeError, "gamma must be a number, got '0.9'"),
        (-0.5, ValueError, "gamma must be >= 0, got -0.5"),
    ]:
        with pytest.raises(error, match=f"{name}: {message}"):
            getattr(optim, name)(_two_group_sgd(), *first, gamma=bad)
