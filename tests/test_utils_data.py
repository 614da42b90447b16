"""tinycolor.utils.data, PyTorch's torch.utils.data: datasets, random_split, default_collate and
the DataLoader (batches, shuffling, drop_last, reproducibility, the TensorDataset fast path),
against plain slicing and, where torch is installed, against torch's own DataLoader."""

from __future__ import annotations

import re
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinycolor as tc
from tinycolor import backend, nn, optim
from tinycolor import functional as F
from tinycolor.autograd import Tensor
from tinycolor.utils.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

Pair = namedtuple("Pair", ["image", "label"])


def _xy(n=10, features=3):
    """n samples: x row i is (3i, 3i+1, 3i+2) as float32, y is i as int64."""
    x = np.arange(n * features, dtype=np.float32).reshape(n, features)
    return x, np.arange(n, dtype=np.int64)


class ListDataset(Dataset):
    """The same samples as TensorDataset(x, y), one by one: the path without fancy-indexing."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def __len__(self):
        return len(self.y)


def _labels(loader):
    """The label batches of one pass, as NumPy arrays."""
    return [yb.numpy() for _, yb in loader]


# --------------------------------------------------------------------------- imports


def test_importable_as_pytorch_spells_it():
    import tinycolor.utils.data as data_module

    assert tc.utils.data.DataLoader is DataLoader is data_module.DataLoader
    assert tc.utils.data.TensorDataset is TensorDataset
    assert "utils" in tc.__all__


# --------------------------------------------------------------------------- batching


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_in_order_are_consecutive_slices(batch_size, drop_last):
    x, y = _xy(10)
    if drop_last and batch_size > 10:
        pytest.skip("every batch dropped: refused, see test_loader_refuses_bad_arguments")
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    full, rest = divmod(10, batch_size)
    expected = full + (rest > 0 and not drop_last)
    assert len(loader) == len(batches) == expected
    for k, batch in enumerate(batches):
        assert isinstance(batch, list) and len(batch) == 2  # a list, as PyTorch's
        xb, yb = batch
        assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy(), x[k * batch_size : (k + 1) * batch_size])
        np.testing.assert_array_equal(yb.numpy(), y[k * batch_size : (k + 1) * batch_size])


def test_shuffle_gives_each_sample_once_per_epoch_in_a_new_order():
    x, y = _xy(50)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    epochs = []
    for _ in range(3):
        batches = list(loader)
        assert [len(xb) for xb, _ in batches] == [8] * 6 + [2]
        for xb, yb in batches:  # each row still beside its own label
            np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])
        order = np.concatenate([yb.numpy() for _, yb in batches])
        np.testing.assert_array_equal(np.sort(order), y)
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], y)


@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 12),
    drop_last=st.booleans(),
    shuffle=st.booleans(),
)
def test_any_loader_gives_each_sample_at_most_once_beside_its_own_row(
    n, batch_size, drop_last, shuffle
):
    if (shuffle and n == 0) or (drop_last and 0 < n < batch_size):
        return  # refused: see test_loader_refuses_bad_arguments
    x, y = _xy(n)
    loader = DataLoader(TensorDataset(x, y), batch_size, shuffle, drop_last=drop_last)
    batches = list(loader)
    kept = n - n % batch_size if drop_last else n
    assert len(batches) == len(loader) == -(-kept // batch_size)
    assert all(len(yb) == batch_size for _, yb in batches[:-1])
    labels = np.concatenate([yb.numpy() for _, yb in batches]) if batches else np.array([])
    assert len(labels) == kept and len(set(labels.tolist())) == kept
    if not shuffle:
        np.testing.assert_array_equal(labels, y[:kept])
    for xb, yb in batches:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


def test_drop_last_drops_only_the_short_batch_when_shuffled():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, drop_last=True)
    labels = _labels(loader)
    assert len(loader) == 2 and [len(b) for b in labels] == [4, 4]
    assert len(set(np.concatenate(labels).tolist())) == 8


def test_batch_size_none_gives_the_samples_one_by_one():
    x, y = _xy(5)
    loader = DataLoader(TensorDataset(x, y), batch_size=None)
    samples = list(loader)
    assert len(loader) == len(samples) == 5
    for i, sample in enumerate(samples):
        assert isinstance(sample, list) and len(sample) == 2
        np.testing.assert_array_equal(sample[0].numpy(), x[i])
        assert sample[1].shape == () and sample[1].item() == i
    # NumPy samples are made Tensors, Python numbers left as they are (torch's default_convert)
    (sample,) = DataLoader([(np.float32(1.5), np.arange(2), 3)], batch_size=None)
    assert isinstance(sample[0], Tensor) and sample[0].dtype == np.float32
    assert isinstance(sample[1], Tensor) and sample[1].dtype == np.arange(2).dtype
    assert sample[2] == 3 and type(sample[2]) is int


def test_an_empty_dataset_gives_no_batches_in_order():
    x, y = _xy(0)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    assert len(loader) == 0 and list(loader) == []


def test_a_list_is_a_dataset():
    loader = DataLoader([(1, 2.0), (3, 4.0), (5, 6.0)], batch_size=2)
    (a, b), (c, d) = loader
    assert a.tolist() == [1, 3] and a.dtype == np.int64
    assert b.tolist() == [2.0, 4.0] and b.dtype == np.float32
    assert c.tolist() == [5] and d.tolist() == [6.0]


# --------------------------------------------------------------------------- the fast path


@pytest.mark.parametrize("shuffle", [False, True])
def test_tensor_dataset_batches_equal_the_sample_by_sample_ones(shuffle):
    x, y = _xy(23)
    tc.manual_seed(7)
    fast = list(DataLoader(TensorDataset(x, y), batch_size=5, shuffle=shuffle))
    tc.manual_seed(7)
    slow = list(DataLoader(ListDataset(x, y), batch_size=5, shuffle=shuffle))
    assert len(fast) == len(slow) == 5
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.shape == sx.shape and fx.dtype == sx.dtype and fy.dtype == sy.dtype
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())


def test_tensor_dataset_is_batched_without_a_loop_over_its_samples(monkeypatch):
    x, y = _xy(1000)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    calls = {"getitem": 0}
    getitem = Tensor.__getitem__

    def counted(self, idx):
        calls["getitem"] += 1
        return getitem(self, idx)

    monkeypatch.setattr(Tensor, "__getitem__", counted)
    batches = list(loader)
    assert len(batches) == 32
    assert calls["getitem"] == 2 * len(batches)  # one fancy index per tensor per batch


def test_subsets_of_a_tensor_dataset_take_the_fast_path_with_their_own_rows(monkeypatch):
    x, y = _xy(30)
    ds = TensorDataset(x, y)
    inner = Subset(ds, list(range(29, -1, -2)))  # 29, 27, ..., 1
    outer = Subset(inner, np.array([3, 0, 7, 7, 2]))
    calls = {"getitem": 0}
    getitem = Tensor.__getitem__

    def counted(self, idx):
        calls["getitem"] += 1
        return getitem(self, idx)

    monkeypatch.setattr(Tensor, "__getitem__", counted)
    (xb, yb), (xc, yc) = DataLoader(outer, batch_size=3)
    assert calls["getitem"] == 4
    assert yb.tolist() == [23, 29, 15] and yc.tolist() == [15, 25]
    np.testing.assert_array_equal(xb.numpy(), x[[23, 29, 15]])
    assert [int(s[1].item()) for s in outer] == [23, 29, 15, 15, 25]  # = the dataset's own


def test_a_tensor_dataset_subclass_with_its_own_getitem_is_asked_per_sample():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    x, y = _xy(6)
    (xb, yb), _ = DataLoader(Doubled(x, y), batch_size=4)
    np.testing.assert_array_equal(xb.numpy(), 2 * x[:4])


def test_a_gradient_reaches_a_dataset_tensor_through_both_paths():
    x = tc.tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)
    y = np.arange(6)
    for dataset in (TensorDataset(x, y), ListDataset(x, y)):
        x.grad = None
        for xb, _ in DataLoader(dataset, batch_size=4):
            (xb * xb).sum().backward()
        np.testing.assert_allclose(x.grad, 2 * x.numpy())


# --------------------------------------------------------------------------- reproducibility


def _orders(loader, epochs=2):
    return [np.concatenate(_labels(loader)) for _ in range(epochs)]


def test_manual_seed_makes_the_shuffled_orders_reproducible():
    x, y = _xy(40)
    loader = DataLoader(TensorDataset(x, y), batch_size=6, shuffle=True)
    tc.manual_seed(123)
    first = _orders(loader)
    tc.manual_seed(123)
    again = _orders(DataLoader(TensorDataset(x, y), batch_size=6, shuffle=True))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    tc.manual_seed(124)
    assert not np.array_equal(_orders(loader)[0], first[0])


def test_a_generator_gives_its_own_reproducible_orders():
    x, y = _xy(40)

    def orders():
        gen = np.random.default_rng(5)
        return _orders(DataLoader(TensorDataset(x, y), batch_size=6, shuffle=True, generator=gen))

    first = orders()
    tc.randn(3)  # tinycolor's generator moves on: the loader's own does not care
    for a, b in zip(first, orders()):
        np.testing.assert_array_equal(a, b)
    state = backend.get_rng_state()
    orders()
    assert backend.get_rng_state() == state  # nor does it draw from tinycolor's


# --------------------------------------------------------------------------- default_collate


def test_collate_stacks_nested_samples_position_by_position():
    samples = [
        {
            "pair": (np.full((2, 3), i, np.float64), i),
            "named": Pair(tc.tensor([float(i), 1.0]), True),
            "name": f"s{i}",
            "weight": 0.5 * i,
            "scalar": np.float32(i),
        }
        for i in range(4)
    ]
    batch = default_collate(samples)
    assert isinstance(batch, dict) and list(batch) == ["pair", "named", "name", "weight", "scalar"]
    images, numbers = batch["pair"]
    assert isinstance(batch["pair"], list)
    assert images.shape == (4, 2, 3) and images.dtype == np.float64  # the arrays' own dtype
    np.testing.assert_array_equal(images.numpy()[:, 0, 0], [0, 1, 2, 3])
    assert numbers.dtype == np.int64 and numbers.tolist() == [0, 1, 2, 3]
    assert isinstance(batch["named"], Pair)
    assert batch["named"].image.shape == (4, 2) and batch["named"].image.dtype == np.float32
    assert batch["named"].label.dtype == np.bool_ and batch["named"].label.tolist() == [True] * 4
    assert batch["name"] == ["s0", "s1", "s2", "s3"]
    assert batch["weight"].dtype == np.float32  # tinycolor's default dtype (torch: float64)
    assert batch["scalar"].dtype == np.float32 and batch["scalar"].shape == (4,)


def test_collate_keeps_tensors_on_their_device(device, xp):
    tensors = [tc.tensor(np.full(3, i, np.float32), device=device) for i in range(2)]
    batch = default_collate(tensors)
    assert batch.device == device and batch.shape == (2, 3)
    arrays = default_collate([xp.zeros((2,), dtype=xp.float32), xp.ones((2,), dtype=xp.float32)])
    assert arrays.device == device and arrays.numpy().tolist() == [[0, 0], [1, 1]]


def test_loader_batches_stay_on_the_dataset_device(device):
    x, y = _xy(9)
    ds = TensorDataset(tc.tensor(x, device=device), tc.tensor(y, device=device))
    for dataset in (ds, random_split(ds, [5, 4])[0]):
        tc.manual_seed(0)
        batches = list(DataLoader(dataset, batch_size=2, shuffle=True))
        for xb, yb in batches:
            assert xb.device == yb.device == device
            np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])
        assert sum(len(yb) for _, yb in batches) == len(dataset)


def test_collate_refuses_what_it_cannot_batch():
    with pytest.raises(ValueError, match=r"different shapes.*\(3,\) \(sample 0\) and \(4,\)"):
        default_collate([np.zeros(3), np.zeros(4)])
    with pytest.raises(ValueError, match=r"different shapes.*\(2,\).*\(1,\) \(sample 2\)"):
        default_collate([tc.zeros(2), tc.zeros(2), tc.zeros(1)])
    with pytest.raises(ValueError, match="sample 0 has 2 items and sample 1 1"):
        default_collate([(1, 2), (3,)])
    with pytest.raises(KeyError, match="sample 1 lacks the key 'b'"):
        default_collate([{"a": 1, "b": 2}, {"a": 3}])
    with pytest.raises(TypeError, match="batch must contain tensors.*NoneType"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="batch must contain tensors"):
        default_collate([np.array(["a"]), np.array(["b"])])


# --------------------------------------------------------------------------- datasets


def test_tensor_dataset_samples_and_errors():
    x, y = _xy(4)
    ds = TensorDataset(tc.tensor(x), y)
    assert len(ds) == 4 and isinstance(ds.tensors[1], Tensor)
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.numpy(), x[2])
    assert yi.item() == 2
    with pytest.raises(ValueError, match=r"first dimensions differ, \[4, 3\]"):
        TensorDataset(x, y[:3])
    with pytest.raises(TypeError, match="argument 1 is a list, expected a Tensor"):
        TensorDataset(x, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="argument 0 is a 0-d tensor"):
        TensorDataset(tc.tensor(1.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_dataset_base_subset_and_concat():
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]
    x, y = _xy(5)
    a, b = TensorDataset(x, y), ListDataset(x[:2], y[:2] + 100)
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert [int(both[i][1]) for i in range(7)] == [0, 1, 2, 3, 4, 100, 101]
    assert int(both[-1][1]) == 101 and int(both[-7][1]) == 0
    with pytest.raises(IndexError, match="index 7 is out of range for 7 samples"):
        both[7]
    sub = Subset(both, [6, 0])
    assert len(sub) == 2 and int(sub[0][1]) == 101 and int(sub[1][1]) == 0
    labels = [yb.tolist() for _, yb in DataLoader(both, batch_size=4)]
    assert labels == [[0, 1, 2, 3], [4, 100, 101]]


# --------------------------------------------------------------------------- random_split


def _disjoint_cover(parts, n):
    everything = sorted(i for p in parts for i in p.indices)
    assert everything == list(range(n))


def test_random_split_by_lengths_and_fractions():
    ds = TensorDataset(*_xy(10))
    parts = random_split(ds, [3, 7])
    assert [len(p) for p in parts] == [3, 7] and all(isinstance(p, Subset) for p in parts)
    _disjoint_cover(parts, 10)
    assert parts[0].indices != [0, 1, 2]  # shuffled, not the first three
    for i, j in enumerate(parts[1].indices):
        assert int(parts[1][i][1]) == j
    # floor(10 f) each, the remainder dealt one at a time from the first: torch's 4, 3, 3
    parts = random_split(ds, [0.33, 0.33, 0.34])
    assert [len(p) for p in parts] == [4, 3, 3]
    _disjoint_cover(parts, 10)
    with pytest.warns(UserWarning, match="split [12] is empty"):
        parts = random_split(TensorDataset(*_xy(3)), [0.9, 0.05, 0.05])
    assert [len(p) for p in parts] == [3, 0, 0]  # torch's too


def test_random_split_is_reproducible():
    ds = list(range(20))
    tc.manual_seed(1)
    first = [p.indices for p in random_split(ds, [0.5, 0.5])]
    tc.manual_seed(1)
    assert [p.indices for p in random_split(ds, [0.5, 0.5])] == first
    gen = [p.indices for p in random_split(ds, [10, 10], generator=np.random.default_rng(3))]
    again = [p.indices for p in random_split(ds, [10, 10], generator=np.random.default_rng(3))]
    assert gen == again


def test_torch_generator_spelling_seeds_a_split_and_a_loader():
    """``random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(42))``, PyTorch's
    documented spelling: ``tc.Generator`` is a numpy Generator whose ``manual_seed`` returns
    it, its draws those of ``np.random.default_rng(seed)``; the global seed is not touched."""
    ds = list(range(20))
    state = backend.get_rng_state()
    split = random_split(ds, [0.8, 0.2], generator=tc.Generator().manual_seed(42))
    want = np.random.default_rng(42).permutation(20).tolist()
    assert [p.indices for p in split] == [want[:16], want[16:]]
    x, y = _xy(12)
    loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, generator=tc.Generator())
    np.testing.assert_array_equal(_orders(loader, 1)[0], y[tc.Generator().permutation(12)])
    assert backend.get_rng_state() == state
    g = tc.Generator()
    assert g.initial_seed() == 67280421310721 and g.device.type == "cpu"  # PyTorch's default
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1
    with pytest.raises(TypeError, match=r"Generator.manual_seed: expected an integer seed"):
        g.manual_seed(1.5)
    with pytest.raises(tc.DeviceError, match=r"Generator: device 'cuda' is not supported"):
        tc.Generator("cuda")


def test_random_split_refuses_bad_lengths():
    ds = list(range(10))
    with pytest.raises(ValueError, match=r"sum to 9, but the dataset has 10 samples"):
        random_split(ds, [4, 5])
    with pytest.raises(ValueError, match=r"ints summing to len\(dataset\) = 10, or fractions"):
        random_split(ds, [0.5, 0.6])
    with pytest.raises(ValueError, match="must be >= 0"):
        random_split(ds, [12, -2])
    with pytest.raises(ValueError, match="fraction 0 is 1.5, not between 0 and 1"):
        random_split(ds, [1.5, -0.5])
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator"):
        random_split(ds, [5, 5], generator=3)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "option",
    [
        dict(num_workers=2),
        dict(pin_memory=True),
        dict(sampler=[0, 1]),
        dict(batch_sampler=[[0, 1]]),
        dict(timeout=5),
        dict(worker_init_fn=print),
        dict(prefetch_factor=2),
        dict(persistent_workers=True),
    ],
)
def test_unsupported_pytorch_options_are_refused_in_one_line(option):
    ((name, value),) = option.items()
    with pytest.raises(
        ValueError, match=re.escape(f"{name}={value!r} is not supported here")
    ) as info:
        DataLoader(TensorDataset(*_xy(4)), **option)
    assert "\n" not in str(info.value)


def test_the_default_pytorch_options_are_accepted():
    loader = DataLoader(TensorDataset(*_xy(4)), 2, False, num_workers=0, pin_memory=False)
    assert len(loader) == 2


def test_loader_refuses_bad_arguments():
    ds = TensorDataset(*_xy(4))
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int or None"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(ValueError, match="exclude each other"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="batch_size 8 but only 4 samples"):
        DataLoader(ds, batch_size=8, drop_last=True)
    with pytest.raises(ValueError, match="shuffle=True over an empty dataset"):
        DataLoader([], shuffle=True)
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator"):
        DataLoader(ds, shuffle=True, generator=0)
    with pytest.raises(TypeError, match="map-style.*got a generator"):
        DataLoader(i for i in range(3))
    with pytest.raises(ValueError, match="num_workers must be an int >= 0"):
        DataLoader(ds, num_workers=-1)


# --------------------------------------------------------------------------- training


def test_a_linear_model_learns_from_a_loader():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 4)).astype(np.float32)
    w = np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)
    y = x @ w + 0.25
    tc.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = optim.SGD(model.parameters(), lr=0.05)
    train_ds, val_ds = random_split(TensorDataset(x, y), [0.75, 0.25])
    train = DataLoader(train_ds, batch_size=16, shuffle=True)

    def val_loss():
        with tc.no_grad():
            return np.mean([F.mse_loss(model(xb), yb).item() for xb, yb in DataLoader(val_ds, 64)])

    before = val_loss()
    for _ in range(5):
        for xb, yb in train:
            opt.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
    assert val_loss() < 0.01 * before


# --------------------------------------------------------------------------- against torch


def _as_numpy(tree):
    """A batch with every tensor (torch or tinycolor) a NumPy array, the containers kept."""
    if hasattr(tree, "numpy"):
        return np.asarray(tree.numpy())
    if isinstance(tree, dict):
        return {k: _as_numpy(v) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(_as_numpy(v) for v in tree))
    if isinstance(tree, list | tuple):
        return type(tree)(_as_numpy(v) for v in tree)
    return tree


def _assert_same_tree(ours, theirs):
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(ours, np.ndarray):
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(ours, dict):
        assert list(ours) == list(theirs)
        for k in ours:
            _assert_same_tree(ours[k], theirs[k])
    elif isinstance(ours, list | tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same_tree(a, b)
    else:
        assert ours == theirs


@pytest.mark.parametrize("batch_size", [None, 1, 3, 4, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_in_order_batches_as_torchs(batch_size, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchTensorDataset

    if drop_last and batch_size in (None, 11):
        pytest.skip("refused by both (None) or by tinycolor alone (every batch dropped)")
    x, y = _xy(10)
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    ref = TorchLoader(
        TorchTensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(ref)
    ours, ref = list(ours), list(ref)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        _assert_same_tree(_as_numpy(a), _as_numpy(b))


def test_collate_structure_as_torchs():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    def sample(i, as_tensor):
        image = np.full((2, 2), i, np.float32)
        return {
            "x": as_tensor(image),
            "pair": (np.arange(3) + i, i, True),
            "named": Pair(np.float32(i), [i, i + 1]),
            "name": f"s{i}",
        }

    ours = _as_numpy(default_collate([sample(i, tc.tensor) for i in range(3)]))
    theirs = _as_numpy(torch_collate([sample(i, torch.from_numpy) for i in range(3)]))
    theirs["name"] = list(theirs["name"])  # torch gives the batch's own list of strings
    _assert_same_tree(ours, theirs)
