"""nn.Module: parameters, buffers and submodules in registration order, as torch keeps them.

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(3, 2)      # registered as submodule "fc1"
        def forward(self, x):
            return torch.sigmoid(self.fc1(x))

Storage: like torch, `_parameters`, `_buffers` and `_modules` are ordered dicts; unlike torch,
each entry is mirrored into the instance `__dict__`, so `self.fc1` is a plain attribute read
rather than a `__getattr__` fallback (a hot path in every forward).

Module-call tagging (for the graph view): while a module runs, every grad_fn node created by
that call gets `node.scope`, a tuple of "<qualified name>:<ClassName>" strings, outermost first
(the outermost module called is named ""). `__call__` pushes the scope on `STATE.call_stack` (vizgrad._grad_mode)
and `Op.apply` tags each node it records with the innermost one.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict, namedtuple
from typing import Iterator

import numpy as np

from vizgrad import _dtype
from vizgrad._grad_mode import STATE
from vizgrad.nn.parameter import Buffer, Parameter
from vizgrad.tensor import Tensor

# -- module-call stack and qualified names ------------------------------------------------------

_STRUCTURE_VERSION = [0]      # bumped whenever any module gains/loses a submodule
_NAME_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # root -> (version, {id: "name:Class"})


def _scope_names(root: "Module") -> dict:
    """id(module) -> "<qualified name>:<ClassName>" for every module under `root` (cached)."""
    hit = _NAME_CACHE.get(root)
    if hit is not None and hit[0] == _STRUCTURE_VERSION[0]:
        return hit[1]
    names = {}
    for name, m in root.named_modules():
        names.setdefault(id(m), f"{name}:{type(m).__name__}")
    _NAME_CACHE[root] = (_STRUCTURE_VERSION[0], names)
    return names


def _addindent(s_: str, num_spaces: int) -> str:
    s = s_.split("\n")
    if len(s) == 1:
        return s_
    first = s.pop(0)
    s = [(num_spaces * " ") + line if line.strip() else "" for line in s]
    return first + "\n" + "\n".join(s)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _RemovableHandle:
    def __init__(self, d: dict, key):
        self._d, self._key = d, key

    def remove(self):
        self._d.pop(self._key, None)


_HOOK_ID = [0]


class Module:
    training: bool
    _version = 1
    _scope_memo = None
    call_super_init = False

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}

    def forward(self, *input):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # -- calling ------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        stack = STATE.call_stack  # per thread; Op.apply tags each node it records with the top
        memo = self._scope_memo   # (parent scope or names, (scope, names)): a forward pass calls the
        if stack:                 # same modules in the same places every time, so reuse the entry
            top = stack[-1]
            if memo is None or memo[0] is not top[0]:
                memo = self._remember_scope(top)
        else:
            names = _scope_names(self)
            if memo is None or memo[0] is not names:
                memo = self.__dict__["_scope_memo"] = (names, ((f":{type(self).__name__}",), names))
        stack.append(memo[1])
        try:
            if self._forward_pre_hooks or self._forward_hooks:
                return self._call_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            stack.pop()

    def _remember_scope(self, top) -> tuple:
        parent, names = top
        entry = names.get(id(self))
        if entry is None:  # a module outside the outermost one's tree
            entry = f"?:{type(self).__name__}"
        memo = self.__dict__["_scope_memo"] = (parent, (parent + (entry,), names))
        return memo

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            r = hook(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        result = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            r = hook(self, args, result)
            if r is not None:
                result = r
        return result

    _call_impl = __call__

    def register_forward_hook(self, hook):
        _HOOK_ID[0] += 1
        self._forward_hooks[_HOOK_ID[0]] = hook
        return _RemovableHandle(self._forward_hooks, _HOOK_ID[0])

    def register_forward_pre_hook(self, hook):
        _HOOK_ID[0] += 1
        self._forward_pre_hooks[_HOOK_ID[0]] = hook
        return _RemovableHandle(self._forward_pre_hooks, _HOOK_ID[0])

    # -- attribute registration -------------------------------------------------------------------
    def __setattr__(self, name: str, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._drop(name)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, None)
            return
        if isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._drop(name)
            self.add_module(name, value)
            return
        modules = d.get("_modules")
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            modules[name] = None
            d[name] = None
            _STRUCTURE_VERSION[0] += 1
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer):
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self._drop(name)
            self.register_buffer(name, value, persistent=value.persistent)
            return
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                                "(torch.Tensor or None expected)")
            buffers[name] = value
            d[name] = value
            return
        object.__setattr__(self, name, value)

    def _drop(self, name):
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                del reg[name]
                if key == "_modules":
                    _STRUCTURE_VERSION[0] += 1
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str):
        # only reached when normal lookup fails (registered members live in __dict__ too)
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str):
        d = self.__dict__
        if any(name in d.get(k, ()) for k in ("_parameters", "_buffers", "_modules")):
            self._drop(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError('parameter name can\'t contain "."')
        if name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if name in d and name not in d["_parameters"]:
            raise KeyError(f"attribute '{name}' already exists")
        d["_parameters"][name] = param
        d[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        d = self.__dict__
        if "_buffers" not in d:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if name in d and name not in d["_buffers"]:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        d["_buffers"][name] = tensor
        d[name] = tensor
        if persistent:
            d["_non_persistent_buffers_set"].discard(name)
        else:
            d["_non_persistent_buffers_set"].add(name)

    def add_module(self, name: str, module) -> None:
        d = self.__dict__
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        if name in d and name not in d["_modules"]:
            raise KeyError(f"attribute '{name}' already exists")
        d["_modules"][name] = module
        d[name] = module
        _STRUCTURE_VERSION[0] += 1

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"{type(mod).__name__} has no buffer `{name}`")
        return mod._buffers[name]

    # -- iteration ------------------------------------------------------------------------------
    def _named_members(self, get, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_children(self):
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from m.named_modules(memo, sub, remove_duplicate)

    # -- modes, grads, transforms -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p._grad is not None:
                if set_to_none:
                    p._grad = None
                else:
                    p._grad.grad_fn = None
                    p._grad._requires_grad = False
                    p._grad._ensure_array()[...] = 0

    def apply(self, fn) -> "Module":
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, fn) -> "Module":
        for m in self.modules():
            for name, p in list(m._parameters.items()):
                if p is not None:
                    p._data = fn(p._ensure_array())
                    if p._grad is not None:
                        p._grad._data = fn(p._grad._ensure_array())
            for name, b in list(m._buffers.items()):
                if b is not None:
                    b._data = fn(b._ensure_array())
        return self

    def to(self, *args, **kwargs) -> "Module":
        dt = kwargs.get("dtype", next((a for a in args if isinstance(a, _dtype.dtype)), None))
        if dt is None:
            return self
        return self._apply_to_tensors(lambda a: a.astype(dt.np) if a.dtype.kind == "f" else a)

    def float(self) -> "Module":
        return self._apply_to_tensors(lambda a: a.astype(np.float32) if a.dtype.kind == "f" else a)

    def double(self) -> "Module":
        return self._apply_to_tensors(lambda a: a.astype(np.float64) if a.dtype.kind == "f" else a)

    def half(self) -> "Module":
        return self._apply_to_tensors(lambda a: a.astype(np.float16) if a.dtype.kind == "f" else a)

    def cpu(self) -> "Module":
        return self

    def cuda(self, device=None) -> "Module":
        raise RuntimeError("vizgrad runs on the CPU only")

    def share_memory(self) -> "Module":
        return self

    # -- state dict -----------------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        if args:  # legacy positional (destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = {"version": self._version}
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        missing, unexpected, errors = [], [], []
        expected = set()
        for mprefix, m in self.named_modules():
            pre = mprefix + "." if mprefix else ""
            local = list(m._parameters.items()) + [(n, b) for n, b in m._buffers.items()
                                                   if n not in m._non_persistent_buffers_set]
            for name, t in local:
                if t is None:
                    continue
                key = pre + name
                expected.add(key)
                if key not in state_dict:
                    missing.append(key)
                    continue
                src = state_dict[key]
                arr = src._data if isinstance(src, Tensor) else np.asarray(src)
                if np.shape(arr) != t._data.shape:
                    errors.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{_size_repr(np.shape(arr))} from checkpoint, the shape in current model is "
                                  f"{_size_repr(t._data.shape)}.")
                    continue
                if assign and isinstance(src, Tensor):
                    if isinstance(t, Parameter) and not isinstance(src, Parameter):
                        src = Parameter(src, t._requires_grad)
                    setattr(m, name, src)
                else:
                    dst = t._ensure_array()
                    np.copyto(dst, np.asarray(arr), casting="unsafe")
                    t._version += 1
        for key in state_dict.keys():
            if key not in expected:
                unexpected.append(key)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # -- printing -------------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra_lines = []
        extra = self.extra_repr()
        if extra:
            extra_lines = extra.split("\n")
        child_lines = []
        for key, module in self._modules.items():
            mod_str = _addindent(repr(module), 2)
            child_lines.append("(" + key + "): " + mod_str)
        lines = extra_lines + child_lines
        main_str = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main_str += extra_lines[0]
            else:
                main_str += "\n  " + "\n  ".join(lines) + "\n"
        return main_str + ")"

    def __dir__(self):
        keys = list(dir(type(self))) + list(self.__dict__.keys())
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)


def _size_repr(shape) -> str:
    return f"torch.Size({list(shape)})"


def _type_name(v) -> str:
    if isinstance(v, Tensor):
        return f"torch.{v.dtype.tensor_type}"
    return type(v).__name__
