"""Helpers for training loops, as ``torch.nn.utils``: gradient clipping by norm or by value
(and the norm alone), the parameters as one vector and back, and spectral normalisation of a
layer's weight."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import Tensor
from .module import Module, Parameter

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "remove_spectral_norm",
    "spectral_norm",
    "vector_to_parameters",
]


def _arrays(who, tensors) -> list:
    """The arrays of ``tensors``: one Tensor or array, or an iterable of them."""
    if isinstance(tensors, Tensor) or hasattr(tensors, "shape"):
        tensors = [tensors]
    try:
        return [t.data if isinstance(t, Tensor) else t for t in tensors]
    except TypeError:
        raise TypeError(
            f"{who}: expected a Tensor or an iterable of them, got {type(tensors).__name__}"
        ) from None


def get_total_norm(
    tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """The ``norm_type``-norm of ``tensors`` (Tensors or arrays: gradients, ``p.grad``) taken
    over all of them as one vector, as ``torch.nn.utils.get_total_norm``; ``math.inf`` for
    the largest absolute entry. ``error_if_nonfinite`` raises when it is nan or inf.
    ``foreach`` is accepted and changes nothing (there is one way to compute it here)."""
    arrays = _arrays("get_total_norm", tensors)
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"get_total_norm: norm_type must be positive, got {norm_type}")
    if not arrays:
        return Tensor(0.0)
    if norm_type == math.inf:
        total = max(float(abs(g).max()) if g.size else 0.0 for g in arrays)
    else:
        total = sum(float((abs(g) ** norm_type).sum()) for g in arrays) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor(np.asarray(total, dtype=arrays[0].dtype), device=backend.device_of(arrays[0]))


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale the gradients of ``parameters`` (a Tensor or an iterable of them; those without a
    gradient are skipped) in place so that their joint ``norm_type``-norm, taken over all of
    them as one vector, is at most ``max_norm``; returns that norm before clipping.

    As ``torch.nn.utils.clip_grad_norm_``: every gradient is multiplied by
    min(1, max_norm / (norm + 1e-6)), so a norm at or under ``max_norm`` leaves them (almost)
    as they are. ``norm_type`` may be ``math.inf`` (the largest absolute entry). The norm has
    the gradients' dtype and device; ``error_if_nonfinite`` raises when it is nan or inf
    (``get_total_norm``), and ``foreach`` is accepted and changes nothing.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type, max_norm = float(norm_type), float(max_norm)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    coef = min(1.0, max_norm / (float(total.item()) + 1e-6))
    for g in grads:
        g *= g.dtype.type(coef)
    return total


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and joined into one vector, as
    ``torch.nn.utils.parameters_to_vector`` (in the graph: a loss of it reaches them)."""
    from ..functional import cat  # noqa: PLC0415

    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy the 1-D ``vec`` into ``parameters``, slice by slice in their order (the reverse
    of ``parameters_to_vector``), as ``torch.nn.utils.vector_to_parameters``; each parameter
    keeps its array, written in place (a graph that used the old values refuses backward)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got {type(vec).__name__}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    need = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != need:
        raise ValueError(
            f"vector_to_parameters: vec must be 1-D with one entry per parameter value "
            f"({need}), got shape {tuple(vec.shape)}"
        )
    start = 0
    for p in params:
        n = p.numel()
        piece = backend.to_device(vec.data[start : start + n], p.device).reshape(p.shape)
        p.data[...] = piece.astype(p.dtype, copy=False)
        p._bump_version()
        start += n


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
