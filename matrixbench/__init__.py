"""matrixbench: a benchmark and evaluation harness for ML matrix computations."""

__version__ = "0.1.0"


def load(paths):  # noqa: ANN001, ANN201 - see matrixbench.export.load
    """The cells of run files as a pandas DataFrame (see :func:`matrixbench.export.load`)."""
    from .export import load as _load

    return _load(paths)
