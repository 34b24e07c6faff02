"""What kind of array a value is: the one home of these tests for the engine and every task.

A method registered with several backends receives NumPy arrays, SciPy sparse matrices
or torch tensors (dense or sparse CSR) and branches on what it got; these helpers say
which, without importing SciPy or torch when the value cannot be one of theirs.
"""

from __future__ import annotations

from typing import Any

#: numpy.ndarray | scipy.sparse matrix or array | torch.Tensor
Array = Any


def is_torch(x: Any) -> bool:
    """A torch tensor (dense or sparse)."""
    return type(x).__module__.startswith("torch")


def is_scipy_sparse(x: Any) -> bool:
    """A SciPy sparse matrix or array."""
    return type(x).__module__.startswith("scipy.sparse")


def is_torch_sparse(x: Any) -> bool:
    """A torch tensor with a sparse layout (CSR, COO, ...)."""
    if not is_torch(x):
        return False
    import torch

    return x.layout != torch.strided


def is_sparse(x: Any) -> bool:
    """Sparse in either library: a SciPy sparse matrix or a sparse torch tensor."""
    return is_scipy_sparse(x) or is_torch_sparse(x)

