"""The sketching operator's interface and the backend plumbing its kinds share.

A ``SketchOperator`` is a fixed random ``k x n`` matrix ``S``, drawn from its seed when it
is built (or lazily, block by block, for the Gaussian): ``apply(A)`` returns ``S @ A`` for
``A`` of shape ``(n, d)`` given as a torch tensor (dense or sparse CSR, any device) or a
NumPy array / SciPy sparse matrix; ``matrix()`` returns ``S`` explicitly (for tests and
small problems).

Determinism: the operator is a function of ``(kind, k, n, seed, nnz, backend, dtype,
device type)`` only, never of ``A``: two operators built with one seed are the same
matrix, so ``A`` and ``B`` sketched on their own, by different processes, are sketched by
the same ``S`` (coordinated sampling and sketched products rely on this). The torch
backend draws with ``torch.Generator`` on the operator's device (CPU and CUDA streams
differ), the NumPy backend with ``numpy.random.default_rng`` (PCG64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.arrays import is_scipy_sparse, is_torch, is_torch_sparse


def substream(seed: int, *tags: int) -> int:
    """A 63-bit seed for the stream ``tags`` of ``seed`` (SeedSequence mixing, so that
    nearby seeds and tags give unrelated streams)."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, *[int(t) for t in tags]])
    return int(state.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


class SketchOperator:
    """``S`` (``k x n``); subclasses fill ``_apply_*`` and ``matrix``."""

    kind: str = ""

    def __init__(
        self,
        k: int,
        n: int,
        *,
        seed: int,
        backend: str = "torch",
        dtype: Any = None,
        device: Any = None,
    ) -> None:
        if k < 1 or n < 1:
            raise ValueError(f"sketch sizes must be positive; got k={k}, n={n}")
        if backend not in ("torch", "numpy"):
            raise ValueError(f"backend must be 'torch' or 'numpy'; got {backend!r}")
        self.k, self.n, self.seed, self.backend = int(k), int(n), int(seed), backend
        if backend == "torch":
            import torch

            self.dtype = dtype if dtype is not None else torch.get_default_dtype()
            self.device = torch.device(device if device is not None else "cpu")
        else:
            if device not in (None, "cpu"):
                raise ValueError("the numpy backend runs on the CPU only")
            self.dtype = np.dtype(dtype if dtype is not None else np.float64)
            self.device = "cpu"

    # -- randomness -----------------------------------------------------------------
    def _torch_generator(self, *tags: int) -> Any:
        import torch

        g = torch.Generator(device=self.device)
        g.manual_seed(substream(self.seed, *tags))
        return g

    def _numpy_rng(self, *tags: int) -> np.random.Generator:
        return np.random.default_rng(substream(self.seed, *tags))

    # -- application ----------------------------------------------------------------
    def apply(self, A: Any) -> Any:
        """``S @ A`` for ``A`` of shape ``(n, d)`` (a vector ``(n,)`` gives ``(k,)``),
        in ``A``'s dtype; dense output whatever ``A``'s layout."""
        vector = len(A.shape) == 1
        if vector:
            if is_scipy_sparse(A) or (is_torch(A) and is_torch_sparse(A)):
                raise ValueError("sparse inputs must be matrices (n, d)")
            A = A[:, None]
        if A.shape[0] != self.n:
            raise ValueError(f"{self.kind} sketch of size {self.k} x {self.n} cannot apply to shape {tuple(A.shape)}")
        if is_torch(A):
            if self.backend != "torch":
                raise TypeError("a numpy-backend operator applies to NumPy arrays and SciPy sparse matrices")
            if A.device.type != self.device.type:
                raise ValueError(f"operator on {self.device}, input on {A.device}")
            out = self._apply_torch_sparse(A) if is_torch_sparse(A) else self._apply_torch(A)
        else:
            if self.backend != "numpy":
                raise TypeError("a torch-backend operator applies to torch tensors")
            out = self._apply_scipy_sparse(A) if is_scipy_sparse(A) else self._apply_numpy(np.asarray(A))
        return out[:, 0] if vector else out

    __matmul__ = apply

    def _apply_torch(self, A: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply_torch_sparse(self, A: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply_numpy(self, A: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply_scipy_sparse(self, A: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def matrix(self) -> Any:  # pragma: no cover - abstract
        """``S`` as a dense ``k x n`` array/tensor in the operator's dtype."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k}, n={self.n}, seed={self.seed}, backend={self.backend!r})"


def torch_csr_rows(A: Any, r0: int, r1: int, crow_host: Any) -> Any:
    """Rows ``r0:r1`` of a torch sparse CSR matrix, as a CSR tensor (no copy of the
    untouched rows). ``crow_host`` is ``A.crow_indices()`` on the CPU (one transfer)."""
    import torch

    p0, p1 = int(crow_host[r0]), int(crow_host[r1])
    crow = A.crow_indices()[r0 : r1 + 1] - p0
    return torch.sparse_csr_tensor(
        crow, A.col_indices()[p0:p1], A.values()[p0:p1], size=(r1 - r0, A.shape[1]),
        check_invariants=False,  # rows of a valid CSR: valid; the check would be timed
    )
