"""Seeded torch generators: a randomized method's draws depend on its ``seed`` parameter
only (the trials of :mod:`matrixbench.trials` run seeds ``s, s+1, ...``), never on the
global torch state another cell left behind."""

from __future__ import annotations

from typing import Any

import torch


def seeded_generator(seed: int, device: Any) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g
