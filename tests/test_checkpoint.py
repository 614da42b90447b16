"""Checkpoints: round trips, metadata, atomic writes, and every way a file can be bad."""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinycolor as tc
from tinycolor import backend, checkpoint, nn
from tinycolor.checkpoint import CheckpointError


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_module_round_trip_with_meta(tmp_path):
    model = _model()
    model[2].running_mean.data[:] = np.arange(4)  # a buffer, saved like the parameters
    meta = {"model": "mlp", "epoch": 3, "sizes": [3, 4, 2], "lr": 0.01, "note": None}
    path = tmp_path / "run" / "model.npz"  # the directory is made
    tc.save(model, path, meta=meta)
    assert sorted(os.listdir(tmp_path / "run")) == ["model.npz"]  # no temporary file left
    state = tc.load(path)
    assert state["__meta__"] == meta
    expected = model.state_dict()
    assert set(state) == set(expected) | {"__meta__"}
    assert "2.running_mean" in state and "2.running_var" in state
    for key, value in expected.items():
        want = np.int64 if key.endswith("num_batches_tracked") else np.float32
        assert isinstance(state[key], np.ndarray) and state[key].dtype == want
        np.testing.assert_array_equal(state[key], value)

    tc.manual_seed(123)
    other = _model()
    assert not np.array_equal(other[0].weight.numpy(), model[0].weight.numpy())
    other.load_state_dict(state)  # the '__meta__' entry is ignored
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_dict_round_trip_exact_path(tmp_path):
    state = {
        "w": tc.randn(2, 3),
        "counts": np.arange(5, dtype=np.int64),
        "scale": 0.5,
        "flag": True,
        "name": "adam",
        "half": np.ones((2, 2), dtype=np.float16),
    }
    path = tmp_path / "weights.ckpt"  # any name: nothing is appended
    tc.save(state, str(path))
    assert path.exists() and not (tmp_path / "weights.ckpt.npz").exists()
    out = tc.load(path)
    assert "__meta__" not in out
    np.testing.assert_array_equal(out["w"], state["w"].numpy())
    np.testing.assert_array_equal(out["counts"], state["counts"])
    assert out["half"].dtype == np.float16
    assert (
        out["scale"].item() == 0.5 and out["flag"].item() is True and out["name"].item() == "adam"
    )


def test_a_nested_checkpoint_as_pytorchs_tutorials_save_it_resumes_training(tmp_path):
    """torch.save({'model': ..., 'optimizer': ..., 'epoch': ...}, path), translated name for
    name, failed: "entry 'model' is not an array of numbers or strings (OrderedDict)". The
    resumed run takes the same steps as one that never stopped."""
    rng = np.random.default_rng(0)
    x, y = tc.tensor(rng.standard_normal((8, 3))), tc.tensor(rng.integers(0, 2, 8))

    def build():
        tc.manual_seed(0)
        model = _model().double()
        opt = tc.optim.Adam(model.parameters(), lr=0.01)
        return model, opt, tc.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def epoch(model, opt, sched):
        opt.zero_grad()
        loss = tc.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        return loss

    model, opt, sched = build()
    for _ in range(3):
        loss = epoch(model, opt, sched)
    path = tmp_path / "ckpt.pt"
    tc.save(
        {
            "epoch": 3,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "loss": loss,
        },
        path,
    )
    uninterrupted = [epoch(model, opt, sched).item() for _ in range(3)]

    checkpoint = tc.load(path)
    assert list(checkpoint) == [
        "epoch", "model_state_dict", "optimizer_state_dict", "scheduler", "loss"
    ]  # fmt: skip
    model, opt, sched = build()
    model.load_state_dict(checkpoint["model_state_dict"])
    opt.load_state_dict(checkpoint["optimizer_state_dict"])
    sched.load_state_dict(checkpoint["scheduler"])
    assert checkpoint["epoch"] == 3 and checkpoint["loss"] == loss.item()
    resumed = [epoch(model, opt, sched).item() for _ in range(3)]
    assert resumed == uninterrupted


def test_only_the_inner_dicts_saved_are_rebuilt(tmp_path):
    state = {
        "a/b": np.ones(1),  # a key with a slash in the top level: stays one key
        "outer": {"inner": {"x": np.zeros(2)}, "c/d": np.ones(3), "empty": {}},
        "n": 4,
    }
    tc.save(state, tmp_path / "n.npz", meta={"run": 1})
    out = tc.load(tmp_path / "n.npz")
    assert set(out) == {"a/b", "outer", "n", "__meta__"} and out["__meta__"] == {"run": 1}
    assert set(out["outer"]) == {"inner", "c/d", "empty"} and out["outer"]["empty"] == {}
    np.testing.assert_array_equal(out["outer"]["inner"]["x"], np.zeros(2))
    np.testing.assert_array_equal(out["outer"]["c/d"], np.ones(3))
    with pytest.raises(ValueError, match="'m/w' is both a key and a key of an inner dict"):
        tc.save({"m": {"w": np.ones(1)}, "m/w": np.ones(1)}, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="'__nested__' is reserved"):
        tc.save({"__nested__": np.ones(1)}, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="keys 'm/x' and 'm/x.npy' cannot both be saved"):
        tc.save({"m": {"x": np.ones(1), "x.npy": np.ones(1)}}, tmp_path / "bad.npz")
    assert sorted(os.listdir(tmp_path)) == ["n.npz"]
    np.savez(tmp_path / "odd.npz", __nested__=np.arange(2), x=np.ones(1))
    with pytest.raises(CheckpointError, match="its '__nested__' entry is not names"):
        tc.load(tmp_path / "odd.npz")


def test_meta_numpy_values_become_json(tmp_path):
    tc.save(
        {"a": np.zeros(1)},
        tmp_path / "c.npz",
        meta={"mean_ab": np.array([1.5, -2.0]), "n": np.int64(7)},
    )
    assert tc.load(tmp_path / "c.npz")["__meta__"] == {"mean_ab": [1.5, -2.0], "n": 7}


def test_save_errors(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        tc.save({"__meta__": np.zeros(1)}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="meta must be a dict"):
        tc.save({"a": np.zeros(1)}, tmp_path / "a.npz", meta=[1, 2])
    with pytest.raises(TypeError, match="JSON-serialisable"):
        tc.save({"a": np.zeros(1)}, tmp_path / "a.npz", meta={"f": object()})
    with pytest.raises(TypeError, match="keys must be strings"):
        tc.save({1: np.zeros(1)}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="'bad' is not an array"):
        tc.save({"bad": [object()]}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="Module or a dict"):
        tc.save([np.zeros(1)], tmp_path / "a.npz")
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder; expected a file name"):
        tc.save({"a": np.zeros(1)}, tmp_path / "folder")
    assert os.listdir(tmp_path) == ["folder"] and os.listdir(tmp_path / "folder") == []
    # "x.npy" and "x" became members "x.npy.npy" and "x.npy": both read back as x
    with pytest.raises(ValueError, match="keys 'x' and 'x.npy' cannot both be saved"):
        tc.save({"x.npy": np.ones(1), "x": np.zeros(1)}, tmp_path / "k.npz")
    tc.save({"x.npy": np.ones(1)}, os.fsencode(tmp_path / "b.npz"))  # a bytes path, too
    np.testing.assert_array_equal(tc.load(os.fsencode(tmp_path / "b.npz"))["x.npy"], [1.0])
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match=r"save: .*file/m.npz: cannot write it"):
        tc.save({"a": np.zeros(1)}, tmp_path / "file" / "m.npz")  # named, not a temporary file


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
def test_a_checkpoint_has_the_mode_of_a_plain_file(tmp_path):
    """The temporary file is private (0600, as mkstemp makes it); the checkpoint renamed from it
    gets the mode open() would give, so whoever may read the folder may read the weights."""
    old = os.umask(0o022)
    try:
        tc.save(_model(), tmp_path / "model.npz")
        (tmp_path / "plain").write_bytes(b"")
    finally:
        os.umask(old)
    mode = os.stat(tmp_path / "model.npz").st_mode & 0o777
    assert mode == os.stat(tmp_path / "plain").st_mode & 0o777 == 0o644


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch, failure):
    """A write that dies midway (after one array is already in the file) leaves the previous
    checkpoint as it was, and no temporary file behind."""
    path = tmp_path / "model.npz"
    old = _model()
    tc.save(old, path, meta={"epoch": 1})
    before = path.read_bytes()

    written = []
    real = checkpoint._write_member

    def failing(zf, key, arr):
        if written:
            raise failure
        real(zf, key, arr)
        written.append(key)

    monkeypatch.setattr(checkpoint, "_write_member", failing)
    new = _model()
    with pytest.raises(type(failure), match="disk full" if isinstance(failure, OSError) else None):
        tc.save(new, path, meta={"epoch": 2})
    assert written, "the failure should come after a first array was written"
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]
    state = tc.load(path)
    assert state["__meta__"] == {"epoch": 1}
    np.testing.assert_array_equal(state["0.weight"], old[0].weight.numpy())

    monkeypatch.setattr(checkpoint, "_write_member", real)
    tc.save(new, path, meta={"epoch": 2})  # and a good write replaces it
    assert tc.load(path)["__meta__"] == {"epoch": 2}


def test_a_name_near_the_file_systems_limit_is_saved(tmp_path):
    """250 characters is a valid name (the limit is 255 bytes), but the temporary file it
    was written to first, the name with 14 more around it, was not: save failed."""
    path = tmp_path / ("m" * 246 + ".npz")
    tc.save({"a": np.arange(3)}, path)
    np.testing.assert_array_equal(tc.load(path)["a"], np.arange(3))
    assert os.listdir(tmp_path) == [path.name]


def _good(tmp_path):
    path = tmp_path / "good.npz"
    tc.save(_model(), path, meta={"epoch": 1})
    return path


def _expect_error(path, match):
    with pytest.raises(CheckpointError, match=match) as info:
        tc.load(path)
    assert str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path):
    _expect_error(tmp_path / "nope.npz", "no such file")
    _expect_error(tmp_path, "is a directory")


def test_empty_and_foreign_files(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    _expect_error(empty, "empty")
    text = tmp_path / "notes.npz"
    text.write_text("hello, I am not a checkpoint\n")
    _expect_error(text, "not an .npz archive")
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros(3))
    _expect_error(npy, "not an .npz archive")
    plain_zip = tmp_path / "plain.npz"
    with zipfile.ZipFile(plain_zip, "w") as zf:
        zf.writestr("readme.txt", "text, not an array")
    _expect_error(plain_zip, "'readme.txt' is not a .npy array")


def test_a_pytorch_file_is_named_as_one(tmp_path):
    """torch.save writes a zip archive too; it was refused as "member 'weights/data.pkl' is
    not a .npy array", which does not tell a learner with PyTorch weights what to do."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "weights.pt"
    torch.save(torch.nn.Linear(2, 3).state_dict(), path)
    _expect_error(path, re.escape("a PyTorch file (torch.save), not an .npz of arrays"))
    _expect_error(path, re.escape("{k: v.numpy() for k, v in torch.load(path).items()}"))


def test_truncated_file(tmp_path):
    data = _good(tmp_path).read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        _expect_error(bad, "truncated or corrupt")


def test_corrupt_bytes(tmp_path):
    """Flipped bytes inside an array's data: the zip CRC catches them."""
    path = _good(tmp_path)
    data = bytearray(path.read_bytes())
    member = zipfile.ZipFile(path).getinfo("0.weight.npy")
    offset = member.header_offset + 30 + len(member.filename) + len(member.extra) + 140
    data[offset : offset + 8] = bytes(255 - b for b in data[offset : offset + 8])
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    _expect_error(bad, "truncated or corrupt")


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weights=np.zeros(2), payload=np.array([{"run": "code"}], dtype=object))
    _expect_error(path, "pickled")


def test_bad_meta(tmp_path):
    path = tmp_path / "meta.npz"
    np.savez(path, w=np.zeros(2), __meta__=np.array("{not json"))
    _expect_error(path, "not JSON")
    np.savez(path, w=np.zeros(2), __meta__=np.array(json.dumps([1, 2])))
    _expect_error(path, "not a JSON object")


def test_device_round_trip(tmp_path, device):
    """A model on the GPU saves NumPy arrays; loading them puts them back on the GPU."""
    model = _model().to(device)
    tc.save(model, tmp_path / "m.npz")
    state = tc.load(tmp_path / "m.npz")
    assert all(type(v) is np.ndarray for v in state.values())
    other = _model().to(device)
    other.load_state_dict(state)
    for p, q in zip(model.parameters(), other.parameters()):
        assert q.device == device
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_write_json_is_atomic_strict_and_leaves_nothing_behind(tmp_path):
    """runs.write_json, of the metrics and evaluation files: NumPy values as JSON, NaN as null;
    a folder or a value JSON cannot hold is refused, the old file kept, no temporary left."""
    from tinycolor.runs import write_json

    path = write_json(tmp_path / "m.json", {"psnr": np.float32(20.5), "shape": np.array([2, 3])})
    assert json.loads(path.read_text()) == {"psnr": 20.5, "shape": [2, 3]}
    other = {"zoom": (np.float32(0.5), 2.0), "out": Path("runs") / "x"}  # a config's values
    other = json.loads(write_json(tmp_path / "o.json", other).read_text())
    assert other == {"zoom": [0.5, 2.0], "out": str(Path("runs") / "x")}
    (tmp_path / "o.json").unlink()
    assert json.loads(write_json(tmp_path / "n.json", {"auc": float("nan")}).read_text()) == {
        "auc": None
    }
    with pytest.raises(TypeError):
        write_json(path, {"psnr": object()})
    assert json.loads(path.read_text())["psnr"] == 20.5
    with pytest.raises(IsADirectoryError, match="is a folder"):
        write_json(tmp_path, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "n.json"]


def test_load_takes_pytorchs_map_location_and_weights_only(tmp_path, device):
    """torch.load(path, map_location='cpu') / map_location=device, translated word for word,
    failed: "load() got an unexpected keyword argument 'map_location'". The arrays of numbers
    go to that device, inner dicts' too; names stay NumPy strings; weights_only changes nothing."""
    model = _model().double()
    opt = tc.optim.Adam(model.parameters())
    tc.save(
        {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 4}, tmp_path / "c.pth"
    )
    plain = tc.load(tmp_path / "c.pth")
    for where in (device, tc.device(device), f"{device}:0"):
        state = tc.load(tmp_path / "c.pth", map_location=where, weights_only=True)
        assert backend.device_of(state["epoch"]) == device
        for key, value in plain["model"].items():
            assert backend.device_of(state["model"][key]) == device
            np.testing.assert_array_equal(backend.to_numpy(state["model"][key]), value)
        assert type(state["optimizer"]["optimizer"]) is np.ndarray  # the class name, a string
        other = _model().double().to(device)
        other.load_state_dict(state["model"])
    assert type(tc.load(tmp_path / "c.pth", map_location="cpu")["model"]["0.weight"]) is np.ndarray
    for where in (lambda storage, loc: storage, {"cuda:0": "cpu"}, {}):
        state = tc.load(tmp_path / "c.pth", map_location=where)
        assert type(state["model"]["0.weight"]) is np.ndarray
    state = tc.load(tmp_path / "c.pth", map_location={"cpu": device, "cuda:0": f"{device}:0"})
    assert backend.device_of(state["model"]["0.weight"]) == device
    with pytest.raises(ValueError, match="names 2 devices"):
        tc.load(tmp_path / "c.pth", map_location={"cpu": "cpu", "cuda:1": "cuda"})
    with pytest.raises(tc.DeviceError, match="unknown device"):
        tc.load(tmp_path / "c.pth", map_location="tpu")


def test_a_key_that_would_be_read_back_inside_an_inner_dict_is_refused(tmp_path):
    """{'ema/decay': x, 'ema': {...}} was saved, and read back with 'decay' inside 'ema' and
    no 'ema/decay': the member 'ema/decay' is read into the inner dict its name begins with.
    save refuses it now (at any level, an inner dict's name too), writing nothing; a '/' key
    beside a plain value of the prefix's name, or with no inner dict, still round-trips."""
    for state, key, inner in [
        ({"ema/decay": np.float64(0.99), "ema": {"w": np.ones(2)}}, "ema/decay", "ema"),
        ({"m": {"a/b/c": np.ones(1), "a/b": {"x": np.ones(1)}}}, "m/a/b/c", "m/a/b"),
        ({"a": {"x": np.ones(1)}, "a/b": {"y": np.ones(1)}}, "a/b", "a"),
    ]:
        with pytest.raises(
            ValueError,
            match=re.escape(f"save: key {key!r} would be read back inside the inner dict "),
        ):
            tc.save(state, tmp_path / "bad.npz")
        with pytest.raises(ValueError, match=re.escape(f"inside the inner dict {inner!r}")):
            tc.save(state, tmp_path / "bad.npz")
    assert os.listdir(tmp_path) == []
    fine = {"ema/decay": np.float64(0.99), "ema": np.ones(2), "b": {"c/d": np.ones(1)}}
    tc.save(fine, tmp_path / "ok.npz")
    back = tc.load(tmp_path / "ok.npz")
    assert set(back) == {"ema/decay", "ema", "b"} and set(back["b"]) == {"c/d"}


def test_load_model_of_a_training_state_points_to_the_model_beside_it(tmp_path):
    """runs.load_model given a run's training_state.npz said only 'unknown checkpoint format
    'tinycolor-training-state''; it says what the file is and names model.npz beside it."""
    from tinycolor import runs

    path = tmp_path / "training_state.npz"
    meta = {"format": "tinycolor-training-state", "format_version": 1, "model": "ann_window"}
    tc.save({"model.w": np.ones(2)}, path, meta=meta)
    with pytest.raises(
        runs.LoadError,
        match=r"training_state.npz: is a run's training state \(what `--resume` goes on "
        r"from\), not a model checkpoint; load the model.npz beside it \(.*model.npz\)",
    ):
        runs.load_model(path)


@pytest.mark.parametrize("mean_ab", [[None, None], [1.0], "1, 2", [1.0, float("inf")], [True, 0]])
def test_load_model_refuses_a_mean_ab_that_is_not_two_numbers(mean_ab, tmp_path):
    """A hand-edited mean_ab of [null, null] loaded, and evaluate printed a row of nan for the
    mean-ab baseline; it is refused at load, in words."""
    from tinycolor import runs

    path = tmp_path / "model.npz"
    meta = {
        "format": "tinycolor-model",
        "format_version": 1,
        "model": "cnn_regression",
        "config": {"mean_ab": mean_ab},
    }
    tc.save({"w": np.ones(2)}, path, meta=meta)
    with pytest.raises(runs.LoadError, match=r"mean_ab = .*where two finite numbers"):
        runs.load_model(path)


def test_load_model_hints_that_an_image_is_not_a_checkpoint(tmp_path):
    """The hint for an image given as a checkpoint spoke of colorize's last path ("colour one
    image at a time") to evaluate's users too, whose command takes no image."""
    from tinycolor import runs

    with pytest.raises(runs.LoadError, match=r"an image\? --checkpoint takes checkpoints"):
        runs.load_model(tmp_path / "photo.png")
