"""Linear operators: a square matrix that a method sees only through products ``A @ V``.

Trace and log-determinant estimators, Krylov eigensolvers and iterative linear solvers
are judged by accuracy against the number of matrix-vector products they ask for, not
only against time (Meyer, Musco, Musco and Woodruff, "Hutch++", SOSA 2021, state every
bound that way). A task lists the inputs its methods get as operators
(:attr:`matrixbench.registry.Task.operators`); the engine hands each call a fresh
:class:`LinearOperator` over the cast input instead of the array, and the cell's record
gets the metric ``matvecs``: the number of vectors multiplied, a block ``A @ V`` with
``k`` columns counting ``k``. A product method that never touches the entries cannot
cheat the count (the diagonal of ``A`` is not free). Methods that are not product methods
(a Cholesky factorization, a Gauss-Seidel sweep, a Jacobi or incomplete-Cholesky
preconditioner) read the entries of an explicit matrix from :attr:`LinearOperator.matrix`;
such a read is not a product, so their docstrings say what they read, and their
``matvecs`` count only the products they ask for besides.

An input can be

- a dense matrix (torch tensor or NumPy array, ``(n, n)``);
- a sparse matrix (torch sparse CSR/COO or SciPy sparse);
- an implicit Gram matrix ``J^T J + shift I``: a dict ``{"gram_factor": J, "shift": s}``
  (``J`` of shape ``(m, n)``), applied as ``J^T (J V) + s V`` without forming it: the
  Gauss-Newton matrix of a model, whose Jacobian is what one has;
- any callable ``V -> A V`` wrapped with :meth:`LinearOperator.implicit`.

Products are symmetric (``A^T V = A V``) unless ``symmetric=False``: the tasks that use
operators so far (trace, eigenvalues and solves of symmetric matrices) need no more.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

#: the metric every record of an operator task gets
MATVECS = "matvecs"


class LinearOperator:
    """A square ``n x n`` matrix applied to vectors or blocks, every product counted.

    ``A @ V`` for ``V`` of shape ``(n,)`` or ``(n, k)`` (or ``(batch, n, k)``: each column of
    each batch counts); :attr:`products` is the running count.
    """

    def __init__(self, matmul: Callable[[Any], Any], n: int, dtype: Any, device: Any = "cpu", *,
                 symmetric: bool = True):
        self._matmul = matmul
        self.n = int(n)
        self.shape = (self.n, self.n)
        self.dtype = dtype
        self.device = device
        self.symmetric = symmetric
        self.products = 0
        #: the data rows ``J`` of an implicit ``J^T J`` (None otherwise): what a streaming method
        #: reads one row at a time instead of asking for products (Oja's update)
        self.factor: Any = None
        #: the entries of an explicit matrix (dense or sparse, None for a factored or implicit
        #: one): what a method that is not a product method reads (a Cholesky factorization,
        #: a Gauss-Seidel sweep, a Jacobi diagonal); reading it counts no products
        self.matrix: Any = None

    def __matmul__(self, V: Any) -> Any:
        if V.shape[0 if V.ndim == 1 else -2] != self.n:
            raise ValueError(f"operator of shape {self.shape} applied to a block of shape {tuple(V.shape)}")
        self.products += 1 if V.ndim == 1 else int(V.shape[-1]) * (int(V.shape[0]) if V.ndim == 3 else 1)
        return self._matmul(V)

    def __repr__(self) -> str:
        return f"LinearOperator(n={self.n}, dtype={self.dtype}, device={self.device}, products={self.products})"

    def scipy(self) -> Any:
        """This operator as a ``scipy.sparse.linalg.LinearOperator`` (symmetric: ``rmatvec`` is
        the product); its products still go through, and are counted by, this operator."""
        from scipy.sparse.linalg import LinearOperator as SciPyOperator

        return SciPyOperator(self.shape, matvec=lambda v: self @ v, matmat=lambda V: self @ V,
                             rmatvec=lambda v: self @ v, dtype=self.dtype)

    @classmethod
    def implicit(cls, fn: Callable[[Any], Any], n: int, dtype: Any, device: Any = "cpu",
                 symmetric: bool = True) -> "LinearOperator":
        """An operator from a function ``V -> A V``."""
        return cls(fn, n, dtype, device, symmetric=symmetric)

    @classmethod
    def of(cls, value: Any) -> "LinearOperator":
        """The operator of an input as the engine cast it (see the module docstring)."""
        if isinstance(value, LinearOperator):
            fresh = cls(value._matmul, value.n, value.dtype, value.device, symmetric=value.symmetric)
            fresh.factor, fresh.matrix = value.factor, value.matrix
            return fresh
        if isinstance(value, Mapping) and "gram_factor" in value:
            return _gram(value["gram_factor"], float(value.get("shift", 0.0)))
        shape = getattr(value, "shape", None)
        if shape is None or len(shape) != 2 or shape[0] != shape[1]:
            raise TypeError(f"a linear operator needs a square matrix; got {type(value).__name__} of shape {shape}")
        if _is_torch(value):
            import torch

            if value.layout != torch.strided:
                op = cls(lambda V: _torch_sparse_mm(value, V), shape[0], value.dtype, value.device)
            else:
                op = cls(lambda V: value @ V, shape[0], value.dtype, value.device)
        else:
            op = cls(lambda V: value @ V, shape[0], value.dtype, "cpu")
        op.matrix = value
        return op


def _gram(J: Any, shift: float) -> LinearOperator:
    """``V -> J^T (J V) + shift V``: two products with the factor, never the ``n x n`` matrix."""

    def apply(V: Any) -> Any:
        out = J.mT @ (J @ V) if _is_torch(J) else J.T @ (J @ V)
        return out + shift * V if shift else out

    op = LinearOperator(apply, J.shape[-1], J.dtype, getattr(J, "device", "cpu"))
    op.factor = J
    return op


def _torch_sparse_mm(A: Any, V: Any) -> Any:
    import torch

    if V.ndim == 1:
        return torch.mv(A, V) if A.layout == torch.sparse_csr else torch.sparse.mm(A, V[:, None])[:, 0]
    if V.ndim == 3:
        return torch.stack([A @ v for v in V])
    return A @ V


def _is_torch(value: Any) -> bool:
    return type(value).__module__.startswith("torch")


def dense(value: Any) -> Any:
    """The matrix of an operator input as a NumPy array (float64 inputs: the reference and
    the tasks' checks): the array itself, a sparse matrix densified, a factored or implicit
    one formed by ``n`` products (counted when ``value`` is the method's operator)."""
    import numpy as np
    import scipy.sparse as sp

    if isinstance(value, np.ndarray):
        return value
    if sp.issparse(value):
        return value.toarray()
    op = value if isinstance(value, LinearOperator) else LinearOperator.of(value)
    return np.asarray(op @ np.eye(op.n, dtype=op.dtype))


def wrap(inputs: Mapping[str, Any], names: tuple[str, ...]) -> tuple[dict[str, Any], list[LinearOperator]]:
    """``inputs`` with each of ``names`` replaced by a fresh operator, and those operators."""
    ops = {name: LinearOperator.of(inputs[name]) for name in names}
    return {**inputs, **ops}, list(ops.values())
