"""nn.utils.spectral_norm, the discriminator's constraint in SN-GAN, SAGAN and BigGAN (it was
missing: GAN code that wraps each layer in it could not be translated). The weight against a
power iteration by hand and the largest singular value, gradcheck over drawn shapes, PyTorch's
state_dict keys, outputs, gradients and buffers, and remove_spectral_norm."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, given_settings

import tinycolor as tc
from tinycolor import nn
from tinycolor.backend import to_numpy


def _unit(a):
    return a / np.linalg.norm(a)


LAYERS = {  # the layer, its input's shape, the weight as (out, everything else)
    "linear": (lambda m: m.Linear(4, 6), (3, 4), lambda w: w),
    "conv2d": (lambda m: m.Conv2d(3, 5, 3), (2, 3, 6, 6), lambda w: w.reshape(5, -1)),
    "conv_transpose2d": (
        lambda m: m.ConvTranspose2d(3, 5, 3, 2, 1),
        (2, 3, 4, 4),
        lambda w: w.transpose(1, 0, 2, 3).reshape(5, -1),  # dim=1: its output axis
    ),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_the_weight_is_divided_by_a_power_iteration_estimate_of_sigma(device, name):
    """In training each call takes one step of v = W^T u / |.|, u = W v / |.| (written back
    to the buffers) and uses weight_orig / (u . W v); in evaluation u and v stay."""
    make, shape, as_matrix = LAYERS[name]
    tc.manual_seed(0)
    m = nn.utils.spectral_norm(make(nn)).double().to(device)
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    x = tc.tensor(np.random.default_rng(0).standard_normal(shape), device=device)
    w = as_matrix(m.weight_orig.numpy())
    u = m.weight_u.numpy().copy()  # numpy() is a view of the buffer, which is updated in place
    for _ in range(2):
        m(x)
        v = _unit(w.T @ u)
        u = _unit(w @ v)
        np.testing.assert_allclose(m.weight_u.numpy(), u, rtol=1e-12)
        np.testing.assert_allclose(m.weight_v.numpy(), v, rtol=1e-12)
        sigma = u @ w @ v
        np.testing.assert_allclose(as_matrix(m.weight.numpy()), w / sigma, rtol=1e-12)
        assert m.weight.device == device
    m.eval()
    m(x)
    np.testing.assert_array_equal(m.weight_u.numpy(), u)
    np.testing.assert_allclose(as_matrix(m.weight.numpy()), w / sigma, rtol=1e-12)


def test_many_iterations_give_a_weight_of_spectral_norm_one():
    tc.manual_seed(1)
    m = nn.utils.spectral_norm(nn.Linear(7, 5).double(), n_power_iterations=200)
    m(tc.zeros(1, 7, dtype=tc.float64))
    sv = np.linalg.svd(m.weight_orig.numpy(), compute_uv=False)
    np.testing.assert_allclose(np.linalg.svd(m.weight.numpy(), compute_uv=False)[0], 1.0)
    np.testing.assert_allclose(
        m.weight_u.numpy() @ m.weight_orig.numpy() @ m.weight_v.numpy(), sv[0]
    )


@given_settings
@given(
    out_features=st.integers(1, 5),
    in_features=st.integers(1, 5),
    batch=st.integers(1, 3),
    data=st.data(),
)
def test_spectral_norm_gradcheck(device, out_features, in_features, batch, data):
    """d/d(weight_orig) through sigma (u and v constants, as in PyTorch): in evaluation, where
    u and v stay put between the perturbed calls."""
    tc.manual_seed(data.draw(st.integers(0, 100)))
    m = nn.utils.spectral_norm(nn.Linear(in_features, out_features).double().to(device))
    m(tc.zeros(1, in_features, dtype=tc.float64, device=device))  # one step from the random u
    m.eval()
    x = tc.tensor(data.draw(arrays((batch, in_features))), device=device)
    m.weight_orig.data[...] = m.weight_orig.data + 0.5  # kept away from sigma = 0
    assert tc.gradcheck(lambda w: m(x), [m.weight_orig])


def test_against_torch(device):
    """A PyTorch state_dict loads key for key; two training calls and one in evaluation give
    PyTorch's outputs, weight_orig gradients and u, v; remove_spectral_norm PyTorch's weight."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for name, (make, shape, _) in sorted(LAYERS.items()):
        t = torch.nn.utils.spectral_norm(make(torch.nn).double())
        m = nn.utils.spectral_norm(make(nn).double()).to(device)
        state = {k: rng.standard_normal(tuple(v.shape)) for k, v in t.state_dict().items()}
        t.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        m.load_state_dict(state)
        x = rng.standard_normal(shape)
        for mode in ("train", "train", "eval"):
            getattr(t, mode)()
            getattr(m, mode)()
            yt, y = t(torch.from_numpy(x)), m(tc.tensor(x, device=device))
            g = rng.standard_normal(tuple(yt.shape))
            (yt * torch.from_numpy(g)).sum().backward()
            (y * tc.tensor(g, device=device)).sum().backward()
            np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(
                to_numpy(m.weight_orig.grad), t.weight_orig.grad.numpy(), rtol=1e-9, atol=1e-12
            )
            for b in ("weight_u", "weight_v"):
                np.testing.assert_allclose(getattr(m, b).numpy(), getattr(t, b).numpy(), rtol=1e-12)
        torch.nn.utils.remove_spectral_norm(t)
        nn.utils.remove_spectral_norm(m)
        assert list(m.state_dict()) == list(t.state_dict()) == ["bias", "weight"], name
        assert isinstance(m.weight, nn.Parameter) and m.weight.device == device
        np.testing.assert_allclose(m.weight.numpy(), t.weight.detach().numpy(), rtol=1e-12)


def test_an_sn_discriminator_trains_and_its_optimizer_holds_weight_orig():
    tc.manual_seed(0)
    sn = nn.utils.spectral_norm
    d = nn.Sequential(sn(nn.Conv2d(1, 4, 4, 2, 1)), nn.LeakyReLU(0.1), sn(nn.Conv2d(4, 1, 4)))
    opt = tc.optim.Adam(d.parameters(), lr=1e-3, betas=(0.0, 0.9))
    assert sum(p.nelement() for p in d.parameters()) == 4 * 16 + 4 + 64 + 1
    x = tc.randn(2, 1, 8, 8)
    before = d[0].weight_orig.numpy().copy()
    loss = nn.functional.relu(1.0 - d(x)).mean()
    loss.backward()
    opt.step()
    assert not np.array_equal(d[0].weight_orig.numpy(), before)


def test_spectral_norm_errors():
    m = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="already spectrally normalised"):
        nn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="no parameter named 'kernel'"):
        nn.utils.spectral_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))
