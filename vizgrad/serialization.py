"""torch.save / torch.load in torch's own file format, loaded safely (torch's weights_only rules).

    import vizgrad as torch
    torch.save(model.state_dict(), "model.pt")         # real torch can torch.load this file
    model.load_state_dict(torch.load("model.pt"))      # and we read files real torch saved
    torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.pt")

The file is torch's zip archive (torch >= 1.6): `<name>/data.pkl`, a protocol-2 pickle in which each
tensor is `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)` and
each storage a persistent id ('storage', torch.FloatStorage, key, 'cpu', numel) whose bytes are the
record `<name>/data/<key>` (little endian, 64-byte aligned), plus the small version records.

Loading never runs arbitrary pickled code: the unpickler resolves only the globals a file of
tensors, state dicts and optimizer states needs (the rebuild functions, storage types, dtypes,
torch.Size, OrderedDict, a few builtins); any other global (os.system, a model class ...) stops
the load with an UnpicklingError naming it. weights_only=False is refused for the same reason.
Saving a whole nn.Module (rather than its state_dict) is refused too: torch pickles the class by
reference and only an unrestricted load could read it back.
Tensors that share memory (a view and its base, two views of one tensor) are saved as torch saves
them: one storage each memory block, with each tensor's offset and strides into it; after a load
they share memory again, in torch and here (so saving a small view of a big tensor writes the big
one, as in torch: clone() it first).
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import secrets
import struct
import zipfile

import numpy as np

from vizgrad import _dtype
from vizgrad.tensor import Size, Tensor

__all__ = ["save", "load"]

_STORAGE = {d.name: d.tensor_type.replace("Tensor", "Storage") for d in _dtype.ALL}  # 'float32' -> 'FloatStorage'
_STORAGE_DTYPE = {v: _dtype._by_name(k) for k, v in _STORAGE.items()}
_ALIGN = 64


# -- saving ----------------------------------------------------------------------------------------
class _Global:
    """A name in torch's namespace, pickled as the GLOBAL `module name` without importing torch."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle wants reduce functions callable; never called here
        raise TypeError(f"{self.module}.{self.name} is a name in a saved file, not a function")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_ORDERED_DICT = collections.OrderedDict


class _Storage:
    def __init__(self, key: str, arr: np.ndarray):
        self.key, self.arr = key, arr


class _Pickler(pickle._Pickler):  # the Python pickler: its dispatch table takes our _Global
    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages: list[_Storage] = []
        self._blocks: dict[int, _Storage] = {}  # id(root array) -> its storage: views share it

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            name = _STORAGE[_dtype.from_numpy_dtype(obj.arr.dtype).name]
            return ("storage", _Global("torch", name), obj.key, "cpu", int(obj.arr.size))
        return None

    def reducer_override(self, obj):
        from vizgrad.nn.parameter import Parameter  # nn imports the engine: import when first saving
        from vizgrad.nn.module import Module
        if isinstance(obj, Parameter):
            return _REBUILD_PARAMETER, (Tensor._make(obj._data), obj.requires_grad, _ORDERED_DICT())
        if isinstance(obj, Tensor):
            return self._plain(obj)
        if isinstance(obj, Size):
            return _Global("torch", "Size"), (tuple(obj),)
        if isinstance(obj, Module):
            raise pickle.PicklingError(
                f"vizgrad.save does not save a whole module ({type(obj).__name__}): reading it back would need "
                "unrestricted unpickling. Save its state_dict() and load_state_dict() it into a new instance.")
        return NotImplemented

    def _plain(self, t: Tensor):
        """The reduce tuple of a plain tensor: (storage, offset, size, stride) into the storage of the
        memory block it views (numpy's base chain), or into a contiguous copy of its own."""
        arr = np.asarray(t._data)
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        item = arr.itemsize
        where = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        # a dimension of one element may carry any stride (numpy gives unsqueeze's new axis 0): say 1
        strides = [st if n > 1 else (st if st > 0 and st % item == 0 else item) for n, st in zip(arr.shape, arr.strides)]
        if (root is not arr and root.flags.c_contiguous and root.dtype == arr.dtype and arr.dtype.byteorder != ">"
                and where >= 0 and where % item == 0 and all(st > 0 and st % item == 0 for st in strides)):
            storage = self._blocks.get(id(root))
            if storage is None:
                storage = self._blocks[id(root)] = self._storage(root.reshape(-1))
            return _REBUILD_TENSOR, (storage, where // item, tuple(arr.shape), tuple(st // item for st in strides),
                                     t.requires_grad, _ORDERED_DICT())
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        if arr.base is None:  # a tensor whose own memory other tensors may view
            storage = self._blocks.get(id(arr))
            if storage is None:
                storage = self._blocks[id(arr)] = self._storage(arr.reshape(-1))
        else:
            storage = self._storage(arr.reshape(-1))
        stride, n = [], 1
        for dim in reversed(arr.shape):
            stride.append(n)
            n *= dim
        return _REBUILD_TENSOR, (storage, 0, tuple(arr.shape), tuple(reversed(stride)), t.requires_grad,
                                 _ORDERED_DICT())

    def _storage(self, flat: np.ndarray) -> _Storage:
        storage = _Storage(str(len(self.storages)), flat)
        self.storages.append(storage)
        return storage

    def save_torch_global(self, obj: _Global):
        self.write(pickle.GLOBAL + obj.module.encode() + b"\n" + obj.name.encode() + b"\n")
        self.memoize(obj)

    def save_dtype(self, obj: _dtype.dtype):  # torch.float32 is the GLOBAL `torch float32`
        self.save_torch_global(_Global("torch", obj.name))

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[_Global] = save_torch_global
    dispatch[_dtype.dtype] = save_dtype


def _aligned_extra(offset: int, name: str) -> bytes:
    """A zip extra field padding the local header so the record's data starts on a 64-byte boundary."""
    pad = -(offset + 30 + len(name.encode()) + 4) % _ALIGN
    return b"FB" + struct.pack("<H", pad) + b"Z" * pad


def save(obj, f, pickle_module=None, pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """torch.save: `obj` (tensors, state dicts, optimizer states, containers of numbers and strings)
    to a path or a binary file object, in torch's zip format."""
    buf = io.BytesIO()
    pickler = _Pickler(buf, pickle_protocol)
    pickler.dump(obj)
    if isinstance(f, (str, os.PathLike)):
        name = os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
        with open(f, "wb") as fh:
            _write_zip(fh, name, buf.getvalue(), pickler.storages)
    else:
        _write_zip(f, "archive", buf.getvalue(), pickler.storages)


def _write_zip(fh, name: str, pkl: bytes, storages: list) -> None:
    records = [("data.pkl", pkl), (".format_version", b"1"), (".storage_alignment", str(_ALIGN).encode()),
               ("byteorder", b"little")]
    records += [(f"data/{s.key}", s.arr.tobytes()) for s in storages]
    records += [("version", b"3\n"), (".data/serialization_id", str(secrets.randbits(128)).zfill(40).encode())]
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as z:
        for rec, data in records:
            info = zipfile.ZipInfo(f"{name}/{rec}", date_time=(1980, 1, 1, 0, 0, 0))
            info.extra = _aligned_extra(z.fp.tell(), info.filename)
            z.writestr(info, data)


# -- loading ---------------------------------------------------------------------------------------
def _rebuild_tensor(storage: np.ndarray, offset: int, size, stride, requires_grad=False, hooks=None, *_):
    size, stride = tuple(size), tuple(stride)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))  # the last element's index
    if all(size) and (offset < 0 or min(stride, default=0) < 0 or last >= storage.size):
        raise pickle.UnpicklingError(f"a tensor of size {list(size)} and stride {list(stride)} at offset {offset} "
                                     f"does not fit its storage of {storage.size} elements")
    numel = int(np.prod(size, dtype=np.int64))
    if numel > storage.size:  # stride-0 (expanded) tensors would be copied out at full size: refuse
        raise pickle.UnpicklingError(f"a tensor of size {list(size)} has more elements than its storage "
                                     f"({storage.size}); vizgrad does not load expanded tensors")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=[s * item for s in stride])
    # tensors of one storage share its memory after loading, as in torch; overlapping strides
    # (a stride 0 on a dimension of more than one element) would make writes alias: copy those
    overlaps = any(st == 0 and n > 1 for n, st in zip(size, stride))
    t = Tensor._make(np.array(view) if overlaps else view)
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild_parameter(data: Tensor, requires_grad: bool, hooks=None, *_):
    from vizgrad.nn.parameter import Parameter
    return Parameter(data, requires_grad)


class _StorageType:
    def __init__(self, name: str):
        self.dtype = _STORAGE_DTYPE[name]


def _allowed_globals() -> dict:
    allowed = {("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
               ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
               ("torch", "Size"): Size,
               ("collections", "OrderedDict"): collections.OrderedDict,
               ("collections", "Counter"): collections.Counter,
               ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "complex"): complex,
               ("builtins", "slice"): slice,
               ("__builtin__", "set"): set}
    allowed.update({("torch", name): _StorageType(name) for name in _STORAGE_DTYPE})
    allowed.update({("torch", d.name): d for d in _dtype.ALL})
    return allowed


_ALLOWED = _allowed_globals()


class _Unpickler(pickle._Unpickler):  # the Python unpickler: its BUILD opcode can be restricted
    def __init__(self, file, records: zipfile.ZipFile, prefix: str):
        super().__init__(file)
        self.records, self.prefix, self.loaded = records, prefix, {}

    def load_build(self):
        # BUILD sets an object's state. Only a freshly built OrderedDict may get one (a state_dict's
        # _metadata): on anything else (a dtype, a storage type: shared objects of this process) a
        # hostile file could rewrite it.
        state, inst = self.stack[-1], self.stack[-2]
        if type(inst) is not collections.OrderedDict or not isinstance(state, dict) or set(state) - {"_metadata"}:
            raise pickle.UnpicklingError(f"refused to load: the file sets the state of a {type(inst).__name__}; "
                                         "only a state_dict's _metadata may be set")
        super().load_build()

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = load_build

    def find_class(self, module, name):
        found = _ALLOWED.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(
                f"refused to load: the file calls {module}.{name}, which is not one of the names a file of tensors, "
                "state dicts and optimizer states uses (torch's weights_only=True rules). vizgrad never unpickles "
                "arbitrary objects: only load files you trust, and save state_dict()s rather than objects.")
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"refused to load: unknown persistent id {pid!r:.80}")
        _, stype, key, location, numel = pid
        if key not in self.loaded:
            try:
                raw = self.records.read(f"{self.prefix}data/{key}")
            except KeyError:
                raise pickle.UnpicklingError(f"the file has no storage record data/{key}") from None
            arr = np.frombuffer(raw, dtype=stype.dtype.np.newbyteorder("<")).astype(stype.dtype.np)
            if arr.size != numel:
                raise pickle.UnpicklingError(f"storage data/{key} holds {arr.size} elements, the pickle says {numel}")
            self.loaded[key] = arr
        return self.loaded[key]


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """torch.load of a file in torch's zip format (written by torch.save or vizgrad.save), under
    torch's weights_only rules: tensors, Parameters, dicts/OrderedDicts, lists, tuples, numbers,
    strings, dtypes, torch.Size. map_location may name the CPU (the only device here)."""
    if weights_only is False:
        raise pickle.UnpicklingError("vizgrad.load(weights_only=False) is not supported: vizgrad never unpickles "
                                     "arbitrary objects. Save and load state_dict()s instead.")
    if map_location not in (None, "cpu") and not callable(map_location) and str(map_location) != "cpu" \
            and not isinstance(map_location, dict):
        raise RuntimeError(f"vizgrad runs on the CPU only; got map_location={map_location!r}")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return _load(fh)
    return _load(f)


def _load(fh):
    if not zipfile.is_zipfile(fh):
        raise pickle.UnpicklingError("not a torch.save file: vizgrad reads torch's zip format (torch >= 1.6); "
                                     "a plain pickle is refused (loading it could run arbitrary code)")
    fh.seek(0)
    with zipfile.ZipFile(fh) as z:
        packed = [i.filename for i in z.infolist() if i.compress_type != zipfile.ZIP_STORED]
        if packed:  # torch stores every record uncompressed; a compressed one could be a zip bomb
            raise pickle.UnpicklingError(f"not a torch.save file: record {packed[0]} is compressed")
        pkl = [n for n in z.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
        if not pkl:
            raise pickle.UnpicklingError("not a torch.save file: the archive has no <name>/data.pkl record")
        prefix = pkl[0][:-len("data.pkl")]
        return _Unpickler(io.BytesIO(z.read(pkl[0])), z, prefix).load()
