"""Running an update method over a stream of blocks, for row or column updates.

Every method is written for new *rows*: from a rank-k SVD ``A ~ U diag(s) V^T`` and a
block ``E`` (r x n), the rank-k SVD of ``[A; E]``. New *columns* are the same problem
transposed: ``[A, E]^T = [A^T; E^T]`` and ``A^T ~ V diag(s) U^T``, so the driver swaps
``U`` and ``V``, feeds ``E^T`` and swaps the result back.

An updater keeps whatever state suits it (explicit factors, or Brand's products
``U = U0 U'``) and hands out explicit factors only at the steps the task records: that
is what a user of the stream pays for, and a method that keeps products pays for
forming them there, inside the timed call.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

from . import _ops
from ._ops import Array

Factors = tuple[Array, Array, Array]


class Updater(Protocol):
    def update(self, E: Array) -> None: ...

    def factors(self) -> Factors: ...


def run(make: Callable[[Array, Array, Array, int], Updater], U: Array, s: Array, V: Array,
        updates: Sequence[Array], side: str, record: Sequence[int]) -> list[Factors]:
    """Apply ``updates`` in order; return the explicit ``(U, s, V)`` after each step in ``record``.

    ``make(U, s, V, capacity)`` builds the updater; ``capacity`` is the number of rows
    its left factor will reach (``m`` plus all new rows), so that it can preallocate.
    Steps are numbered from 1.
    """
    if side not in ("rows", "columns"):
        raise ValueError(f"side must be 'rows' or 'columns', found {side!r}")
    if side == "columns":
        U, V = V, U
        updates = [_ops.transpose_sparse(E) for E in updates]
    capacity = U.shape[0] + sum(E.shape[0] for E in updates)
    updater = make(U, s, V, capacity)
    wanted, out = set(record), []
    for t, E in enumerate(updates, start=1):
        updater.update(E)
        if t in wanted:
            Ut, st, Vt = updater.factors()
            out.append((Vt, st, Ut) if side == "columns" else (Ut, st, Vt))
    return out


class RowBuffer:
    """A preallocated ``capacity x k`` block whose first ``rows`` rows are in use.

    Appending r rows writes r rows (``O(r k)``), never copies the ones already there:
    a method whose update cost does not grow with ``m`` must not pay ``O(m k)`` for a
    ``vstack`` either.
    """

    def __init__(self, first: Array, capacity: int) -> None:
        self.data = _ops.zeros(first, capacity, first.shape[1])
        self.data[: first.shape[0]] = first
        self.rows = first.shape[0]

    def append(self, new: Array) -> None:
        self.data[self.rows: self.rows + new.shape[0]] = new
        self.rows += new.shape[0]

    def view(self) -> Array:
        return self.data[: self.rows]


def flops_common(inputs: dict[str, Any]) -> tuple[int, int, int, list[int], list[int]]:
    """``(m, n, k, r_t, nnz_t)`` of a problem, rows-oriented (columns are transposed)."""
    U, V, updates = inputs["U"], inputs["V"], inputs["updates"]
    m, n, k = U.shape[0], V.shape[0], U.shape[1]
    if inputs["side"] == "columns":
        m, n = n, m
        r = [E.shape[1] for E in updates]
    else:
        r = [E.shape[0] for E in updates]
    nnz = [int(E.nnz) if _ops.is_sparse(E) else int(E.size) for E in updates]
    return m, n, k, r, nnz
