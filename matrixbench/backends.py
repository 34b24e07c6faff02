"""Moving inputs to a method's backend, dtype and device, and outputs back to float64.

The engine knows backends (numpy, torch), never tasks. Inputs are dicts of float64
numpy arrays, SciPy sparse matrices and plain scalars; outputs may be arrays/tensors or
tuples, lists and dicts of them, and come back as float64 numpy arrays on the CPU for
scoring. A sparse input stays sparse: SciPy CSR in the cell's dtype for the numpy
backend, a torch CSR tensor for the torch backend.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .arrays import is_scipy_sparse, is_torch
from .registry import WithInfo


def device_available(backend: str, device: str) -> str | None:
    """None when ``device`` can run ``backend`` here, else the reason it cannot."""
    if device == "cpu":
        return None
    if backend != "torch":
        return f"the {backend} backend runs on the CPU only"
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if device == "cuda" and not torch.cuda.is_available():
        return "no CUDA device is available on this machine"
    return None


def _torch_dtype(dtype: str) -> Any:
    import torch

    return getattr(torch, dtype)


def has_sparse(value: Any) -> bool:
    """True when ``value`` holds a sparse matrix anywhere (recursively)."""
    if isinstance(value, dict):
        return any(has_sparse(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_sparse(v) for v in value)
    return is_scipy_sparse(value)


def as_float64(value: Any) -> Any:
    """A generator's output as float64: C-contiguous arrays, CSR matrices with sorted
    indices, dicts and tuples of them (recursively); other values unchanged."""
    if isinstance(value, dict):
        return {k: as_float64(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(as_float64(v) for v in value)
    if is_scipy_sparse(value):
        import scipy.sparse as sp

        csr = sp.csr_matrix(value, dtype=np.float64)
        csr.sort_indices()
        return csr
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return np.ascontiguousarray(np.asarray(value, dtype=np.float64))


def nbytes(value: Any) -> int:
    """Bytes held by the arrays and tensors in ``value`` (recursively, in their own dtype):
    a sparse matrix counts its values, indices and row pointers, i.e. its own memory, not
    that of its dense equivalent."""
    if isinstance(value, WithInfo):
        return nbytes(value.value)
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(nbytes(v) for v in value)
    if is_scipy_sparse(value):
        csr = value.tocsr()
        return int(csr.data.nbytes + csr.indices.nbytes + csr.indptr.nbytes)
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if is_torch(value) and hasattr(value, "layout"):
        if value.layout == _strided():
            return int(value.numel() * value.element_size())
        parts = (value.values(), value.crow_indices(), value.col_indices()) if hasattr(value, "crow_indices") and \
            value.layout == _sparse_csr() else (value.coalesce().values(), value.coalesce().indices())
        return sum(int(t.numel() * t.element_size()) for t in parts)
    return 0


def _sparse_to_backend(value: Any, backend: str, dtype: str, device: str) -> Any:
    csr = value.tocsr().astype(np.dtype(dtype) if dtype != "bfloat16" else np.float32, copy=True)
    csr.indices, csr.indptr = csr.indices.copy(), csr.indptr.copy()
    if backend != "torch":
        return csr
    import warnings

    import torch

    with warnings.catch_warnings():  # "sparse CSR support is in beta": once per cell, says nothing new
        warnings.filterwarnings("ignore", message=".*[Ss]parse CSR tensor support is in beta.*")
        return torch.sparse_csr_tensor(
            torch.from_numpy(csr.indptr.astype(np.int64)),
            torch.from_numpy(csr.indices.astype(np.int64)),
            torch.from_numpy(csr.data),
            size=csr.shape,
            check_invariants=True,  # O(nnz) once per cell; an invalid CSR would segfault later
        ).to(device=device, dtype=_torch_dtype(dtype))


def readonly(value: Any) -> Any:
    """``value`` with every NumPy array in it (sparse parts too) made read-only: the
    inputs a worker keeps for all the cells of a problem, which no method may alter."""
    if isinstance(value, dict):
        return {k: readonly(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(readonly(v) for v in value)
    parts = (value.data, value.indices, value.indptr) if is_scipy_sparse(value) and hasattr(value, "indptr") else (value,)
    for part in parts:
        if isinstance(part, np.ndarray):
            part.flags.writeable = False
    return value


def float_dtypes(value: Any) -> list[str]:
    """Names of the floating dtypes of the arrays and tensors in ``value`` (recursively)."""
    if isinstance(value, WithInfo):
        return float_dtypes(value.value)
    if isinstance(value, dict):
        return [d for v in value.values() for d in float_dtypes(v)]
    if isinstance(value, (list, tuple)):
        return [d for v in value for d in float_dtypes(v)]
    if isinstance(value, np.ndarray) or is_scipy_sparse(value):
        return [str(value.dtype)] if value.dtype.kind == "f" else []
    if is_torch(value) and hasattr(value, "is_floating_point"):
        return [str(value.dtype).removeprefix("torch.")] if value.is_floating_point() else []
    return []


def to_backend(value: Any, backend: str, dtype: str, device: str) -> Any:
    """A private copy of ``value`` with its float arrays cast (recursively) to the cell's
    dtype and device: never a view of the caller's arrays, so that a method writing into
    its input cannot alter them."""
    if is_scipy_sparse(value):
        return _sparse_to_backend(value, backend, dtype, device)
    if isinstance(value, dict):
        return {k: to_backend(v, backend, dtype, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_backend(v, backend, dtype, device) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if backend == "torch":
            import torch

            return torch.from_numpy(np.array(value, order="C")).to(device=device, dtype=_torch_dtype(dtype))
        return np.array(value, dtype=np.dtype(dtype), order="C")
    if isinstance(value, np.ndarray) and backend == "torch":
        import torch

        return torch.from_numpy(np.array(value, order="C")).to(device=device)
    if isinstance(value, np.ndarray):
        return np.array(value, order="C")
    return value


def to_float64(value: Any) -> Any:
    """Bring an output (recursively) back to float64 numpy arrays on the CPU."""
    if isinstance(value, dict):
        return {k: to_float64(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_float64(v) for v in value)
    if is_scipy_sparse(value):
        return as_float64(value)
    if is_torch(value):
        if value.layout != _strided():  # a sparse output stays sparse: SciPy CSR
            return _torch_sparse_to_scipy(value)
        return value.detach().to(device="cpu").double().numpy() if value.is_floating_point() else value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.astype(np.float64) if value.dtype.kind in "fiu" else value
    if isinstance(value, (int, float, np.floating, np.integer)):
        return float(value)
    return value


def split_info(output: Any) -> tuple[Any, dict[str, float]]:
    if isinstance(output, WithInfo):
        return output.value, {k: float(v) for k, v in output.info.items()}
    return output, {}


def _strided() -> Any:
    import torch

    return torch.strided


def _sparse_csr() -> Any:
    import torch

    return torch.sparse_csr


def _torch_sparse_to_scipy(value: Any) -> Any:
    import scipy.sparse as sp

    csr = value.detach().to(device="cpu").to_sparse_csr()
    return as_float64(sp.csr_matrix((csr.values().double().numpy(), csr.col_indices().numpy(),
                                     csr.crow_indices().numpy()), shape=tuple(csr.shape)))


def all_finite(value: Any) -> bool:
    if is_scipy_sparse(value):
        return bool(np.isfinite(value.data).all())
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(all_finite(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return bool(np.isfinite(value).all())
    if isinstance(value, float):
        return bool(np.isfinite(value))
    return True


def synchronizer(backend: str, device: str) -> Callable[[], None]:
    """A function that waits until the device has finished queued work."""
    if backend == "torch" and device == "cuda":
        import torch

        return torch.cuda.synchronize
    return lambda: None
