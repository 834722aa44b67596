"""torch.save / torch.load: vizgrad round trips; files vizgrad writes load in real torch (also with
weights_only=True and mmap=True) and files torch writes load in vizgrad, with the same values;
hostile files are refused before any of their code runs.

    nice -n 5 python -m pytest -q tests/test_serialization.py
"""
from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import vizgrad
from tests.conftest import need_torch


def _checkpoint(lib):
    """A model state_dict, an Adam state after one step, and the odd things checkpoints hold."""
    nn = lib.nn
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    with lib.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(lib.linspace(-1, 1, p.numel()).view(p.shape) * (i + 1))
    opt = lib.optim.Adam(m.parameters(), lr=0.01)
    m(lib.ones(4, 3)).sum().backward()
    opt.step()
    return {"model": m.state_dict(), "optim": opt.state_dict(), "epoch": 3, "loss": 0.25, "name": "run-1",
            "view": lib.arange(6.).view(2, 3)[:, 1:], "dtype": lib.float64, "size": lib.Size([2, 3]),
            "param": nn.Parameter(lib.ones(2)), "ints": lib.tensor([1, 2]), "flag": lib.tensor(True),
            "double": lib.tensor([0.1, 0.2], dtype=lib.float64), "half": lib.tensor([1.5], dtype=lib.float16),
            "scalar": lib.tensor(2.5), "empty": lib.zeros(0, 3), "nested": [(1, 2.0), {"k": lib.tensor([7])}]}


def test_round_trip_prints_the_same(tmp_path):
    obj = _checkpoint(vizgrad)
    path = tmp_path / "ckpt.pt"
    vizgrad.save(obj, path)
    back = vizgrad.load(path)
    assert repr(back) == repr(obj)
    assert back["model"]._metadata == obj["model"]._metadata
    assert back["view"].shape == (2, 2) and back["scalar"].dim() == 0
    buf = io.BytesIO()
    vizgrad.save(obj, buf)
    buf.seek(0)
    assert repr(vizgrad.load(buf)) == repr(obj)


def test_one_tensor_saved_twice_is_one_object_after_loading():
    t = vizgrad.ones(3)
    buf = io.BytesIO()
    vizgrad.save({"a": t, "b": t}, buf)
    buf.seek(0)
    back = vizgrad.load(buf)
    assert back["a"] is back["b"]
    assert len([n for n in zipfile.ZipFile(buf).namelist() if "/data/" in n]) == 1


def test_a_loaded_checkpoint_resumes_training():
    obj = _checkpoint(vizgrad)
    buf = io.BytesIO()
    vizgrad.save(obj, buf)
    buf.seek(0)
    back = vizgrad.load(buf)
    nn = vizgrad.nn
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    m.load_state_dict(back["model"])
    opt = vizgrad.optim.Adam(m.parameters(), lr=0.01)
    opt.load_state_dict(back["optim"])
    assert repr(opt.state_dict()) == repr(obj["optim"])


def test_torch_loads_what_vizgrad_saves(tmp_path):
    torch = need_torch()
    path = tmp_path / "from_vizgrad.pt"
    obj = _checkpoint(vizgrad)
    vizgrad.save(obj, path)
    for kw in ({}, {"weights_only": True}, {"mmap": True}):
        got = torch.load(path, **kw)
        assert repr(got) == repr(obj), kw
    got = torch.load(path, weights_only=True)
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    m.load_state_dict(got["model"])
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    opt.load_state_dict(got["optim"])
    assert type(got["param"]) is torch.nn.Parameter and got["dtype"] is torch.float64


def test_vizgrad_loads_what_torch_saves(tmp_path):
    torch = need_torch()
    obj = _checkpoint(torch)
    path = tmp_path / "from_torch.pt"
    torch.save(obj, path)
    got = vizgrad.load(path)
    assert repr(got) == repr(obj)
    assert type(got["param"]) is vizgrad.nn.Parameter and got["dtype"] is vizgrad.float64
    assert got["model"]._metadata == obj["model"]._metadata
    np.testing.assert_array_equal(got["view"].numpy(), obj["view"].numpy())  # a strided view of a storage
    buf = io.BytesIO()
    torch.save(torch.arange(10.)[2:8:2], buf)  # offset and stride into a larger storage
    buf.seek(0)
    assert vizgrad.load(buf).tolist() == [2.0, 4.0, 6.0]


class _Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _zip_with(pkl: bytes, compression=zipfile.ZIP_STORED) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        z.writestr("archive/data.pkl", pkl)
    buf.seek(0)
    return buf


def test_hostile_pickle_in_a_torch_zip_is_refused(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(pickle.UnpicklingError, match=r"posix\.system.*not one of the names"):
        vizgrad.load(_zip_with(pickle.dumps(_Hostile(marker), protocol=2)))
    assert not marker.exists()


def test_plain_pickle_is_refused(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_Hostile(marker)))
    with pytest.raises(pickle.UnpicklingError, match="plain pickle is refused"):
        vizgrad.load(path)
    assert not marker.exists()


def test_unrestricted_loading_is_refused():
    buf = io.BytesIO()
    vizgrad.save(vizgrad.ones(2), buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=r"weights_only=False\) is not supported"):
        vizgrad.load(buf, weights_only=False)


def test_saving_a_module_is_refused_with_the_fix():
    with pytest.raises(pickle.PicklingError, match=r"Save its state_dict\(\)"):
        vizgrad.save(vizgrad.nn.Linear(2, 2), io.BytesIO())


def test_damaged_files_are_refused_with_the_reason():
    buf = io.BytesIO()
    vizgrad.save({"w": vizgrad.ones(4)}, buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    short = io.BytesIO()
    with zipfile.ZipFile(short, "w") as out:  # the storage record cut to 2 of its 4 floats
        for n in z.namelist():
            out.writestr(n, z.read(n)[:8] if n.endswith("data/0") else z.read(n))
    short.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="holds 2 elements, the pickle says 4"):
        vizgrad.load(short)
    with pytest.raises(pickle.UnpicklingError, match="no <name>/data.pkl"):
        vizgrad.load(_no_pickle())


def _no_pickle():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/version", b"3\n")
    buf.seek(0)
    return buf


def test_storage_records_are_64_byte_aligned():
    buf = io.BytesIO()
    vizgrad.save([vizgrad.ones(3), vizgrad.zeros(5, dtype=vizgrad.float64)], buf)
    z = zipfile.ZipFile(buf)
    for info in z.infolist():
        if "/data/" in info.filename:
            buf.seek(info.header_offset + 26)
            name_len, extra_len = np.frombuffer(buf.read(4), "<u2")
            assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0


def _pickle_setting_state(target: str) -> bytes:
    """A protocol-2 pickle that BUILDs {'name': 'pwned'} onto the global `target` ('torch float32')."""
    return (b"\x80\x02c" + target.replace(" ", "\n").encode() + b"\n}q\x00X\x04\x00\x00\x00nameX\x05\x00\x00\x00pwneds"
            + b"b.")


@pytest.mark.parametrize("target", ["torch float32", "torch FloatStorage"])
def test_a_file_cannot_rewrite_shared_objects(target):
    # BUILD on an allowed global (a dtype, a storage type) would change it for the whole process
    with pytest.raises(pickle.UnpicklingError, match="sets the state of"):
        vizgrad.load(_zip_with(_pickle_setting_state(target)))
    assert repr(vizgrad.float32) == "torch.float32" and vizgrad.float32.name == "float32"


def test_expanded_and_compressed_files_are_refused():
    torch = need_torch()
    buf = io.BytesIO()
    torch.save(torch.ones(1).expand(10 ** 6), buf)  # one stored float, a million-element view
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="more elements than its storage"):
        vizgrad.load(buf)
    ok = io.BytesIO()
    vizgrad.save(vizgrad.ones(3), ok)
    z = zipfile.ZipFile(ok)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as out:
        for n in z.namelist():
            out.writestr(n, z.read(n))
    packed.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="is compressed"):
        vizgrad.load(packed)


def _views(lib):
    """A tensor and views of it: slices, a transpose, a row, an unsqueeze, a reshape."""
    base = lib.arange(12.).view(3, 4)
    return {"base": base, "rows": base[1:], "t": base.t(), "row": base[2], "cols": base[:, ::2],
            "unsq": base[0].unsqueeze(0), "flat": base.view(-1)}


def _shared(lib, got: dict) -> list:
    """Which loaded tensors see a write into got["base"]: those that share its memory."""
    before = {k: v.clone() for k, v in got.items()}
    with lib.no_grad():
        got["base"].add_(100)
    return sorted(k for k in got if k != "base" and not lib.equal(got[k], before[k]))


def test_views_keep_sharing_memory_through_save_and_load_as_in_torch(tmp_path):
    """torch saves one storage for a tensor and its views (offset and strides into it) and the
    loaded tensors share memory again; vizgrad writes and reads the same, either way round."""
    torch = need_torch()
    for writer, reader in ((vizgrad, torch), (torch, vizgrad), (vizgrad, vizgrad), (torch, torch)):
        path = tmp_path / f"{writer.__name__}-{reader.__name__}.pt"
        obj = _views(writer)
        writer.save(obj, path)
        with zipfile.ZipFile(path) as z:
            records = [n for n in z.namelist() if "/data/" in n]
        got = reader.load(path)
        assert {k: v.tolist() for k, v in got.items()} == {k: v.tolist() for k, v in obj.items()}
        assert [got[k].stride() for k in got] == [obj[k].stride() for k in obj]
        assert (len(records), _shared(reader, got)) == (1, sorted(k for k in obj if k != "base")), (writer, reader)


def test_saving_a_small_view_writes_its_whole_storage_as_torch():
    torch = need_torch()
    sizes = []
    for lib in (torch, vizgrad):
        buf = io.BytesIO()
        lib.save(lib.zeros(1000, 10)[:2], buf)
        z = zipfile.ZipFile(buf)
        sizes.append([z.getinfo(n).file_size for n in z.namelist() if "/data/" in n])
        buf.seek(0)
        assert lib.load(buf).shape == (2, 10)
    assert sizes[1] == sizes[0] == [40_000]
