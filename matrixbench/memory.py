"""Peak memory of one call.

CPU (Linux): the growth of the process's peak resident set during the call. Before the
call, garbage is collected (the worker has frozen the objects of its imports, so this walks
only what cells created) and freed heap memory is returned to the OS (``malloc_trim``) so
that reused pages show up, the resident-set high-water mark is reset (``echo 5 > /proc/self/clear_refs``), and
after the call ``VmHWM - VmRSS(before)`` is the peak extra memory the call touched,
including its output and the buffers of BLAS, LAPACK and PyTorch, which ``tracemalloc``
would miss. It counts pages, so it is exact to about 4 KiB per allocation; memory
that a library keeps cached from an earlier call and reuses is not counted again.
Elsewhere the figure is ``None`` with the reason.

CUDA: the caching allocator's peak (``torch.cuda.max_memory_allocated``) minus what was
allocated before the call, after ``reset_peak_memory_stats``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any, Callable

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _status_kib(field: str) -> int:
    with open(_STATUS) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in {_STATUS}")


@cache
def _libc() -> ctypes.CDLL | None:
    # once per process: find_library runs `ldconfig -p` in a subprocess (3 ms a call)
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _malloc_trim() -> None:
    try:
        _libc().malloc_trim(0)  # type: ignore[union-attr]
    except AttributeError:
        pass


def cpu_peak(call: Callable[[], Any]) -> tuple[Any, int | None, str]:
    """Run ``call`` once; return (output, peak extra bytes or None, method description)."""
    gc.collect()
    _malloc_trim()
    try:
        before = _status_kib("VmRSS")
        with open(_CLEAR_REFS, "w") as f:
            f.write("5")
    except OSError as exc:
        return call(), None, f"unavailable ({exc})"
    out = call()
    peak = _status_kib("VmHWM")
    return out, max(0, peak - before) * 1024, "rss_high_water_mark"


def cuda_peak(call: Callable[[], Any]) -> tuple[Any, int | None, str]:
    import torch

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    out = call()
    torch.cuda.synchronize()
    return out, max(0, torch.cuda.max_memory_allocated() - before), "cuda_allocator_peak"
