"""Reference: the full matrix ``M`` itself (planted, or the real matrix before entries were
hidden). It is the one method that sees the hidden input; it costs nothing to compute."""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.registry import method


@method("completion", "reference", kind="reference", backends=("numpy",), dtypes=("float64",))
def reference(observed: np.ndarray, mask: np.ndarray, rank: int, M: np.ndarray) -> np.ndarray:
    """``M`` (a copy: the engine's inputs are read-only)."""
    return np.array(M, dtype=np.float64)
