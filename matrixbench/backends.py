"""Moving inputs to a method's backend, dtype and device, and outputs back to float64.

The engine knows backends (numpy, torch), never tasks. Inputs are dicts of float64
numpy arrays and plain scalars; outputs may be arrays/tensors or tuples, lists and dicts
of them, and come back as float64 numpy arrays on the CPU for scoring.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

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


def to_backend(value: Any, backend: str, dtype: str, device: str) -> Any:
    """Cast float arrays in ``value`` (recursively) to the cell's dtype and device."""
    if isinstance(value, dict):
        return {k: to_backend(v, backend, dtype, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_backend(v, backend, dtype, device) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if backend == "torch":
            import torch

            return torch.from_numpy(np.ascontiguousarray(value)).to(device=device, dtype=_torch_dtype(dtype))
        return np.ascontiguousarray(value, dtype=np.dtype(dtype))
    if isinstance(value, np.ndarray) and backend == "torch":
        import torch

        return torch.from_numpy(np.ascontiguousarray(value)).to(device=device)
    return value


def to_float64(value: Any) -> Any:
    """Bring an output (recursively) back to float64 numpy arrays on the CPU."""
    if isinstance(value, dict):
        return {k: to_float64(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_float64(v) for v in value)
    if type(value).__module__.startswith("torch"):
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


def all_finite(value: Any) -> bool:
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
