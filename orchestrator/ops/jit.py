"""Compiled element loops (numba) for the kernels whose cost is the number of numpy calls.

TF's exact float32 tanh/sigmoid/exp take ~25 rounded float steps per element. Written as
numpy calls that is ~25 calls, ~30 us on the 4x5 gate of an RNN cell where TF spends
~1 us; as one compiled loop it is one call. numba compiles plain Python loops over numpy
arrays with LLVM, keeping float32 arithmetic in float32 and every step rounded as written
(no fast-math flags: no reassociation, no fused multiply-add), so the bits are those of
the steps in the source.

Compilation is lazy: numba is imported, and a loop compiled, on the first call, so that
commands that never run a kernel (``ckpt``, ``inspect``) do not pay for it. Compiled code
is cached on disk (numba's ``cache=True``: next to the module, or in the user's cache
directory when the package directory is read-only), so only the first process compiles.
"""
from __future__ import annotations

import functools
import sys
import threading
from typing import Any, Callable

_LOCK = threading.Lock()


class LazyJit:
    """``fn`` compiled with numba's njit on its first call, then called directly."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self._compiled: Callable[..., Any] | None = None
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any) -> Any:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compile()
        return compiled(*args)

    def _compile(self) -> Callable[..., Any]:
        with _LOCK:
            if self._compiled is None:
                import numba  # noqa: PLC0415 - lazy on purpose, see the module docstring

                # error_model="numpy": a float division by zero gives inf/NaN as in numpy,
                # instead of raising as Python's would.
                self._compiled = numba.njit(cache=True, nogil=True, error_model="numpy")(self._fn)
                # Callers that look the loop up as a module global call numba's dispatcher
                # directly from now on (this wrapper's frame is ~10 % of a small call).
                module = sys.modules.get(self._fn.__module__)
                if getattr(module, self._fn.__name__, None) is self:
                    setattr(module, self._fn.__name__, self._compiled)
            return self._compiled


def lazy_njit(fn: Callable[..., Any]) -> LazyJit:
    return LazyJit(fn)
