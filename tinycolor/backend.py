"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU.

This is the only module that imports CuPy, and it does so lazily: importing tinycolor never
touches CuPy unless the 'cuda' device is asked for (``set_device('cuda')``, the environment
variable ``TINYCOLOR_DEVICE=cuda``, or ``tensor.to('cuda')``).

Every op gets its array module with ``xp = array_module(x)`` and calls ``xp.*`` so that one code
path runs on both devices.
"""

from __future__ import annotations

import os
import sys

import numpy as np

DEVICES = ("cpu", "cuda")
default_dtype = np.float32

_cupy = None  # the cupy module once loaded
_device = None  # the default device, resolved on first use
_seed = None
_rngs: dict[str, object] = {}


class DeviceError(RuntimeError):
    """Raised when a device is unknown, unavailable, or two devices are mixed in one op."""


def _current_gpu() -> int:
    """The index of CuPy's current device (0 until CuPy is loaded, which never happens here)."""
    cp = _loaded_cupy()
    return 0 if cp is None else int(cp.cuda.Device().id)


def _check_name(device: str) -> str:
    """'cpu' or 'cuda' for a device name: PyTorch's 'cpu:0' and 'cuda:0' too, 'gpu' for cuda.
    tinycolor uses one GPU, CuPy's current one (index 0 unless CuPy was told otherwise), so
    another index is refused, not ignored."""
    name = str(device).lower()
    base, colon, index = name.partition(":")
    if colon and base in ("cpu", "cuda"):
        other = index != "0" and not (base == "cuda" and index.isdigit())
        if other or (index != "0" and int(index) != _current_gpu()):
            where = (
                "tinycolor uses one GPU, CuPy's current one: choose it with "
                f"CUDA_VISIBLE_DEVICES={index} and ask for 'cuda'"
                if base == "cuda" and index.isdigit()
                else f"expected '{base}' or '{base}:0'"
            )
            raise DeviceError(f"unknown device {device!r}: {where}")
        name = base
    if name == "gpu":
        name = "cuda"
    if name not in DEVICES:
        raise DeviceError(f"unknown device {device!r}: expected one of {', '.join(DEVICES)}")
    return name


class device(str):  # noqa: N801 - PyTorch's name
    """``torch.device``: here a string, the checked name as PyTorch writes it (``'cpu'``,
    ``'cuda'``, ``'cuda:0'``; ``'gpu'`` gives ``'cuda'``), so that
    ``device = tc.device('cuda' if tc.cuda.is_available() else 'cpu')`` then ``x.to(device)``,
    ``model.to(device)`` and ``x.device == device`` work as written.

    ``.type`` is the name and ``.index`` the index given (``None`` when none was), as in
    PyTorch; a tensor's ``x.device`` is one of these, with the index of CuPy's device on the GPU
    (``device(type='cuda', index=0)``, ``str`` 'cuda:0') and None on the CPU, as
    ``torch.Tensor.device`` says. Comparisons take an index only where both sides give one:
    ``x.device == 'cuda'`` and ``x.device == 'cuda:0'`` on the GPU; hashing takes the type
    alone, so ``{'cuda': ...}[x.device]`` finds its key.
    """

    __slots__ = ("_index", "_type")

    def __new__(cls, type: str, index: int | None = None):  # noqa: A002 - PyTorch's names
        name = _check_name(type if index is None else f"{type}:{index}")
        if index is None and isinstance(type, device):
            index = type.index
        elif index is None:  # 'cuda:0' (checked above)
            index = str(type).partition(":")[2] or None
        return cls._make(name, None if index is None else int(index))

    @classmethod
    def _make(cls, name: str, index: int | None):
        """The device ``name`` (checked) at ``index``, unchecked: the GPU an array lives on."""
        out = super().__new__(cls, name if index is None else f"{name}:{index}")
        out._index, out._type = index, str(name)
        return out

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __eq__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        if isinstance(other, device):
            kind, index = other._type, other._index
        else:
            kind, _, at = other.partition(":")
            index = int(at) if at.isdigit() else None
            if at and index is None:
                return False
        return self._type == kind and (None in (index, self._index) or index == self._index)

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(self._type)

    def __reduce__(self):
        return (device, (self._type, self._index))

    def __repr__(self) -> str:
        at = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self.type}'{at})"


def cupy():
    """Import and return CuPy, or raise a DeviceError that says why it cannot be used."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp  # noqa: PLC0415
        except Exception as exc:  # ImportError, or a broken CUDA install
            raise DeviceError(
                "device 'cuda' needs CuPy, which could not be imported "
                f"({type(exc).__name__}: {exc}); on a machine with an NVIDIA GPU install "
                "it with `pip install -e '.[gpu]'` in the tinycolor repository (CuPy for "
                "CUDA 12; `pip install cupy-cuda13x` for CUDA 13)"
            ) from None
        try:
            n = cp.cuda.runtime.getDeviceCount()
        except Exception as exc:
            raise DeviceError(
                f"device 'cuda': CuPy is installed but no GPU is usable ({exc})"
            ) from None
        if n < 1:
            raise DeviceError("device 'cuda': CuPy is installed but no GPU was found")
        _cupy = cp
    return _cupy


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU (never raises)."""
    try:
        cupy()
        return True
    except DeviceError:
        return False


def device_from_environment() -> str:
    """The device the environment variable TINYCOLOR_DEVICE names ('cpu' when it is unset); the
    commands' --device defaults to it."""
    value = os.environ.get("TINYCOLOR_DEVICE", "").strip()
    if not value:
        return "cpu"
    try:
        return _check_name(value)
    except DeviceError as exc:
        raise DeviceError(f"TINYCOLOR_DEVICE={value!r}: {exc}") from None


def get_device() -> str:
    """The default device for new tensors: 'cpu' unless set_device or TINYCOLOR_DEVICE says so."""
    global _device
    if _device is None:
        _device = device_from_environment()
        if _device == "cuda":
            cupy()
    return _device


def set_device(device: str) -> None:
    """Make ``device`` ('cpu' or 'cuda') the default for new tensors and parameters."""
    global _device
    name = _check_name(device)
    if name == "cuda":
        cupy()
    _device = name


def xp_for(device: str):
    """The array module (numpy or cupy) that holds arrays on ``device``."""
    return cupy() if _check_name(device) == "cuda" else np


def _loaded_cupy():
    """CuPy when it is loaded, by tinycolor or by the user's own ``import cupy``, without
    importing it: a CuPy array made before tinycolor first needed CuPy is still one."""
    return _cupy if _cupy is not None else sys.modules.get("cupy")


def is_cupy_array(x) -> bool:
    cp = _loaded_cupy()
    return cp is not None and isinstance(x, getattr(cp, "ndarray", ()))


def array_module(x):
    """numpy or cupy, whichever owns the array ``x`` (NumPy for scalars and lists)."""
    return _loaded_cupy() if is_cupy_array(x) else np


_ON_CPU = device("cpu")  # what tensors' .device say
_ON_GPUS: dict[int, device] = {}


def gpu(index: int | None = None) -> device:
    """``device('cuda', index)`` as a CuPy array's tensor says it, of CuPy's current device
    when ``index`` is None."""
    index = _current_gpu() if index is None else int(index)
    if index not in _ON_GPUS:
        _ON_GPUS[index] = device._make("cuda", index)
    return _ON_GPUS[index]


def device_of(x) -> device:
    """``device('cuda', i)`` for a CuPy array on CuPy's device i (``x.device.id``),
    ``device('cpu')`` for anything else: equal to the names 'cuda' (and 'cuda:i') and 'cpu',
    with torch.device's ``.type`` and ``.index``."""
    return gpu(x.device.id) if is_cupy_array(x) else _ON_CPU


def to_device(x, device: str):
    """Copy an array to ``device`` (a no-op when it is already there)."""
    name = _check_name(device)
    if name == "cuda":
        cp = cupy()
        return x if isinstance(x, cp.ndarray) else cp.asarray(x)
    if is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def to_numpy(x) -> np.ndarray:
    return x.get() if is_cupy_array(x) else np.asarray(x)


# --------------------------------------------------------------------------- CPU threads

_pools: dict = {}


def thread_pool(workers: int):
    """A shared ``ThreadPoolExecutor`` of ``workers`` threads for CPU work that NumPy runs
    without the GIL (the optimizers' halves of large parameters), made on first use and kept;
    per process, so that a forked child gets threads of its own."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    key = (os.getpid(), int(workers))
    if key not in _pools:
        _pools[key] = ThreadPoolExecutor(int(workers), thread_name_prefix="tinycolor")
    return _pools[key]


# --------------------------------------------------------------------------- random numbers


def manual_seed(seed: int) -> None:
    """Seed every random number generator tinycolor uses (initialisation, dropout, data).

    Two runs that call ``manual_seed(n)`` first draw the same numbers on the same device. Any
    integer will do; a negative one is taken modulo 2^64, as PyTorch takes it (NumPy's
    generators only take seeds >= 0, and failed at the first random draw).
    """
    global _seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"manual_seed: expected an integer seed, got {seed!r}")
    _seed = int(seed) % 2**64
    _rngs.clear()


class Generator(np.random.Generator):
    """A random number generator of one's own, as ``torch.Generator``: for a split or a
    shuffle that does not depend on (or disturb) the global seed, spelled as in PyTorch::

        train_ds, val_ds = random_split(ds, [0.8, 0.2], generator=tc.Generator().manual_seed(42))

    It is a ``numpy.random.Generator`` (so it goes wherever one does: ``DataLoader``'s and
    ``random_split``'s ``generator=``, or ``g.permutation(n)`` directly), seeded with
    PyTorch's default seed until ``manual_seed(seed)`` reseeds it; ``manual_seed`` returns the
    generator, as PyTorch's does, and after it the draws are those of
    ``np.random.default_rng(seed)`` (not PyTorch's numbers: the bit generators differ).
    CPU only: ``device`` is 'cpu'."""

    default_seed = 67280421310721  # PyTorch's, what torch.Generator().initial_seed() gives

    def __init__(self, device="cpu"):
        if _check_name(device) != "cpu":
            raise DeviceError(
                f"Generator: device {device!r} is not supported, only 'cpu' (the data "
                f"utilities draw their orders on the CPU)"
            )
        super().__init__(np.random.PCG64(self.default_seed))
        self.device = globals()["device"]("cpu")  # the class, which the argument hides
        self._initial_seed = self.default_seed

    def manual_seed(self, seed: int) -> Generator:
        """Reseed: the draws start again as those of ``np.random.default_rng(seed)`` (a negative
        seed taken modulo 2^64, as ``tinycolor.manual_seed`` takes it); returns ``self``."""
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise TypeError(f"Generator.manual_seed: expected an integer seed, got {seed!r}")
        self._initial_seed = int(seed) % 2**64
        self.bit_generator.state = np.random.PCG64(self._initial_seed).state
        return self

    def initial_seed(self) -> int:
        """The seed the generator was last seeded with, as PyTorch's ``initial_seed()``."""
        return self._initial_seed


def cpu_generator(generator, who: str):
    """The numpy.random.Generator a random op draws from: its ``generator=`` (a
    ``tinycolor.Generator`` or any numpy Generator), or tinycolor's seeded one when None."""
    if generator is None:
        return rng("cpu")
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{who}: generator must be a tinycolor.Generator (tinycolor.Generator()"
            f".manual_seed(seed)) or a numpy.random.Generator, got {type(generator).__name__}"
        )
    return generator


def rng(device: str = "cpu"):
    """The generator for ``device``: a numpy.random.Generator, or a cupy one on 'cuda'."""
    name = _check_name(device)
    if name not in _rngs:
        if name == "cuda":
            seed = _seed if _seed is not None else np.random.SeedSequence().entropy % 2**63
            _rngs[name] = cupy().random.default_rng(seed)
        else:
            _rngs[name] = np.random.default_rng(_seed)
    return _rngs[name]


def get_rng_state(device: str = "cpu"):
    """The state of ``rng(device)``, which ``set_rng_state`` puts back: after it the generator
    draws the same numbers again (dropout's masks, say), as ``torch.get_rng_state`` and
    ``torch.cuda.get_rng_state`` in PyTorch. On 'cpu' NumPy's bit-generator state, a dict of
    strings and integers (``json.dumps`` writes it as it is); on 'cuda' a NumPy uint8 array,
    the bytes of the cuRAND states of CuPy's generator (valid on the same kind of GPU)."""
    gen = rng(device)
    if _check_name(device) == "cpu":
        return gen.bit_generator.state
    return to_numpy(_curand_states(gen)).view(np.uint8).copy()


def set_rng_state(state, device: str = "cpu") -> None:
    """Make ``rng(device)`` continue from ``state``, what ``get_rng_state(device)`` returned."""
    gen = rng(device)
    if _check_name(device) == "cpu":
        try:
            gen.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"set_rng_state: not a state of NumPy's generator ({exc})") from None
        return
    states = _curand_states(gen)
    raw = np.asarray(state)
    if raw.dtype != np.uint8 or raw.nbytes != states.nbytes:
        raise ValueError(
            f"set_rng_state: the cuda generator's state is {states.nbytes} bytes, got "
            f"{raw.nbytes} bytes of {raw.dtype} (a state saved on another kind of GPU?)"
        )
    states[...] = cupy().asarray(raw.view(states.dtype))


def _curand_states(gen):
    """The device array holding a CuPy generator's cuRAND states (CuPy keeps it as the bit
    generator's ``_state``, and offers no public way to read or set it)."""
    states = getattr(getattr(gen, "bit_generator", None), "_state", None)
    if states is None or not is_cupy_array(states):
        raise DeviceError(
            "the cuda generator's state cannot be read or set with this CuPy "
            f"({getattr(cupy(), '__version__', '?')})"
        )
    return states
