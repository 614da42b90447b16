"""Helpers for training loops, as ``torch.nn.utils``: gradient clipping by norm or by value,
and spectral normalisation of a layer's weight."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Tensor
from .module import Module, Parameter

__all__ = ["clip_grad_norm_", "clip_grad_value_", "remove_spectral_norm", "spectral_norm"]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0) -> Tensor:
    """Scale the gradients of ``parameters`` (a Tensor or an iterable of them; those without a
    gradient are skipped) in place so that their joint ``norm_type``-norm, taken over all of
    them as one vector, is at most ``max_norm``; returns that norm before clipping.

    As ``torch.nn.utils.clip_grad_norm_``: every gradient is multiplied by
    min(1, max_norm / (norm + 1e-6)), so a norm at or under ``max_norm`` leaves them (almost)
    as they are. ``norm_type`` may be ``math.inf`` (the largest absolute entry). The norm has
    the gradients' dtype and device.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type, max_norm = float(norm_type), float(max_norm)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive, got {norm_type}")
    if not grads:
        return Tensor(0.0)
    if norm_type == math.inf:
        total = max(float(abs(g).max()) for g in grads)
    else:
        total = sum(float((abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    coef = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= g.dtype.type(coef)
    return Tensor(np.asarray(total, dtype=grads[0].dtype), device=backend.device_of(grads[0]))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp each entry of the gradients of ``parameters`` (a Tensor or an iterable of them;
    those without a gradient are skipped) in place to [-clip_value, clip_value], as
    ``torch.nn.utils.clip_grad_value_``: each entry on its own, unlike ``clip_grad_norm_``,
    which scales all of them together. A NaN stays NaN; the gradients keep their dtype and
    device. Returns None.
    """
    try:
        clip_value = float(clip_value)
    except (TypeError, ValueError):
        raise TypeError(
            f"clip_grad_value_: clip_value must be a number, got {type(clip_value).__name__}"
        ) from None
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            g = p.grad
            backend.array_module(g).clip(g, -clip_value, clip_value, out=g)


# --------------------------------------------------------------------------- spectral norm


def _normalize(a, eps):
    """a / max(||a||, eps), on raw arrays, as ``F.normalize(a, dim=0, eps=eps)``."""
    xp = backend.array_module(a)
    return a / max(float(xp.linalg.norm(a)), eps)


class _SpectralNorm:
    """The forward pre-hook that ``spectral_norm`` registers: before each call it sets
    ``module.<name>`` to ``<name>_orig / sigma``, sigma the largest singular value of the
    weight (as a matrix: axis ``dim`` first, the others flattened), estimated by power
    iteration with the buffers ``<name>_u`` and ``<name>_v``:

        v = normalize(W^T u),   u = normalize(W v),   sigma = u . W v.

    In training each call first takes ``n_power_iterations`` steps of the iteration, writing
    u and v back (so the estimate improves from call to call); in evaluation u and v stay.
    The gradient flows through W in sigma, u and v being constants, as in PyTorch."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = self.matrix(weight)
        if do_power_iteration:
            w = mat.data
            for _ in range(self.n_power_iterations):
                v.data[...] = _normalize(w.T @ u.data, self.eps)
                u.data[...] = _normalize(w @ v.data, self.eps)
        u_const = Tensor(u.data.copy(), device=u.device)
        v_const = Tensor(v.data.copy(), device=v.device)
        sigma = (u_const * (mat @ v_const)).sum()
        return weight / sigma

    def __call__(self, module, args):
        object.__setattr__(module, self.name, self.compute_weight(module, module.training))


def _spectral_norm_hook(module, name):
    for key, (when, hook) in module._forward_hooks.items():
        if when == "pre" and isinstance(hook, _SpectralNorm) and hook.name == name:
            return key, hook
    return None, None


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Spectral normalisation (Miyato et al., 2018), the discriminator's constraint in SN-GAN,
    SAGAN and BigGAN, as ``torch.nn.utils.spectral_norm``: ``module.<name>`` becomes
    ``<name>_orig / sigma`` at each call, sigma the weight's largest singular value estimated
    by ``n_power_iterations`` steps of power iteration per training call (see
    ``_SpectralNorm``). The parameter is renamed ``<name>_orig`` and the buffers ``<name>_u``
    and ``<name>_v`` are added, the state_dict keys PyTorch's has, so that a PyTorch
    checkpoint loads key for key. ``dim`` is the output axis of the weight: 1 for a
    ConvTranspose (weight (in, out, ...)), else 0. Returns the module.
    """
    if isinstance(module, Module) and _spectral_norm_hook(module, name)[1] is not None:
        raise RuntimeError(
            f"spectral_norm: {type(module).__name__}.{name} is already spectrally normalised"
        )
    weight = module._parameters.get(name) if isinstance(module, Module) else None
    if not isinstance(weight, Parameter):
        raise ValueError(
            f"spectral_norm: {type(module).__name__} has no parameter named {name!r} to normalise"
        )
    if n_power_iterations < 0:
        raise ValueError(
            f"spectral_norm: n_power_iterations must be >= 0, got {n_power_iterations}"
        )
    if weight.ndim < 1:
        raise ValueError(f"spectral_norm: {name} must have at least 1 dimension")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    dim = dim % weight.ndim
    fn = _SpectralNorm(name, n_power_iterations, dim, eps)
    h, w = fn.matrix(weight).shape
    rng = backend.rng("cpu")
    u = _normalize(rng.normal(0.0, 1.0, size=h).astype(weight.dtype), eps)
    v = _normalize(rng.normal(0.0, 1.0, size=w).astype(weight.dtype), eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    object.__setattr__(module, name, Tensor(weight.data.copy(), device=weight.device))
    module.register_buffer(name + "_u", Tensor(u, device=weight.device))
    module.register_buffer(name + "_v", Tensor(v, device=weight.device))
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``spectral_norm``: ``<name>`` is a parameter again, holding ``<name>_orig / sigma``
    as the last u and v give it, and the buffers and the hook go; as PyTorch's."""
    key, fn = _spectral_norm_hook(module, name)
    if fn is None:
        raise ValueError(f"remove_spectral_norm: spectral_norm of {name!r} not found in {module}")
    weight = fn.compute_weight(module, do_power_iteration=False)
    del module._forward_hooks[key]
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_u"], module._buffers[name + "_v"]
    object.__delattr__(module, name)
    module.register_parameter(name, Parameter(weight.data, device=weight.device))
    return module
