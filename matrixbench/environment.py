"""The environment a run records: machine, software, BLAS, threads, git."""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_name() -> str:
    """The host name, reduced to characters safe in a file path."""
    name = os.environ.get("MATRIXBENCH_MACHINE") or socket.gethostname() or "unknown"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:64].strip(".") or "unknown"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _gpus() -> list[dict[str, Any]]:
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    out = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        out.append({"name": props.name, "memory_bytes": props.total_memory,
                    "capability": f"{props.major}.{props.minor}", "cuda": torch.version.cuda})
    return out


def _blas() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer", "architecture", "filepath")}
            for p in threadpool_info()]


def _git(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "branch": None, "dirty": None, "date": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(status), "date": git("show", "-s", "--format=%cI", "HEAD")}


def collect(root: Path | None = None) -> dict[str, Any]:
    """Everything a reader needs to reproduce or trust a run's numbers."""
    import psutil

    root = root or Path(__file__).resolve().parent.parent
    torch_info: dict[str, Any] = {}
    try:
        import torch

        torch_info = {"version": torch.__version__, "threads": torch.get_num_threads(),
                      "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available()}
    except ImportError:
        pass
    return {
        "machine": {
            "name": machine_name(),
            "cpu": _cpu_model(),
            "arch": platform.machine(),
            "cores_physical": psutil.cpu_count(logical=False),
            "cores_logical": psutil.cpu_count(logical=True),
            "memory_bytes": psutil.virtual_memory().total,
            "os": platform.platform(),
            "gpus": _gpus(),
        },
        "software": {
            "python": sys.version.split()[0],
            "matrixbench": _version("matrixbench"),
            "numpy": _version("numpy"),
            "scipy": _version("scipy"),
            "torch": torch_info,
        },
        "blas": _blas(),
        "git": _git(root),
    }
