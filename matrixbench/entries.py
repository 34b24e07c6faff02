"""Entry oracles: a matrix that a method sees only through the entries it evaluates.

Column-sampling methods for kernel matrices (Nyström, randomly pivoted Cholesky, ridge
leverage scores) are judged by accuracy against the number of entries they evaluate: a
kernel matrix of ``10^6`` points is never formed, and each entry costs a kernel
evaluation (Chen, Epperly, Tropp and Webber, "Randomly pivoted Cholesky: practical
approximation of a kernel matrix with few entry evaluations", CPAM 2025, count "entry
evaluations" the same way). A task lists the inputs its methods get as entry oracles
(:attr:`matrixbench.registry.Task.entry_inputs`); the engine hands each call a fresh
:class:`EntryMatrix` over the cast input, and the cell's record gets the metric
``entries``: every entry the method asked for, a block of ``r`` rows and ``c`` columns
counting ``r c``, the diagonal counting ``n``. A method that needs every entry (an SVD, a
pivoted QR) calls :meth:`EntryMatrix.full` and is charged ``m n``.

An input can be

- an explicit matrix (torch tensor or NumPy array, ``(m, n)``; a batch of one is taken as
  its matrix), entries read by indexing;
- a kernel matrix given by its points: ``{"points": X, "kernel": name, "bandwidth": s}``
  (``X`` of shape ``(n, d)``), ``K_ij = k(x_i, x_j)`` with the kernels of :data:`KERNELS`,
  evaluated in the input's dtype and on its device when asked for.

The oracle keeps the points (:attr:`EntryMatrix.points`, :attr:`EntryMatrix.kernel`,
:attr:`EntryMatrix.bandwidth`) for a baseline that evaluates the kernel itself (such a
baseline must :meth:`EntryMatrix.charge` what it evaluated).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

#: the metric every record of an entry-oracle task gets
ENTRIES = "entries"


def _gaussian(D2: Any, s: float, lib: Any) -> Any:
    return lib.exp(-D2 / (2.0 * s * s))


#: ``name: (distance, f)``: ``k(x, y) = f(distance(x, y), bandwidth)``; the distance is the
#: squared Euclidean one (``"sqeuclidean"``) or the l1 one (``"l1"``)
KERNELS: dict[str, tuple[str, Callable[[Any, float, Any], Any]]] = {
    # exp(-||x - y||^2 / (2 s^2))
    "gaussian": ("sqeuclidean", _gaussian),
    # exp(-||x - y||_1 / s), the Laplace kernel of Chen et al. (l1 distance)
    "laplace": ("l1", lambda D, s, lib: lib.exp(-D / s)),
}


def _is_torch(value: Any) -> bool:
    return type(value).__module__.startswith("torch")


def pairwise(X: Any, Y: Any, distance: str) -> Any:
    """Distances between the rows of ``X`` and of ``Y`` (torch or NumPy, in their dtype)."""
    if _is_torch(X):
        import torch

        if distance == "l1":
            return torch.cdist(X, Y, p=1.0)
        sq = (X * X).sum(1)[:, None] + (Y * Y).sum(1)[None, :] - 2.0 * (X @ Y.T)
        return sq.clamp_min(0.0)
    import numpy as np
    from scipy.spatial.distance import cdist

    if distance == "l1":
        return cdist(X, Y, "cityblock").astype(X.dtype, copy=False)
    sq = (X * X).sum(1)[:, None] + (Y * Y).sum(1)[None, :] - 2.0 * (X @ Y.T)
    return np.maximum(sq, 0.0)


def kernel_block(X: Any, Y: Any, kernel: str, bandwidth: float) -> Any:
    """``k(x_i, y_j)`` for the rows of ``X`` and ``Y``."""
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(KERNELS)}")
    distance, f = KERNELS[kernel]
    if _is_torch(X):
        import torch as lib
    else:
        import numpy as lib
    return f(pairwise(X, Y, distance), float(bandwidth), lib)


def is_kernel(value: Any) -> bool:
    return isinstance(value, Mapping) and "points" in value and "kernel" in value


class EntryMatrix:
    """An ``m x n`` matrix read by entries, every evaluated entry counted in :attr:`entries`.

    ``block(rows, cols)`` evaluates ``A[rows][:, cols]``; ``columns``, ``rows``, ``diagonal``
    and ``full`` are its common cases. Indices are integer tensors or arrays (or lists).
    """

    def __init__(self, evaluate: Callable[[Any, Any], Any], diagonal: Callable[[Any], Any], shape: tuple[int, int],
                 dtype: Any, device: Any = "cpu", *, symmetric: bool = False, torch_backend: bool = True):
        self._evaluate = evaluate
        self._diagonal = diagonal
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = dtype
        self.device = device
        self.symmetric = symmetric
        self.torch = torch_backend
        self.entries = 0
        #: the points, kernel name and bandwidth of a kernel matrix (None for an explicit one)
        self.points: Any = None
        self.kernel: str | None = None
        self.bandwidth: float | None = None

    def __repr__(self) -> str:
        return f"EntryMatrix(shape={self.shape}, dtype={self.dtype}, entries={self.entries})"

    def _index(self, idx: Any, size: int) -> Any:
        if idx is None:
            idx = range(size)
        if self.torch:
            import torch

            return torch.as_tensor(list(idx) if isinstance(idx, range) else idx, dtype=torch.long, device=self.device)
        import numpy as np

        return np.asarray(idx, dtype=np.int64)

    def block(self, rows: Any = None, cols: Any = None) -> Any:
        """``A[rows, :][:, cols]`` (all rows or columns where None): ``len(rows) len(cols)`` entries."""
        r, c = self._index(rows, self.shape[0]), self._index(cols, self.shape[1])
        self.entries += int(r.shape[0]) * int(c.shape[0])
        return self._evaluate(r, c)

    def columns(self, cols: Any) -> Any:
        """``A[:, cols]``: ``m len(cols)`` entries."""
        return self.block(None, cols)

    def rows(self, rows: Any) -> Any:
        """``A[rows, :]``: ``len(rows) n`` entries."""
        return self.block(rows, None)

    def diagonal(self, idx: Any = None) -> Any:
        """The diagonal of a square matrix (or its entries ``idx``): one entry each."""
        if self.shape[0] != self.shape[1]:
            raise ValueError(f"a {self.shape[0]} x {self.shape[1]} matrix has no diagonal")
        i = self._index(idx, self.shape[0])
        self.entries += int(i.shape[0])
        return self._diagonal(i)

    def full(self) -> Any:
        """Every entry, ``m n`` of them: for methods that need the whole matrix (an SVD)."""
        return self.block(None, None)

    def charge(self, entries: int) -> None:
        """Count ``entries`` evaluated outside the oracle (a baseline with its own kernel code)."""
        self.entries += int(entries)

    @classmethod
    def of(cls, value: Any) -> "EntryMatrix":
        """The oracle of an input as the engine cast it (see the module docstring)."""
        if isinstance(value, EntryMatrix):
            fresh = cls(value._evaluate, value._diagonal, value.shape, value.dtype, value.device,
                        symmetric=value.symmetric, torch_backend=value.torch)
            fresh.points, fresh.kernel, fresh.bandwidth = value.points, value.kernel, value.bandwidth
            return fresh
        if is_kernel(value):
            return _kernel_oracle(value)
        shape = tuple(getattr(value, "shape", ()))
        if len(shape) == 3 and shape[0] == 1:
            value, shape = value[0], shape[1:]
        if len(shape) != 2:
            raise TypeError(f"an entry oracle needs a matrix or a kernel's points; got {type(value).__name__} "
                            f"of shape {shape}")
        torch_backend = _is_torch(value)
        M = value

        def evaluate(r: Any, c: Any) -> Any:
            return M[r][:, c]

        def diagonal(i: Any) -> Any:
            return M[i, i]

        device = value.device if torch_backend else "cpu"
        return cls(evaluate, diagonal, shape, value.dtype, device, torch_backend=torch_backend)


def _kernel_oracle(value: Mapping[str, Any]) -> EntryMatrix:
    X, kernel, s = value["points"], str(value["kernel"]), float(value["bandwidth"])
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(KERNELS)}")
    torch_backend = _is_torch(X)
    n = int(X.shape[0])

    def evaluate(r: Any, c: Any) -> Any:
        return kernel_block(X[r], X[c], kernel, s)

    def diagonal(i: Any) -> Any:  # k(x, x) = f(0) = 1 for every kernel of KERNELS
        if torch_backend:
            import torch

            return torch.ones(int(i.shape[0]), dtype=X.dtype, device=X.device)
        import numpy as np

        return np.ones(int(i.shape[0]), dtype=X.dtype)

    device = X.device if torch_backend else "cpu"
    out = EntryMatrix(evaluate, diagonal, (n, n), X.dtype, device, symmetric=True, torch_backend=torch_backend)
    out.points, out.kernel, out.bandwidth = X, kernel, s
    return out


def dense(value: Any) -> Any:
    """Every entry of an entry-oracle input as a NumPy array (the reference's and the
    task's float64 view): the matrix itself, or the kernel evaluated in full."""
    import numpy as np

    if is_kernel(value):
        X = np.asarray(value["points"], dtype=np.float64)
        return kernel_block(X, X, str(value["kernel"]), float(value["bandwidth"]))
    A = np.asarray(value, dtype=np.float64)
    return A[0] if A.ndim == 3 and A.shape[0] == 1 else A


def wrap(inputs: Mapping[str, Any], names: tuple[str, ...]) -> tuple[dict[str, Any], list[EntryMatrix]]:
    """``inputs`` with each of ``names`` replaced by a fresh oracle, and those oracles."""
    oracles = {name: EntryMatrix.of(inputs[name]) for name in names}
    return {**inputs, **oracles}, list(oracles.values())
