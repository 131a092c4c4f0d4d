"""Running code right after a module has been imported, wherever that happens.

The worker configures PyTorch (no TF32, deterministic algorithms) and sets up
its autograd watch as soon as torch exists in the process, which may be at
preload, when the submission imports it, or in the middle of a graded call.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Callable


class AfterImport:
    """A meta path finder that runs callbacks once `name` has finished importing.

    One finder per name holds every callback for it: the first finder that
    answers for a name is the only one the import system asks.
    """

    def __init__(self, name: str, callback: Callable[[], None]) -> None:
        self.name = name
        self.callbacks = [callback]

    def find_spec(self, name, path=None, target=None):
        if name != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        loader, callbacks = spec.loader, self.callbacks

        class Loader(type(loader)):  # the real loader, then the callbacks
            def exec_module(self, module):
                loader.exec_module(module)
                for callback in list(callbacks):
                    callback()

        spec.loader = Loader.__new__(Loader)
        spec.loader.__dict__.update(loader.__dict__)
        return spec


def when_imported(name: str, callback: Callable[[], None]) -> AfterImport | None:
    """Call callback now if name is loaded, else right after it is; returns the finder to remove later."""
    if name in sys.modules:
        callback()
        return None
    for finder in sys.meta_path:
        if isinstance(finder, AfterImport) and finder.name == name:
            finder.callbacks.append(callback)
            return finder
    finder = AfterImport(name, callback)
    sys.meta_path.insert(0, finder)
    return finder


def forget(finder: AfterImport | None) -> None:
    """Remove finder, and with it every callback still waiting for its module."""
    if finder is not None and finder in sys.meta_path:
        sys.meta_path.remove(finder)


def reproducible_torch(torch) -> None:
    """No TF32, and deterministic algorithms where PyTorch has them.

    torch.use_deterministic_algorithms also configures the inductor compiler,
    which costs a 1.7 s import of torch._inductor; nothing here compiles, so
    the switch it wraps is called directly when it exists.
    """
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    switch = getattr(torch._C, "_set_deterministic_algorithms", None)
    if switch is not None:
        switch(True, warn_only=True)
    else:
        torch.use_deterministic_algorithms(True, warn_only=True)
