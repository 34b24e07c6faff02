"""matrixbench: a benchmark and evaluation harness for ML matrix computations."""

__version__ = "0.1.0"
