"""Run PyTorch code unchanged on vizgrad: `import torch` (and every `torch.<sub>`) becomes vizgrad.

    python -m vizgrad.as_torch program.py [args...]     # a PyTorch script, on vizgrad
    python -m vizgrad.as_torch -c "import torch; print(torch.ones(2))"

    from vizgrad import as_torch
    as_torch.install()            # from now on in this process, `import torch.nn as nn` is vizgrad.nn

The alias is an import hook (a meta path finder placed first on sys.meta_path): a name `torch` or
`torch.a.b` is served by the module `vizgrad` or `vizgrad.a.b`, the very same module object, so
`torch.nn is vizgrad.nn`. A torch submodule vizgrad does not have fails like a missing module:
ModuleNotFoundError: No module named 'torch.xyz'. Engine layer: imports nothing but the stdlib.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import runpy
import sys

ALIAS, TARGET = "torch", "vizgrad"


def _target_name(fullname: str) -> str | None:
    """'torch' -> 'vizgrad', 'torch.nn.functional' -> 'vizgrad.nn.functional', else None."""
    if fullname == ALIAS:
        return TARGET
    if fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS):]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Hands back the already imported vizgrad module instead of executing anything."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        self.own = (self.module.__spec__, getattr(self.module, "__loader__", None))
        return self.module

    def exec_module(self, module):
        # Nothing to run (the module ran when imported as vizgrad.*), but the import system has just
        # set its __spec__/__loader__ to the alias's: give the module back its own identity.
        module.__spec__, module.__loader__ = self.own


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        name = _target_name(fullname)
        if name is None:
            return None
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and (e.name == name or name.startswith(e.name + ".")):
                return None  # torch.<missing>: let the import system say "No module named 'torch.<...>'"
            raise
        spec = importlib.util.spec_from_loader(fullname, _AliasLoader(module),
                                               is_package=hasattr(module, "__path__"))
        return spec


def install() -> None:
    """Make `import torch...` resolve to vizgrad in this process (idempotent)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
    for name in [n for n in sys.modules if _target_name(n) is not None]:
        if not sys.modules[name].__name__.startswith(TARGET):
            del sys.modules[name]  # a real torch imported earlier would shadow the alias


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1])  # the usage lines
        return
    install()
    if argv[0] == "-c":
        code = argv[1] if len(argv) > 1 else ""
        sys.argv = ["-c", *argv[2:]]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})  # the user's own process
        return
    sys.argv = argv
    runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
